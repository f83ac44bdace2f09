import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@modelreg/core';
import { ModelRegistry, copyModelVersion } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import type { Injector } from '../../../test-utils/inject.js';
import { describeStep, everyStep, registryState, trainRegisterScenario } from '../../../test-utils/inject.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { irisCsv, tempDir } from './registries.js';

/**
 * Issue 11, acceptance 2 on the real adapters: a failure injected at each store call of
 * train-with-register and of copyModelVersion leaves the registry exactly as it was, on SQLite +
 * files and on Postgres + files.
 */
const iris = readFileSync(irisCsv);
const rows = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
  { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
];
const small = { type: 'decision-tree', params: { maxDepth: 4 } };
const pool = adminPool();
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

const metadataStores: Record<string, () => MetadataStore> = {
  'SQLite + files': () => createSqliteMetadataStore({ filename: join(tempDir('atomic'), 'registry.db') }),
};
// Outside CI an unreachable database skips loudly (pg-env warns); in CI it fails the run.
if (pgReachable) {
  metadataStores['Postgres + files'] = () => {
    const schema = randomSchema('mr_atomic');
    schemas.push(schema);
    return createPostgresMetadataStore({ connectionString: pgUrl, schema });
  };
}

async function open(injector: Injector, label: string, metadata: MetadataStore): Promise<ModelRegistry> {
  return ModelRegistry.open({
    metadata: injector.wrap(`${label}.metadata`, metadata),
    artifacts: injector.wrap(`${label}.artifacts`, createFsArtifactStore({ root: tempDir('atomic-files') })),
  });
}

describe.each(Object.entries(metadataStores))('%s', (_name, createMetadata) => {
  const opened: ModelRegistry[] = [];
  afterAll(async () => {
    for (const registry of opened.splice(0)) await registry.close();
  });

  it('train with register: a failure at any store call leaves no run, no version, no stage or alias move', async () => {
    await everyStep(
      async (injector) => {
        const target = await open(injector, 'registry', createMetadata());
        opened.push(target);
        const operation = await trainRegisterScenario(target, iris);
        return { target, operation };
      },
      async (target, before, step) => {
        expect(await registryState(target), `after a failure at ${describeStep(step)}`).toEqual(before);
        expect(await target.predict('models:/iris@champion', rows)).toEqual(['setosa', 'virginica']);
      },
    );
  });

  it('copyModelVersion from SQLite: a failure at any store call of either registry leaves the target as it was', async () => {
    await everyStep(
      async (injector) => {
        const source = await open(injector, 'source', createSqliteMetadataStore({ filename: ':memory:' }));
        opened.push(source);
        await source.datasets.upload('iris.csv', iris);
        for (const register of [{ name: 'iris', stage: 'staging' }, { name: 'iris' }]) {
          await source.train({
            experiment: 'iris',
            dataset: 'iris',
            target: 'species',
            model: small,
            register,
          });
        }
        const target = await open(injector, 'target', createMetadata());
        opened.push(target);
        await copyModelVersion(source, target, { name: 'iris', version: 1, stage: 'production' });
        const operation = () =>
          copyModelVersion(source, target, {
            name: 'iris',
            version: 2,
            stage: 'production',
            archiveExisting: true,
            alias: 'champion',
          });
        return { target, operation };
      },
      async (target, before, step) => {
        expect(await registryState(target), `after a failure at ${describeStep(step)}`).toEqual(before);
        expect(await target.predict('models:/iris/production', rows)).toEqual(['setosa', 'virginica']);
      },
    );
  });
});
