import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import { at, expectCode, experiment, file, newRun, seedRuns } from './fixtures.js';

export function experimentTests(ctx: SuiteContext): void {
  it('createExperiment returns the experiment and getExperiment reads it back', async () => {
    const store = ctx.store();
    const exp = experiment(1, { tags: { team: 'vision' } });
    expect(await store.createExperiment(exp)).toEqual({ ...exp, deletedAt: null });
    expect(await store.getExperiment('exp-001')).toEqual({ ...exp, deletedAt: null });
    expect(await store.getExperiment('exp-999')).toBeNull();
  });

  it('getExperimentByName finds an experiment by its name and returns null for an unknown name', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await store.createExperiment(experiment(2));
    expect((await store.getExperimentByName('experiment2'))?.id).toBe('exp-002');
    expect(await store.getExperimentByName('nope')).toBeNull();
  });

  it('listExperiments returns every experiment oldest first', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(3, { createdAt: at(30) }));
    await store.createExperiment(experiment(1, { createdAt: at(10) }));
    await store.createExperiment(experiment(2, { createdAt: at(20) }));
    expect((await store.listExperiments()).map((e) => e.id)).toEqual(['exp-001', 'exp-002', 'exp-003']);
  });

  it('a taken experiment name is ALREADY_EXISTS and creates nothing', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await expectCode(store.createExperiment(experiment(2, { name: 'experiment1' })), 'ALREADY_EXISTS');
    expect(await store.getExperiment('exp-002')).toBeNull();
    expect(await store.listExperiments()).toHaveLength(1);
  });
}

export function runTests(ctx: SuiteContext): void {
  it('createRun starts a running run with no params, metrics or end time', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    const created = await store.createRun(newRun(1, { name: 'first', tags: { git: 'abc' } }));
    const expected = {
      id: 'run-001',
      experimentId: 'exp-001',
      name: 'first',
      status: 'running',
      parentRunId: null,
      startTime: at(1),
      endTime: null,
      params: {},
      tags: { git: 'abc' },
      latestMetrics: {},
      deletedAt: null,
    };
    expect(created).toEqual(expected);
    expect(await store.getRun('run-001')).toEqual(expected);
    expect(await store.getRun('run-999')).toBeNull();
  });

  it('createRun keeps the parent run id', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.createRun(newRun(2, { parentRunId: 'run-001' }));
    expect((await store.getRun('run-002'))?.parentRunId).toBe('run-001');
  });

  it('createRun in an unknown experiment is NOT_FOUND', async () => {
    const store = ctx.store();
    await expectCode(store.createRun(newRun(1, { experimentId: 'exp-404' })), 'NOT_FOUND');
    expect(await store.getRun('run-001')).toBeNull();
  });

  it('endRun sets the status and the end time', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    const ended = await store.endRun('run-001', 'failed', at(9));
    expect(ended).toMatchObject({ status: 'failed', endTime: at(9) });
    expect(await store.getRun('run-001')).toMatchObject({ status: 'failed', endTime: at(9) });
  });

  it('ending a run twice is CONFLICT and keeps the first end', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.endRun('run-001', 'finished', at(9));
    await expectCode(store.endRun('run-001', 'killed', at(10)), 'CONFLICT');
    expect(await store.getRun('run-001')).toMatchObject({ status: 'finished', endTime: at(9) });
  });

  it('changes to an unknown run are NOT_FOUND', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await expectCode(store.endRun('run-404', 'finished', at(9)), 'NOT_FOUND');
    await expectCode(store.logParams('run-404', { a: '1' }), 'NOT_FOUND');
    await expectCode(
      store.logMetrics('run-404', [{ key: 'acc', value: 1, step: 0, timestamp: at(1) }]),
      'NOT_FOUND',
    );
    await expectCode(store.setRunTags('run-404', { a: 'b' }), 'NOT_FOUND');
    await expectCode(store.deleteRunTag('run-404', 'a'), 'NOT_FOUND');
    await expectCode(store.recordRunArtifacts('run-404', [file('a.txt')]), 'NOT_FOUND');
  });

  it('params are stored as given and logging the same value again is accepted', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.logParams('run-001', { lr: '0.1', depth: '3' });
    await store.logParams('run-001', { lr: '0.1', seed: '42' });
    expect((await store.getRun('run-001'))?.params).toEqual({ lr: '0.1', depth: '3', seed: '42' });
  });

  it('a param logged again with another value is CONFLICT and nothing of that call is written', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.logParams('run-001', { lr: '0.1' });
    await expectCode(store.logParams('run-001', { aaa: 'new', lr: '0.2', zzz: 'new' }), 'CONFLICT');
    expect((await store.getRun('run-001'))?.params).toEqual({ lr: '0.1' });
  });

  it('metric history is ordered by step, then timestamp, then logging order', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.logMetrics('run-001', [
      { key: 'loss', value: 5, step: 2, timestamp: at(1) },
      { key: 'loss', value: 4, step: 1, timestamp: at(5) },
      { key: 'acc', value: 0.5, step: 0, timestamp: at(1) },
      { key: 'loss', value: 3, step: 1, timestamp: at(2) },
    ]);
    await store.logMetrics('run-001', [{ key: 'loss', value: 2, step: 1, timestamp: at(2) }]);
    const history = await store.getMetricHistory('run-001', 'loss');
    expect(history).toEqual([
      { key: 'loss', value: 3, step: 1, timestamp: at(2) },
      { key: 'loss', value: 2, step: 1, timestamp: at(2) },
      { key: 'loss', value: 4, step: 1, timestamp: at(5) },
      { key: 'loss', value: 5, step: 2, timestamp: at(1) },
    ]);
    expect(await store.getMetricHistory('run-001', 'missing')).toEqual([]);
    expect(await store.getMetricHistory('run-404', 'loss')).toEqual([]);
  });

  it('latestMetrics holds the value of the highest step, then latest timestamp, then last logged', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.logMetrics('run-001', [
      { key: 'byStep', value: 2, step: 5, timestamp: at(1) },
      { key: 'byStep', value: 1, step: 4, timestamp: at(9) },
      { key: 'byTime', value: 1, step: 0, timestamp: at(9) },
      { key: 'byTime', value: 2, step: 0, timestamp: at(1) },
      { key: 'byOrder', value: 1, step: 3, timestamp: at(3) },
    ]);
    await store.logMetrics('run-001', [
      { key: 'byOrder', value: 2, step: 3, timestamp: at(3) },
      { key: 'byStep', value: 3, step: 0, timestamp: at(20) },
    ]);
    expect((await store.getRun('run-001'))?.latestMetrics).toEqual({ byStep: 2, byTime: 1, byOrder: 2 });
  });

  it('setRunTags inserts and overwrites tags', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await store.createRun(newRun(1, { tags: { a: '1', b: '2' } }));
    await store.setRunTags('run-001', { b: 'changed', c: '3' });
    expect((await store.getRun('run-001'))?.tags).toEqual({ a: '1', b: 'changed', c: '3' });
  });

  it('deleteRunTag removes one tag and deleting a missing tag is not an error', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    await store.createRun(newRun(1, { tags: { a: '1', b: '2' } }));
    await store.deleteRunTag('run-001', 'a');
    await store.deleteRunTag('run-001', 'never-set');
    expect((await store.getRun('run-001'))?.tags).toEqual({ b: '2' });
  });
}
