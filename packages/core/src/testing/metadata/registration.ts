import { expect, it } from 'vitest';
import type { HistoryEntry } from '../../domain/types.js';
import type { MetadataStore, NewRunRecord, VersionPlacement } from '../../stores/metadata-store.js';
import type { SuiteContext } from './context.js';
import {
  at,
  eventsAfter,
  expectCode,
  experiment,
  file,
  newVersion,
  seedModel,
  seedRuns,
  stageChange,
} from './fixtures.js';

const withoutIds = (entries: HistoryEntry[]) => entries.map(({ id: _id, ...rest }) => rest);

const placement = (overrides: Partial<VersionPlacement> = {}): VersionPlacement => ({
  fromStage: 'none',
  actor: 'alice',
  comment: 'registered by train',
  ...overrides,
});

const runRecord = (overrides: Partial<NewRunRecord> = {}): NewRunRecord => ({
  experiment: experiment(7, { id: 'exp-new', name: 'copied' }),
  run: { id: 'run-copy', name: 'copied run', parentRunId: null, startTime: at(10), tags: { team: 'ml' } },
  params: { lr: '0.1', depth: '3' },
  metrics: [
    { key: 'loss', value: 0.9, step: 0, timestamp: at(11) },
    { key: 'loss', value: 0.4, step: 1, timestamp: at(12) },
    { key: 'acc', value: 0.8, step: 0, timestamp: at(12) },
  ],
  status: 'finished',
  endTime: at(20),
  ...overrides,
});

/** Everything a failed createVersion must leave as it was. */
async function state(store: MetadataStore, model: string, runIds: string[]) {
  return {
    seq: await store.lastEventSeq(),
    experiments: await store.listExperiments(),
    runs: await Promise.all(runIds.map((id) => store.getRun(id))),
    artifacts: await Promise.all(runIds.map((id) => store.listRunArtifacts(id))),
    model: await store.getModel(model),
    versions: await store.listVersions(model, { includeDeleted: true }),
    history: await store.getHistory(model),
  };
}

/** `createVersion`'s optional members: one registration, one transaction (train with register, copy). */
export function registrationTests(ctx: SuiteContext): void {
  it('createModel creates a missing model in the same call as its first version', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    const seq = await store.lastEventSeq();
    const version = await store.createVersion(newVersion('iris', { createModel: true }));
    expect(version).toMatchObject({ name: 'iris', version: 1, stage: 'none', aliases: [] });
    expect(await store.getModel('iris')).toMatchObject({ name: 'iris', description: '', lastVersion: 1 });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'model.created', payload: { name: 'iris' } },
      { type: 'version.created', payload: { name: 'iris', version: 1, stage: 'none' } },
    ]);
  });

  it('createModel on a live model only creates the version', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    const seq = await store.lastEventSeq();
    expect((await store.createVersion(newVersion('iris', { createModel: true }))).version).toBe(2);
    expect((await eventsAfter(store, seq)).map((e) => e.type)).toEqual(['version.created']);
  });

  it('createModel revives a deleted model and its numbers continue', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.deleteModel('iris', at(150));
    expect((await store.createVersion(newVersion('iris', { createModel: true }))).version).toBe(3);
    expect(await store.getModel('iris')).toMatchObject({ lastVersion: 3 });
    expect((await store.listVersions('iris')).map((v) => v.version)).toEqual([3]);
  });

  it('a placement stage is recorded as a move from the first stage, with history and event, in the same call', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    const seq = await store.lastEventSeq();
    const version = await store.createVersion(
      newVersion('iris', { stage: 'production', placement: placement(), createdAt: at(500) }),
    );
    expect(version).toMatchObject({ version: 1, stage: 'production', updatedAt: at(500) });
    expect(await store.getVersion('iris', 1)).toEqual(version);
    expect(withoutIds(await store.getHistory('iris'))).toEqual([
      {
        name: 'iris',
        kind: 'stage',
        version: 1,
        fromStage: 'none',
        toStage: 'production',
        alias: null,
        fromVersion: null,
        actor: 'alice',
        comment: 'registered by train',
        time: at(500),
      },
    ]);
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'version.created', payload: { name: 'iris', version: 1, stage: 'none' } },
      {
        type: 'version.stage_changed',
        payload: { name: 'iris', version: 1, fromStage: 'none', toStage: 'production' },
      },
    ]);
  });

  it('placement.archiveTo archives the other versions of the stage in the same call, new version first', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    await store.transitionStage(stageChange('iris', 2, 'production'));
    const historyBefore = (await store.getHistory('iris')).length;
    const seq = await store.lastEventSeq();
    await store.createVersion(
      newVersion('iris', {
        stage: 'production',
        placement: placement({ archiveTo: 'archived' }),
        createdAt: at(500),
      }),
    );
    expect((await store.listVersions('iris')).map((v) => [v.version, v.stage])).toEqual([
      [1, 'archived'],
      [2, 'archived'],
      [3, 'none'],
      [4, 'production'],
    ]);
    const added = (await store.getHistory('iris')).slice(historyBefore);
    expect(added.map((h) => [h.version, h.fromStage, h.toStage, h.actor, h.time])).toEqual([
      [4, 'none', 'production', 'alice', at(500)],
      [1, 'production', 'archived', 'alice', at(500)],
      [2, 'production', 'archived', 'alice', at(500)],
    ]);
    expect((await eventsAfter(store, seq)).map((e) => [e.type, e.payload])).toEqual([
      ['version.created', { name: 'iris', version: 4, stage: 'none' }],
      ['version.stage_changed', { name: 'iris', version: 4, fromStage: 'none', toStage: 'production' }],
      ['version.stage_changed', { name: 'iris', version: 1, fromStage: 'production', toStage: 'archived' }],
      ['version.stage_changed', { name: 'iris', version: 2, fromStage: 'production', toStage: 'archived' }],
    ]);
  });

  it('a placement in the first stage moves nothing and archives nothing', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    const seq = await store.lastEventSeq();
    await store.createVersion(newVersion('iris', { placement: placement({ archiveTo: 'archived' }) }));
    expect((await store.listVersions('iris')).map((v) => v.stage)).toEqual(['none', 'none']);
    expect(await store.getHistory('iris')).toEqual([]);
    expect((await eventsAfter(store, seq)).map((e) => e.type)).toEqual(['version.created']);
  });

  it('placement.alias points the alias at the new version (moving it), with history and event, and the result carries it', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await store.setAlias({
      name: 'iris',
      alias: 'champion',
      version: 1,
      actor: 'bob',
      comment: '',
      time: at(400),
    });
    const seq = await store.lastEventSeq();
    const version = await store.createVersion(
      newVersion('iris', { placement: placement({ alias: 'champion' }), createdAt: at(500) }),
    );
    expect(version.aliases).toEqual(['champion']);
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 2 });
    expect(withoutIds(await store.getHistory('iris')).at(-1)).toEqual({
      name: 'iris',
      kind: 'alias_set',
      version: 2,
      fromStage: null,
      toStage: null,
      alias: 'champion',
      fromVersion: 1,
      actor: 'alice',
      comment: 'registered by train',
      time: at(500),
    });
    expect((await eventsAfter(store, seq)).map((e) => [e.type, e.payload])).toEqual([
      ['version.created', { name: 'iris', version: 2, stage: 'none' }],
      ['alias.set', { name: 'iris', alias: 'champion', version: 2, fromVersion: 1 }],
    ]);
  });

  it('run creates the experiment, the ended run with params, metric history and tags, and runArtifacts records its files', async () => {
    const store = ctx.store();
    const files = [file('model/MODEL.json', 3, 'runs/run-copy/copies/c1'), file('notes.txt', 4)];
    const seq = await store.lastEventSeq();
    const version = await store.createVersion(
      newVersion('iris', {
        runId: 'run-copy',
        source: 'runs:/run-copy/model',
        createModel: true,
        run: runRecord(),
        runArtifacts: files,
      }),
    );
    expect(version.runId).toBe('run-copy');
    expect(await store.getExperimentByName('copied')).toMatchObject({ id: 'exp-new', name: 'copied' });
    expect(await store.getRun('run-copy')).toEqual({
      id: 'run-copy',
      experimentId: 'exp-new',
      name: 'copied run',
      status: 'finished',
      parentRunId: null,
      startTime: at(10),
      endTime: at(20),
      params: { lr: '0.1', depth: '3' },
      tags: { team: 'ml' },
      latestMetrics: { loss: 0.4, acc: 0.8 },
      deletedAt: null,
    });
    expect(await store.getMetricHistory('run-copy', 'loss')).toEqual([
      { key: 'loss', value: 0.9, step: 0, timestamp: at(11) },
      { key: 'loss', value: 0.4, step: 1, timestamp: at(12) },
    ]);
    expect(await store.listRunArtifacts('run-copy')).toEqual(files);
    expect((await eventsAfter(store, seq)).map((e) => [e.type, e.payload])).toEqual([
      ['experiment.created', { id: 'exp-new', name: 'copied' }],
      ['run.created', { runId: 'run-copy', experimentId: 'exp-new' }],
      ['run.updated', { runId: 'run-copy', status: 'finished' }],
      ['model.created', { name: 'iris' }],
      ['version.created', { name: 'iris', version: 1, stage: 'none' }],
    ]);
    expect(await store.listReferencedKeys()).toEqual(expect.arrayContaining(files.map((f) => f.key)));
  });

  it('run uses an existing experiment of that name, and leaves an existing run exactly as it is', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1, { name: 'copied' }));
    await store.createVersion(newVersion('iris', { runId: 'run-copy', createModel: true, run: runRecord() }));
    expect(await store.getRun('run-copy')).toMatchObject({ experimentId: 'exp-001' });
    expect(await store.getExperiment('exp-new')).toBeNull();
    const before = await store.getRun('run-copy');
    const seq = await store.lastEventSeq();
    await store.createVersion(
      newVersion('iris', {
        runId: 'run-copy',
        run: runRecord({ params: { lr: '9' }, status: 'failed', metrics: [] }),
        runArtifacts: [file('model/MODEL.json', 3)],
      }),
    );
    expect(await store.getRun('run-copy')).toEqual(before);
    expect((await eventsAfter(store, seq)).map((e) => e.type)).toEqual(['version.created']);
  });

  it('concurrent createVersion calls with createModel on a missing model create it once and number 1..n', async () => {
    const store = ctx.store();
    const seq = await store.lastEventSeq();
    const created = await Promise.all(
      Array.from({ length: 6 }, () => store.createVersion(newVersion('iris', { createModel: true }))),
    );
    expect(created.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const types = (await eventsAfter(store, seq)).map((e) => e.type);
    expect(types.filter((t) => t === 'model.created')).toHaveLength(1);
  });

  it('concurrent createVersion calls into a stage with archiveTo leave exactly one version in it', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    await Promise.all(
      Array.from({ length: 6 }, () =>
        store.createVersion(
          newVersion('iris', { stage: 'production', placement: placement({ archiveTo: 'archived' }) }),
        ),
      ),
    );
    const stages = (await store.listVersions('iris')).map((v) => v.stage);
    expect(stages.filter((s) => s === 'production')).toHaveLength(1);
    expect(stages.filter((s) => s === 'archived')).toHaveLength(5);
    expect((await store.getHistory('iris')).filter((h) => h.toStage === 'archived')).toHaveLength(5);
  });

  it('a failing createVersion leaves no part of its run, model, files, stage moves or alias', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.recordRunArtifacts('run-001', [file('model/MODEL.json', 1)]);
    await seedModel(store, 'iris', 1);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    const runIds = ['run-001', 'run-copy'];
    const before = await state(store, 'iris', runIds);
    const full = (overrides: Parameters<typeof newVersion>[1]) =>
      newVersion('iris', {
        stage: 'production',
        createModel: true,
        placement: placement({ archiveTo: 'archived', alias: 'champion' }),
        ...overrides,
      });
    // Another sha256 for a path the run already records: ALREADY_EXISTS, after everything before it was written.
    await expectCode(
      store.createVersion(full({ runArtifacts: [file('extra.txt', 2), file('model/MODEL.json', 9)] })),
      'ALREADY_EXISTS',
    );
    // The same path twice with two digests in one call, with a new run created first in the call.
    await expectCode(
      store.createVersion(
        full({
          runId: 'run-copy',
          run: runRecord(),
          runArtifacts: [file('a.txt', 1, 'k1'), file('a.txt', 2, 'k2')],
        }),
      ),
      'ALREADY_EXISTS',
    );
    // Files for a run that does not exist.
    await expectCode(
      store.createVersion(full({ runId: 'run-404', runArtifacts: [file('a.txt', 1)] })),
      'NOT_FOUND',
    );
    expect(await state(store, 'iris', runIds)).toEqual(before);
    // Without createModel a missing model is NOT_FOUND, and the run of the call is not created.
    await expectCode(
      store.createVersion(newVersion('nope', { runId: 'run-copy', run: runRecord() })),
      'NOT_FOUND',
    );
    expect(await store.getRun('run-copy')).toBeNull();
    expect(await store.getModel('nope')).toBeNull();
    expect(await store.lastEventSeq()).toBe(before.seq);
  });
}
