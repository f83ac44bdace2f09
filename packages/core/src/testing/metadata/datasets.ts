import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import {
  aliasChange,
  at,
  eventsAfter,
  expectCode,
  experiment,
  file,
  newDataset,
  newRun,
  newVersion,
  seedDataset,
  seedModel,
  seedRuns,
  sha,
} from './fixtures.js';

export function datasetTests(ctx: SuiteContext): void {
  it('the first dataset version is 1 and keeps every field', async () => {
    const store = ctx.store();
    const input = newDataset('iris', 1);
    const result = await store.createDatasetVersion(input);
    const expected = { ...input, version: 1, deletedAt: null };
    expect(result).toEqual({ dataset: expected, created: true });
    expect(await store.getDataset('iris')).toEqual(expected);
    expect(await store.getDataset('iris', 1)).toEqual(expected);
  });

  it('the same sha256 returns the existing version with created false and appends no event', async () => {
    const store = ctx.store();
    const first = await seedDataset(store, 'iris', 1);
    const seq = await store.lastEventSeq();
    const again = await store.createDatasetVersion(
      newDataset('iris', 1, { originalName: 'copy.csv', createdAt: at(999) }),
    );
    expect(again).toEqual({ dataset: first, created: false });
    expect(await store.listDatasetVersions('iris')).toEqual([first]);
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('a new sha256 creates the next version; get returns the latest or the one asked for', async () => {
    const store = ctx.store();
    await seedDataset(store, 'iris', 1);
    const second = await store.createDatasetVersion(newDataset('iris', 2));
    expect(second.created).toBe(true);
    expect(second.dataset.version).toBe(2);
    expect((await store.getDataset('iris'))?.sha256).toBe(sha(2));
    expect((await store.getDataset('iris', 1))?.sha256).toBe(sha(1));
    expect(await store.getDataset('iris', 3)).toBeNull();
    expect(await store.getDataset('nope')).toBeNull();
  });

  it('listDatasets returns the latest live version of every dataset sorted by name', async () => {
    const store = ctx.store();
    await seedDataset(store, 'wine', 1);
    await seedDataset(store, 'iris', 2);
    await seedDataset(store, 'iris', 3);
    await seedDataset(store, 'adult', 4);
    await seedDataset(store, 'gone', 5);
    await store.deleteDataset('gone', undefined, at(9));
    expect((await store.listDatasets()).map((d) => [d.name, d.version])).toEqual([
      ['adult', 1],
      ['iris', 2],
      ['wine', 1],
    ]);
  });

  it('deleting one dataset version hides it and the latest falls back to the previous one', async () => {
    const store = ctx.store();
    for (const seed of [1, 2, 3]) await seedDataset(store, 'iris', seed);
    await store.deleteDataset('iris', 3, at(9));
    await store.deleteDataset('iris', 1, at(9));
    expect(await store.getDataset('iris', 3)).toBeNull();
    expect((await store.getDataset('iris'))?.version).toBe(2);
    expect((await store.listDatasetVersions('iris')).map((d) => d.version)).toEqual([2]);
    expect((await store.listDatasets()).map((d) => d.version)).toEqual([2]);
  });

  it('deleting a dataset without a version hides every version', async () => {
    const store = ctx.store();
    for (const seed of [1, 2]) await seedDataset(store, 'iris', seed);
    await seedDataset(store, 'wine', 3);
    await store.deleteDataset('iris', undefined, at(9));
    expect(await store.getDataset('iris')).toBeNull();
    expect(await store.listDatasetVersions('iris')).toEqual([]);
    expect((await store.listDatasets()).map((d) => d.name)).toEqual(['wine']);
  });

  it('deleting a missing dataset or version is NOT_FOUND', async () => {
    const store = ctx.store();
    await seedDataset(store, 'iris', 1);
    await expectCode(store.deleteDataset('nope', undefined, at(9)), 'NOT_FOUND');
    await expectCode(store.deleteDataset('iris', 5, at(9)), 'NOT_FOUND');
    await store.deleteDataset('iris', 1, at(9));
    await expectCode(store.deleteDataset('iris', 1, at(10)), 'NOT_FOUND');
    await expectCode(store.deleteDataset('iris', undefined, at(10)), 'NOT_FOUND');
  });

  it('dataset version numbers are never reused, and a deleted sha256 uploaded again is a new version', async () => {
    const store = ctx.store();
    await seedDataset(store, 'iris', 1);
    await seedDataset(store, 'iris', 2);
    await store.deleteDataset('iris', 2, at(9));
    const third = await store.createDatasetVersion(newDataset('iris', 2));
    expect(third).toMatchObject({ created: true, dataset: { version: 3, sha256: sha(2), deletedAt: null } });
    expect((await store.listDatasetVersions('iris')).map((d) => d.version)).toEqual([1, 3]);
  });
}

export function referencedKeyTests(ctx: SuiteContext): void {
  it('listReferencedKeys returns run artifact, version file and dataset keys, deleted ones included', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.recordRunArtifacts('run-001', [file('plots/roc.png', 1), file('model/MODEL.json', 2)]);
    await seedModel(store, 'iris');
    await store.createVersion(
      newVersion('iris', { files: [file('MODEL.json', 3, 'runs/run-001/artifacts/model')] }),
    );
    await store.createVersion(newVersion('iris', { files: [file('v2.json', 4, 'models/iris/2')] }));
    await store.deleteVersion('iris', 2, at(9));
    await seedModel(store, 'gone');
    await store.createVersion(newVersion('gone', { files: [file('g.json', 5, 'models/gone/1')] }));
    await store.deleteModel('gone', at(9));
    await seedDataset(store, 'adult', 6);
    await seedDataset(store, 'adult', 7);
    await store.deleteDataset('adult', undefined, at(9));
    const keys = [...new Set(await store.listReferencedKeys())].sort();
    expect(keys).toEqual(
      [
        'runs/run-001/artifacts/plots/roc.png',
        'runs/run-001/artifacts/model/MODEL.json',
        'models/iris/2/v2.json',
        'models/gone/1/g.json',
        `datasets/adult/${sha(6)}.csv`,
        `datasets/adult/${sha(7)}.csv`,
      ].sort(),
    );
  });

  it('listReferencedKeys is empty for an empty store', async () => {
    expect(await ctx.store().listReferencedKeys()).toEqual([]);
  });

  it('returned objects are copies: mutating them does not change the store', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1, { tags: { a: '1' } }));
    (await store.getExperiment('exp-001'))!.tags.a = 'changed';
    (await store.listExperiments())[0]!.tags.a = 'changed';
    expect((await store.getExperiment('exp-001'))?.tags).toEqual({ a: '1' });

    const run = await store.createRun(newRun(1, { tags: { a: '1' } }));
    await store.logParams('run-001', { p: '1' });
    await store.logMetrics('run-001', [{ key: 'm', value: 1, step: 0, timestamp: at(1) }]);
    run.tags.a = 'changed';
    const read = (await store.getRun('run-001'))!;
    read.params.p = 'changed';
    read.latestMetrics.m = 99;
    (await store.getMetricHistory('run-001', 'm'))[0]!.value = 99;
    await store.recordRunArtifacts('run-001', [file('a.txt', 1)]);
    (await store.listRunArtifacts('run-001'))[0]!.sha256 = 'x';
    expect(await store.getRun('run-001')).toMatchObject({
      tags: { a: '1' },
      params: { p: '1' },
      latestMetrics: { m: 1 },
    });
    expect((await store.getMetricHistory('run-001', 'm'))[0]?.value).toBe(1);
    expect((await store.listRunArtifacts('run-001'))[0]?.sha256).toBe(sha(1));

    await seedModel(store, 'iris', 1);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    (await store.getModel('iris'))!.aliases.champion = 9;
    const version = (await store.getVersion('iris', 1))!;
    version.aliases.push('fake');
    version.files[0]!.sha256 = 'x';
    (await store.getHistory('iris'))[0]!.actor = 'mallory';
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 1 });
    expect(await store.getVersion('iris', 1)).toMatchObject({
      aliases: ['champion'],
      files: [{ sha256: sha(7) }],
    });
    expect((await store.getHistory('iris'))[0]?.actor).toBe('alice');

    const dataset = await seedDataset(store, 'iris', 1);
    dataset.columns[0]!.name = 'changed';
    (await store.getDataset('iris'))!.columns[0]!.name = 'changed';
    expect((await store.getDataset('iris'))?.columns[0]?.name).toBe('x');
    (await store.readEvents(0, 10))[0]!.payload.id = 'changed';
    expect((await eventsAfter(store, 0))[0]?.payload).toEqual({ id: 'exp-001', name: 'experiment1' });
  });

  it('inputs are copied: mutating an object after passing it does not change the store', async () => {
    const store = ctx.store();
    const exp = experiment(1, { tags: { a: '1' } });
    await store.createExperiment(exp);
    exp.tags.a = 'changed';
    const run = newRun(1, { tags: { a: '1' } });
    await store.createRun(run);
    run.tags.a = 'changed';
    const files = [file('a.txt', 1)];
    await store.recordRunArtifacts('run-001', files);
    files[0]!.sha256 = 'x';
    await seedModel(store, 'iris');
    const input = newVersion('iris', { tags: { a: '1' } });
    await store.createVersion(input);
    input.tags.a = 'changed';
    input.files[0]!.key = 'changed';
    expect((await store.getExperiment('exp-001'))?.tags).toEqual({ a: '1' });
    expect((await store.getRun('run-001'))?.tags).toEqual({ a: '1' });
    expect((await store.listRunArtifacts('run-001'))[0]?.sha256).toBe(sha(1));
    expect(await store.getVersion('iris', 1)).toMatchObject({
      tags: { a: '1' },
      files: [{ key: newVersion('iris').files[0]?.key }],
    });
  });
}
