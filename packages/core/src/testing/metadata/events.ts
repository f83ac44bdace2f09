import { expect, it } from 'vitest';
import type { MetadataStore } from '../../stores/metadata-store.js';
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
  stageChange,
} from './fixtures.js';

/** Runs `change` and returns the events it appended. */
async function appended(store: MetadataStore, change: () => Promise<unknown>) {
  const seq = await store.lastEventSeq();
  await change();
  return eventsAfter(store, seq);
}

export function eventTests(ctx: SuiteContext): void {
  it('an empty store has no events and lastEventSeq 0', async () => {
    const store = ctx.store();
    expect(await store.lastEventSeq()).toBe(0);
    expect(await store.readEvents(0, 100)).toEqual([]);
  });

  it('experiment and run changes append their documented events', async () => {
    const store = ctx.store();
    expect(await appended(store, () => store.createExperiment(experiment(1)))).toEqual([
      { type: 'experiment.created', payload: { id: 'exp-001', name: 'experiment1' } },
    ]);
    expect(await appended(store, () => store.createRun(newRun(1)))).toEqual([
      { type: 'run.created', payload: { runId: 'run-001', experimentId: 'exp-001' } },
    ]);
    expect(await appended(store, () => store.endRun('run-001', 'killed', at(9)))).toEqual([
      { type: 'run.updated', payload: { runId: 'run-001', status: 'killed' } },
    ]);
  });

  it('params, metrics, run tags and run artifacts append no events', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    const events = await appended(store, async () => {
      await store.logParams('run-001', { a: '1' });
      await store.logMetrics('run-001', [{ key: 'acc', value: 1, step: 0, timestamp: at(1) }]);
      await store.setRunTags('run-001', { t: '1' });
      await store.deleteRunTag('run-001', 't');
      await store.recordRunArtifacts('run-001', [file('a.txt')]);
    });
    expect(events).toEqual([]);
  });

  it('model changes append model.created, model.updated and model.deleted', async () => {
    const store = ctx.store();
    const create = () => store.createModel({ name: 'iris', description: '', tags: {}, createdAt: at(1) });
    expect(await appended(store, create)).toEqual([{ type: 'model.created', payload: { name: 'iris' } }]);
    expect(await appended(store, () => store.updateModel('iris', { description: 'x', time: at(2) }))).toEqual(
      [{ type: 'model.updated', payload: { name: 'iris' } }],
    );
    await store.createVersion(newVersion('iris'));
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    expect(await appended(store, () => store.deleteModel('iris', at(3)))).toEqual([
      { type: 'model.deleted', payload: { name: 'iris' } },
    ]);
    expect(await appended(store, create)).toEqual([{ type: 'model.created', payload: { name: 'iris' } }]);
  });

  it('version changes append version.created, version.updated and version.deleted', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    expect(await appended(store, () => store.createVersion(newVersion('iris', { stage: 'dev' })))).toEqual([
      { type: 'version.created', payload: { name: 'iris', version: 1, stage: 'dev' } },
    ]);
    expect(
      await appended(store, () => store.updateVersion('iris', 1, { tags: { a: '1' }, time: at(2) })),
    ).toEqual([{ type: 'version.updated', payload: { name: 'iris', version: 1 } }]);
    expect(await appended(store, () => store.deleteVersion('iris', 1, at(3)))).toEqual([
      { type: 'version.deleted', payload: { name: 'iris', version: 1 } },
    ]);
  });

  it('deleting a version with aliases appends version.deleted and one alias.deleted per alias', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'best'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'old'), version: 1 });
    const events = await appended(store, () => store.deleteVersion('iris', 2, at(3)));
    const key = (e: { type: string; payload: Record<string, unknown> }) =>
      `${e.type}:${String(e.payload.alias)}`;
    expect(events.sort((a, b) => key(a).localeCompare(key(b)))).toEqual([
      { type: 'alias.deleted', payload: { name: 'iris', alias: 'best', version: 2 } },
      { type: 'alias.deleted', payload: { name: 'iris', alias: 'champion', version: 2 } },
      { type: 'version.deleted', payload: { name: 'iris', version: 2 } },
    ]);
  });

  it('a stage move appends version.stage_changed per version moved, target first', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    await store.transitionStage(stageChange('iris', 2, 'production'));
    const move = () => store.transitionStage(stageChange('iris', 3, 'production', { archiveExisting: true }));
    expect(await appended(store, move)).toEqual([
      {
        type: 'version.stage_changed',
        payload: { name: 'iris', version: 3, fromStage: 'none', toStage: 'production' },
      },
      {
        type: 'version.stage_changed',
        payload: { name: 'iris', version: 1, fromStage: 'production', toStage: 'archived' },
      },
      {
        type: 'version.stage_changed',
        payload: { name: 'iris', version: 2, fromStage: 'production', toStage: 'archived' },
      },
    ]);
  });

  it('alias changes append alias.set with fromVersion and alias.deleted', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    expect(
      await appended(store, () => store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 })),
    ).toEqual([
      { type: 'alias.set', payload: { name: 'iris', alias: 'champion', version: 1, fromVersion: null } },
    ]);
    expect(
      await appended(store, () => store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 })),
    ).toEqual([
      { type: 'alias.set', payload: { name: 'iris', alias: 'champion', version: 2, fromVersion: 1 } },
    ]);
    expect(await appended(store, () => store.deleteAlias(aliasChange('iris', 'champion')))).toEqual([
      { type: 'alias.deleted', payload: { name: 'iris', alias: 'champion', version: 2 } },
    ]);
  });

  it('dataset changes append dataset.created and one dataset.deleted per version', async () => {
    const store = ctx.store();
    expect(await appended(store, () => store.createDatasetVersion(newDataset('iris', 1)))).toEqual([
      {
        type: 'dataset.created',
        payload: { name: 'iris', version: 1, sha256: newDataset('iris', 1).sha256 },
      },
    ]);
    await seedDataset(store, 'iris', 2);
    await seedDataset(store, 'iris', 3);
    expect(await appended(store, () => store.deleteDataset('iris', 2, at(9)))).toEqual([
      { type: 'dataset.deleted', payload: { name: 'iris', version: 2 } },
    ]);
    expect(await appended(store, () => store.deleteDataset('iris', undefined, at(9)))).toEqual([
      { type: 'dataset.deleted', payload: { name: 'iris', version: 1 } },
      { type: 'dataset.deleted', payload: { name: 'iris', version: 3 } },
    ]);
  });

  it('event seqs are strictly increasing, times are timestamps and lastEventSeq is the last seq', async () => {
    const store = ctx.store();
    await seedRuns(store, 2);
    await seedModel(store, 'iris', 2);
    await seedDataset(store, 'iris', 1);
    const events = await store.readEvents(0, 1000);
    expect(events).toHaveLength(7);
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
    expect(events[0]!.seq).toBeGreaterThanOrEqual(1);
    for (const event of events) expect(Number.isInteger(event.time) && event.time >= 0).toBe(true);
    expect(await store.lastEventSeq()).toBe(events.at(-1)?.seq);
  });

  it('readEvents(afterSeq, limit) pages through the log in order', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    for (let n = 1; n <= 10; n++) await store.createRun(newRun(n));
    const all = await store.readEvents(0, 1000);
    expect(all).toHaveLength(11);
    const paged = [];
    let after = 0;
    for (let guard = 0; guard < 20; guard++) {
      const page = await store.readEvents(after, 3);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      paged.push(...page);
      after = page.at(-1)!.seq;
    }
    expect(paged).toEqual(all);
    expect(await store.readEvents(all[4]!.seq, 2)).toEqual(all.slice(5, 7));
    expect(await store.readEvents(all.at(-1)!.seq, 10)).toEqual([]);
  });

  it('failed changes append no events', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.endRun('run-001', 'finished', at(9));
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    await seedDataset(store, 'iris', 1);
    const seq = await store.lastEventSeq();
    await expectCode(store.createExperiment(experiment(1)), 'ALREADY_EXISTS');
    await expectCode(store.createRun(newRun(2, { experimentId: 'exp-404' })), 'NOT_FOUND');
    await expectCode(store.endRun('run-001', 'failed', at(10)), 'CONFLICT');
    await expectCode(
      store.createModel({ name: 'iris', description: '', tags: {}, createdAt: at(1) }),
      'ALREADY_EXISTS',
    );
    await expectCode(store.updateModel('nope', { time: at(1) }), 'NOT_FOUND');
    await expectCode(store.createVersion(newVersion('nope')), 'NOT_FOUND');
    await expectCode(store.transitionStage(stageChange('iris', 9, 'production')), 'NOT_FOUND');
    await expectCode(
      store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: 2 }), version: 2 }),
      'CONFLICT',
    );
    await expectCode(store.deleteAlias(aliasChange('iris', 'nope')), 'NOT_FOUND');
    await expectCode(store.deleteVersion('iris', 9, at(1)), 'NOT_FOUND');
    await expectCode(store.deleteDataset('nope', undefined, at(1)), 'NOT_FOUND');
    expect(await store.lastEventSeq()).toBe(seq);
    expect(await store.readEvents(seq, 100)).toEqual([]);
  });

  ctx.itWithInspector('failed changes store no event and no history entry', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    const inspector = ctx.inspector();
    const events = await inspector.countEvents();
    const history = await inspector.countHistory();
    expect(events).toBe(await store.lastEventSeq());
    expect(history).toBe(1);
    await expectCode(
      store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: null }), version: 2 }),
      'CONFLICT',
    );
    await expectCode(store.setAlias({ ...aliasChange('iris', 'best'), version: 9 }), 'NOT_FOUND');
    await expectCode(store.transitionStage(stageChange('iris', 9, 'production')), 'NOT_FOUND');
    await expectCode(store.deleteAlias(aliasChange('iris', 'champion', { ifVersion: 2 })), 'CONFLICT');
    expect(await inspector.countEvents()).toBe(events);
    expect(await inspector.countHistory()).toBe(history);
  });
}
