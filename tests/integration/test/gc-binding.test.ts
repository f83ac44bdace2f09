import { readFileSync } from 'node:fs';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ArtifactStore } from '@modelreg/core';
import { ModelRegistry } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { irisCsv, openDev, tempDir } from './registries.js';

/** A dev registry with a dataset and a trained model in production; returns its folder and artifact keys. */
async function populatedDevRegistry(): Promise<{ dir: string; keys: string[] }> {
  const dir = tempDir('bind');
  const registry = await openDev(dir);
  await registry.datasets.upload('iris.csv', readFileSync(irisCsv));
  await registry.train({
    dataset: 'iris',
    target: 'species',
    model: { type: 'decision-tree' },
    register: { name: 'iris', stage: 'production' },
  });
  const keys = (await registry.stores.artifacts.list('')).map((o) => o.key);
  await registry.close();
  return { dir, keys };
}

const artifactsOf = (dir: string): ArtifactStore => createFsArtifactStore({ root: join(dir, 'artifacts') });

async function expectRefusedAndUntouched(
  registry: ModelRegistry,
  keys: string[],
  reason: RegExp,
): Promise<void> {
  for (const dryRun of [true, false]) {
    const result = await registry.gc({ gracePeriodMs: 0, dryRun });
    expect(result.deleted).toEqual([]);
    expect(result.refused).toMatch(reason);
  }
  expect((await registry.stores.artifacts.list('')).map((o) => o.key)).toEqual(keys);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('gc never runs against a metadata store that is not the artifacts’ own', () => {
  it('a truncated SQLite file: open warns, gc deletes nothing and says why, and the registry loads again once the file is back', async () => {
    const { dir, keys } = await populatedDevRegistry();
    const db = join(dir, 'registry.db');
    const saved = readFileSync(db);
    await truncate(db, 0);
    await rm(`${db}-wal`, { force: true });
    await rm(`${db}-shm`, { force: true });
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const registry = await openDev(dir);
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('the metadata store is empty'), {
      code: 'MODELREG_STORES_NOT_BOUND',
    });
    await expectRefusedAndUntouched(
      registry,
      keys,
      /metadata store is empty but the artifact store belongs to registry/,
    );
    await registry.close();
    await writeFile(db, saved);
    const restored = await openDev(dir);
    expect(
      await restored.predict('models:/iris/production', [
        { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
      ]),
    ).toEqual(['setosa']);
    expect((await restored.gc({ gracePeriodMs: 0 })).refused).toBeUndefined();
    await restored.close();
  });

  it("a wrong MODELREG_DIR: another registry's SQLite file next to this artifact folder", async () => {
    const mine = await populatedDevRegistry();
    const other = await populatedDevRegistry();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const registry = await ModelRegistry.open({
      metadata: createSqliteMetadataStore({ filename: join(other.dir, 'registry.db') }),
      artifacts: artifactsOf(mine.dir),
    });
    await expectRefusedAndUntouched(
      registry,
      mine.keys,
      /belongs to registry [0-9a-f]{32} but the artifact store to registry [0-9a-f]{32}/,
    );
    await registry.close();
  });

  describe.skipIf(!pgReachable)('Postgres', () => {
    const schemas: string[] = [];
    afterAll(async () => {
      const pool = adminPool();
      for (const schema of schemas) await dropSchema(pool, schema);
      await pool.end();
    });

    it('a new, empty Postgres schema next to an existing artifact folder', async () => {
      const { dir, keys } = await populatedDevRegistry();
      const schema = randomSchema('mr_bind');
      schemas.push(schema);
      vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const registry = await ModelRegistry.open({
        metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
        artifacts: artifactsOf(dir),
      });
      await expectRefusedAndUntouched(registry, keys, /metadata store is empty/);
      await registry.close();
    });
  });
});
