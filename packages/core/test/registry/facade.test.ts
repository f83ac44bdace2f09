import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { trainOptionsSchema } from '../../src/index.js';
import { openMemoryRegistry } from './helpers.js';

const iris = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));

describe('what the example apps use from core', () => {
  it('readManifest answers MODEL.json of a version or a run without loading the model, and refuses altered bytes', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', iris);
    const { run } = await registry.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree', params: { maxDepth: 3 } },
      register: { name: 'iris' },
    });
    const manifest = await registry.readManifest('models:/iris/1');
    expect(manifest).toMatchObject({
      task: 'classification',
      target: 'species',
      trainer: { name: 'decision-tree' },
    });
    expect(manifest.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(await registry.readManifest(`runs:/${run.id}/model`)).toEqual(manifest);

    const record = (await registry.getVersion('iris', 1))!.files.find((f) => f.path === 'MODEL.json')!;
    const bytes = (await registry.stores.artifacts.get(record.key))!;
    await registry.stores.artifacts.put(
      record.key,
      Buffer.from(bytes).toString('utf8').replace('species', 'specie5'),
    );
    const error = await registry.readManifest('models:/iris/1').catch((e: unknown) => e);
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toContain('model "iris" version 1: file "MODEL.json"');
  });

  it('trainOptionsSchema is the schema train validates with', async () => {
    const ok = { dataset: 'iris', target: 'species', model: { type: 'decision-tree' } };
    expect(trainOptionsSchema.parse(ok)).toMatchObject({ ...ok, experiment: 'Default', split: {}, tags: {} });
    expect(trainOptionsSchema.safeParse({ ...ok, typo: 1 }).success).toBe(false);
    const registry = await openMemoryRegistry();
    await expect(registry.train({ ...ok, typo: 1 } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('getOrCreateExperiment (tracking over HTTP creates experiments with it)', () => {
  it('creates an experiment once: the same name answers the same experiment, in parallel too', async () => {
    const registry = await openMemoryRegistry();
    const [a, b] = await Promise.all([
      registry.getOrCreateExperiment('churn'),
      registry.getOrCreateExperiment('churn'),
    ]);
    expect(a).toEqual(b);
    expect(await registry.getOrCreateExperiment('churn')).toEqual(a);
    expect((await registry.listExperiments()).map((e) => e.name)).toEqual(['churn']);
    const run = await registry.startRun({ experiment: 'churn' });
    expect((await run.info()).experimentId).toBe(a.id);
  });

  it('a bad name is INVALID_ARGUMENT and creates nothing', async () => {
    const registry = await openMemoryRegistry();
    for (const name of ['', '../x', 'a'.repeat(129)]) {
      await expect(registry.getOrCreateExperiment(name)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await registry.listExperiments()).toEqual([]);
  });
});
