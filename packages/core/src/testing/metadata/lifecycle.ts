import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import {
  aliasChange,
  at,
  eventsAfter,
  expectCode,
  experiment,
  ids,
  newRun,
  newVersion,
  seedModel,
  seedRuns,
  stageChange,
} from './fixtures.js';

/** Renaming experiments, experiment tags, and deleting and restoring experiments. */
export function experimentLifecycleTests(ctx: SuiteContext): void {
  it('updateExperiment renames, merges tags (null deletes) and frees the old name', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1, { tags: { team: 'vision', old: 'x' } }));
    const seq = await store.lastEventSeq();
    const updated = await store.updateExperiment('exp-001', {
      name: 'renamed',
      tags: { old: null, stage: 'beta' },
      time: at(5),
    });
    expect(updated).toEqual({
      id: 'exp-001',
      name: 'renamed',
      tags: { team: 'vision', stage: 'beta' },
      createdAt: at(1),
      deletedAt: null,
    });
    expect(await store.getExperimentByName('renamed')).toEqual(updated);
    expect(await store.getExperimentByName('experiment1')).toBeNull();
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'experiment.updated', payload: { id: 'exp-001', name: 'renamed', fromName: 'experiment1' } },
    ]);
    await store.createExperiment(experiment(2, { name: 'experiment1' }));
    expect((await store.getExperimentByName('experiment1'))?.id).toBe('exp-002');
  });

  it('updateExperiment with only tags keeps the name', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    const updated = await store.updateExperiment('exp-001', { tags: { k: 'v' }, time: at(5) });
    expect(updated).toMatchObject({ name: 'experiment1', tags: { k: 'v' } });
    expect((await eventsAfter(store, (await store.lastEventSeq()) - 1))[0]?.payload).toEqual({
      id: 'exp-001',
      name: 'experiment1',
      fromName: 'experiment1',
    });
  });

  it('renaming to a taken name (a deleted experiment too) is ALREADY_EXISTS and changes nothing', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await store.createExperiment(experiment(2));
    await store.deleteExperiment('exp-002', at(3));
    const seq = await store.lastEventSeq();
    await expectCode(
      store.updateExperiment('exp-001', { name: 'experiment2', tags: { k: 'v' }, time: at(5) }),
      'ALREADY_EXISTS',
    );
    expect(await store.getExperiment('exp-001')).toMatchObject({ name: 'experiment1', tags: {} });
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('updateExperiment of an unknown id is NOT_FOUND; of a deleted experiment CONFLICT', async () => {
    const store = ctx.store();
    await expectCode(store.updateExperiment('exp-404', { name: 'x', time: at(5) }), 'NOT_FOUND');
    await store.createExperiment(experiment(1));
    await store.deleteExperiment('exp-001', at(3));
    await expectCode(store.updateExperiment('exp-001', { name: 'x', time: at(5) }), 'CONFLICT');
    expect(await store.getExperiment('exp-001')).toMatchObject({ name: 'experiment1' });
  });

  it('deleteExperiment hides it and its runs; get and getByName still read it, the name stays taken', async () => {
    const store = ctx.store();
    await seedRuns(store, 2);
    await store.createExperiment(experiment(2));
    const seq = await store.lastEventSeq();
    const deleted = await store.deleteExperiment('exp-001', at(9));
    expect(deleted).toMatchObject({ id: 'exp-001', deletedAt: at(9) });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'experiment.deleted', payload: { id: 'exp-001', name: 'experiment1' } },
    ]);
    expect((await store.listExperiments()).map((e) => e.id)).toEqual(['exp-002']);
    expect((await store.listExperiments({ lifecycle: 'deleted' })).map((e) => e.id)).toEqual(['exp-001']);
    expect((await store.listExperiments({ lifecycle: 'all' })).map((e) => e.id)).toEqual([
      'exp-001',
      'exp-002',
    ]);
    expect(await store.getExperiment('exp-001')).toMatchObject({ deletedAt: at(9) });
    expect(await store.getExperimentByName('experiment1')).toMatchObject({ deletedAt: at(9) });
    expect(await store.getRun('run-001')).toMatchObject({ status: 'running', deletedAt: at(9) });
    const query = { experimentIds: ['exp-001'], limit: 10, offset: 0 };
    expect(await store.searchRuns(query)).toEqual([]);
    expect(ids(await store.searchRuns({ ...query, lifecycle: 'deleted' }))).toEqual(['run-002', 'run-001']);
    await expectCode(store.createExperiment(experiment(3, { name: 'experiment1' })), 'ALREADY_EXISTS');
  });

  it('no run starts in a deleted experiment (CONFLICT)', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await store.deleteExperiment('exp-001', at(9));
    await expectCode(store.createRun(newRun(1)), 'CONFLICT');
    expect(await store.getRun('run-001')).toBeNull();
  });

  it('deleting a deleted experiment or restoring a live one is CONFLICT; an unknown id NOT_FOUND', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await expectCode(store.restoreExperiment('exp-001'), 'CONFLICT');
    await store.deleteExperiment('exp-001', at(9));
    const seq = await store.lastEventSeq();
    await expectCode(store.deleteExperiment('exp-001', at(10)), 'CONFLICT');
    expect(await store.getExperiment('exp-001')).toMatchObject({ deletedAt: at(9) });
    expect(await store.lastEventSeq()).toBe(seq);
    await expectCode(store.deleteExperiment('exp-404', at(10)), 'NOT_FOUND');
    await expectCode(store.restoreExperiment('exp-404'), 'NOT_FOUND');
  });

  it('restoreExperiment brings back the runs deleted with it, not those deleted before', async () => {
    const store = ctx.store();
    await seedRuns(store, 3);
    await store.deleteRun('run-002', at(5));
    await store.deleteExperiment('exp-001', at(9));
    const seq = await store.lastEventSeq();
    expect(await store.restoreExperiment('exp-001')).toMatchObject({ id: 'exp-001', deletedAt: null });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'experiment.restored', payload: { id: 'exp-001', name: 'experiment1' } },
    ]);
    const query = { experimentIds: ['exp-001'], limit: 10, offset: 0 };
    expect(ids(await store.searchRuns(query))).toEqual(['run-003', 'run-001']);
    expect(ids(await store.searchRuns({ ...query, lifecycle: 'deleted' }))).toEqual(['run-002']);
    expect(await store.getRun('run-002')).toMatchObject({ deletedAt: at(5) });
    expect((await store.listExperiments()).map((e) => e.id)).toEqual(['exp-001']);
  });
}

/** Deleting and restoring runs, and the lifecycle views of searchRuns. */
export function runLifecycleTests(ctx: SuiteContext): void {
  it('deleteRun keeps the run readable and its status; searches show it by lifecycle', async () => {
    const store = ctx.store();
    await seedRuns(store, 3);
    await store.endRun('run-002', 'finished', at(4));
    const seq = await store.lastEventSeq();
    const deleted = await store.deleteRun('run-002', at(8));
    expect(deleted).toMatchObject({ id: 'run-002', status: 'finished', deletedAt: at(8) });
    expect(await store.getRun('run-002')).toEqual(deleted);
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'run.deleted', payload: { runId: 'run-002', experimentId: 'exp-001' } },
    ]);
    const query = { experimentIds: ['exp-001'], limit: 10, offset: 0 };
    expect(ids(await store.searchRuns(query))).toEqual(['run-003', 'run-001']);
    expect(ids(await store.searchRuns({ ...query, lifecycle: 'active' }))).toEqual(['run-003', 'run-001']);
    expect(ids(await store.searchRuns({ ...query, lifecycle: 'deleted' }))).toEqual(['run-002']);
    expect(ids(await store.searchRuns({ ...query, lifecycle: 'all' }))).toEqual([
      'run-003',
      'run-002',
      'run-001',
    ]);
    expect(
      ids(await store.searchRuns({ ...query, lifecycle: 'deleted', where: { status: 'running' } })),
    ).toEqual([]);
  });

  it('restoreRun makes a deleted run live again', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.deleteRun('run-001', at(8));
    const seq = await store.lastEventSeq();
    expect(await store.restoreRun('run-001')).toMatchObject({ id: 'run-001', deletedAt: null });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'run.restored', payload: { runId: 'run-001', experimentId: 'exp-001' } },
    ]);
    expect(ids(await store.searchRuns({ experimentIds: ['exp-001'], limit: 10, offset: 0 }))).toEqual([
      'run-001',
    ]);
  });

  it('deleting a deleted run or restoring a live one is CONFLICT; an unknown run NOT_FOUND', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await expectCode(store.restoreRun('run-001'), 'CONFLICT');
    await store.deleteRun('run-001', at(8));
    const seq = await store.lastEventSeq();
    await expectCode(store.deleteRun('run-001', at(9)), 'CONFLICT');
    expect(await store.getRun('run-001')).toMatchObject({ deletedAt: at(8) });
    expect(await store.lastEventSeq()).toBe(seq);
    await expectCode(store.deleteRun('run-404', at(9)), 'NOT_FOUND');
    await expectCode(store.restoreRun('run-404'), 'NOT_FOUND');
  });

  it('a run of a deleted experiment is restored with its experiment, not alone (CONFLICT)', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.deleteExperiment('exp-001', at(9));
    await expectCode(store.restoreRun('run-001'), 'CONFLICT');
    expect(await store.getRun('run-001')).toMatchObject({ deletedAt: at(9) });
  });
}

/** Renaming a registered model with everything that hangs on its name. */
export function modelRenameTests(ctx: SuiteContext): void {
  it('renameModel moves versions (deleted ones too), aliases, stages and history; the old name is free', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await seedModel(store, 'iris', 3);
    await store.transitionStage(stageChange('iris', 2, 'production'));
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.deleteVersion('iris', 3, at(350));
    const history = await store.getHistory('iris');
    const seq = await store.lastEventSeq();
    const renamed = await store.renameModel('iris', 'flowers', at(500));
    expect(renamed).toMatchObject({
      name: 'flowers',
      lastVersion: 3,
      aliases: { champion: 2 },
      updatedAt: at(500),
    });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'model.renamed', payload: { name: 'iris', newName: 'flowers' } },
    ]);
    expect(await store.getModel('iris')).toBeNull();
    expect(await store.getVersion('iris', 1)).toBeNull();
    expect(await store.resolveVersion('iris', { type: 'stage', stage: 'production' })).toBeNull();
    expect((await store.listVersions('flowers')).map((v) => [v.name, v.version, v.stage, v.aliases])).toEqual(
      [
        ['flowers', 1, 'none', []],
        ['flowers', 2, 'production', ['champion']],
      ],
    );
    expect(await store.getVersion('flowers', 3, { includeDeleted: true })).toMatchObject({
      name: 'flowers',
      deletedAt: at(350),
    });
    expect(
      (await store.resolveVersion('flowers', { type: 'alias', alias: 'champion' }))?.version?.version,
    ).toBe(2);
    expect(await store.getHistory('flowers')).toEqual(history.map((h) => ({ ...h, name: 'flowers' })));
    expect(await store.getHistory('iris')).toEqual([]);
    // Numbers continue under the new name; the old name starts afresh.
    expect((await store.createVersion(newVersion('flowers'))).version).toBe(4);
    await store.createModel({ name: 'iris', description: '', tags: {}, createdAt: at(600) });
    expect((await store.createVersion(newVersion('iris'))).version).toBe(1);
  });

  it('renaming onto any existing name (a deleted model too) is ALREADY_EXISTS; nothing moves', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await seedModel(store, 'iris', 1);
    await seedModel(store, 'taken', 0);
    await seedModel(store, 'gone', 1);
    await store.deleteModel('gone', at(60));
    const seq = await store.lastEventSeq();
    await expectCode(store.renameModel('iris', 'taken', at(500)), 'ALREADY_EXISTS');
    await expectCode(store.renameModel('iris', 'gone', at(500)), 'ALREADY_EXISTS');
    expect(await store.getVersion('iris', 1)).toMatchObject({ name: 'iris' });
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('renaming an unknown or deleted model is NOT_FOUND', async () => {
    const store = ctx.store();
    await expectCode(store.renameModel('nope', 'other', at(500)), 'NOT_FOUND');
    await seedModel(store, 'gone', 0);
    await store.deleteModel('gone', at(60));
    await expectCode(store.renameModel('gone', 'other', at(500)), 'NOT_FOUND');
    expect(await store.getModel('other')).toBeNull();
  });

  it('a model with a live deployment is not renamed (CONFLICT)', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await seedModel(store, 'iris', 2);
    await store.saveDeployment({
      deployment: { model: 'iris', current: 1, next: 2, weight: 0.1, stickyKey: null, mode: 'canary' },
      action: 'set',
      actor: 'alice',
      comment: '',
      time: at(400),
    });
    await expectCode(store.renameModel('iris', 'flowers', at(500)), 'CONFLICT');
    expect(await store.getModel('iris')).not.toBeNull();
    await store.deleteDeployment({ model: 'iris', actor: 'alice', comment: '', time: at(450) });
    expect((await store.renameModel('iris', 'flowers', at(500))).name).toBe('flowers');
  });
}
