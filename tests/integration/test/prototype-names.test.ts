import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry, isRegistryError } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { devStores, tempDir } from './registries.js';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const keyed = <V>(value: (key: string) => V): Record<string, V> =>
  Object.fromEntries(NAMES.map((key) => [key, value(key)]));
const entries = (record: Record<string, unknown>) =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (isRegistryError(e) ? e.code : String(e)),
  );

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const backends: Array<[string, boolean, () => Promise<ModelRegistry>]> = [
  [
    'SQLite + files',
    true,
    async () => {
      const dir = tempDir('names');
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      return ModelRegistry.open(devStores(dir));
    },
  ],
  [
    'Postgres + files',
    pgReachable,
    async () => {
      const dir = tempDir('names-pg');
      const schema = randomSchema('mr_names');
      cleanups.push(async () => {
        const admin = adminPool(1);
        await dropSchema(admin, schema);
        await admin.end();
        rmSync(dir, { recursive: true, force: true });
      });
      return ModelRegistry.open({
        metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
        artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
      });
    },
  ],
];

describe.each(backends)('Object.prototype names through the registry on %s', (_, reachable, open) => {
  it.runIf(reachable)('are ordinary model, alias, tag, param and metric names', async () => {
    const registry = await open();
    try {
      const run = await registry.startRun({ experiment: 'constructor', tags: keyed((k) => `r-${k}`) });
      await run.logArtifact('model/MODEL.json', '{}');
      await run.logParams(keyed((k) => k.length));
      await run.logMetrics(keyed((k) => k.length / 10));
      await run.end();
      const info = (await registry.getRun(run.id))!;
      expect(entries(info.tags)).toEqual(entries(keyed((k) => `r-${k}`)));
      expect(entries(info.params)).toEqual(entries(keyed((k) => String(k.length))));
      expect(entries(info.latestMetrics)).toEqual(entries(keyed((k) => k.length / 10)));
      const found = await registry.searchRuns({
        experiment: 'constructor',
        where: {
          params: Object.fromEntries([['__proto__', 9]]),
          tags: Object.fromEntries([['__proto__', 'r-__proto__']]),
        },
      });
      expect(found.runs.map((r) => r.id)).toEqual([run.id]);

      for (const name of NAMES) {
        await registry.createModel(name, { tags: keyed((k) => `m-${k}`) });
        expect(entries((await registry.getModel(name))!.tags)).toEqual(entries(keyed((k) => `m-${k}`)));
        await registry.registerModel(name, { runId: run.id, tags: keyed((k) => `v-${k}`) });
        expect(entries((await registry.getVersion(name, 1))!.tags)).toEqual(entries(keyed((k) => `v-${k}`)));
        for (const alias of NAMES) {
          expect(await codeOf(registry.resolve(`models:/${name}@${alias}`))).toBe('NOT_FOUND');
          await registry.setAlias(name, alias, 1);
          expect((await registry.resolve(`models:/${name}@${alias}`)).modelVersion?.version).toBe(1);
        }
        expect(entries((await registry.getModel(name))!.aliases)).toEqual(entries(keyed(() => 1)));
        expect((await registry.resolve(`models:/${name}/latest`)).modelVersion?.name).toBe(name);
      }
    } finally {
      await registry.close();
    }
  });
});
