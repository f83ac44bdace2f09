import { describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RegistryEvent } from '../../src/domain/types.js';
import { openMemoryRegistry, runWithModel } from './helpers.js';

describe('ModelRegistry', () => {
  it('open refuses bad options with INVALID_CONFIG', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    await expect(ModelRegistry.open({ metadata, artifacts, stages: ['only'] })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(ModelRegistry.open({ metadata, artifacts, stages: ['a', 'A'] })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(ModelRegistry.open({ metadata: {} as never, artifacts })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('metadata'),
    });
  });

  it('versions are numbered 1..N from run artifacts and numbers are never reused after delete', async () => {
    const registry = await openMemoryRegistry();
    const runId = await runWithModel(registry);
    const v1 = await registry.registerModel('iris', { runId });
    const v2 = await registry.registerModel('iris', { source: `runs:/${runId}/model` });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.stage).toBe('none');
    expect(v1.files.map((f) => f.path)).toEqual(['MODEL.json', 'model.native.json']);
    await registry.deleteVersion('iris', 2);
    const v3 = await registry.registerModel('iris', { runId });
    expect(v3.version).toBe(3);
    expect(await registry.getVersion('iris', 2)).toBeNull();
    await registry.close();
  });

  it('registering from a run without files under the path is NOT_FOUND', async () => {
    const registry = await openMemoryRegistry();
    const run = await registry.startRun({ experiment: 'e' });
    await expect(registry.registerModel('m', { runId: run.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await registry.getModel('m')).toBeNull();
  });

  it('archiveExisting leaves exactly one version in the stage and records every move', async () => {
    const registry = await openMemoryRegistry();
    const runId = await runWithModel(registry);
    for (let i = 0; i < 3; i++) await registry.registerModel('m', { runId });
    await registry.transitionStage('m', 1, 'production');
    await registry.transitionStage('m', 2, 'Production'); // stages match case-insensitively
    await registry.transitionStage('m', 3, 'production', {
      archiveExisting: true,
      comment: 'passed eval',
      actor: 'ana',
    });
    const inProd = await registry.listVersions('m', { stage: 'production' });
    expect(inProd.map((v) => v.version)).toEqual([3]);
    expect((await registry.listVersions('m', { stage: 'archived' })).map((v) => v.version)).toEqual([1, 2]);
    const history = await registry.getStageHistory('m');
    expect(history.map((h) => [h.version, h.fromStage, h.toStage])).toEqual([
      [1, 'none', 'production'],
      [2, 'none', 'production'],
      [3, 'none', 'production'],
      [1, 'production', 'archived'],
      [2, 'production', 'archived'],
    ]);
    expect(history[2]).toMatchObject({ actor: 'ana', comment: 'passed eval', kind: 'stage' });
    expect(history[0]!.actor).toBe('tester');
  });

  it('custom stages are used for new versions and archiving', async () => {
    const registry = await openMemoryRegistry({ stages: ['dev', 'staging', 'production', 'retired'] });
    const runId = await runWithModel(registry);
    const v = await registry.registerModel('m', { runId });
    expect(v.stage).toBe('dev');
    await registry.registerModel('m', { runId });
    await registry.transitionStage('m', 1, 'production');
    await registry.transitionStage('m', 2, 'production', { archiveExisting: true });
    expect((await registry.getVersion('m', 1))!.stage).toBe('retired');
    await expect(registry.transitionStage('m', 1, 'archived')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('aliases move with compare-and-set and every move is in the history', async () => {
    const registry = await openMemoryRegistry();
    const runId = await runWithModel(registry);
    await registry.registerModel('m', { runId });
    await registry.registerModel('m', { runId });
    await registry.setAlias('m', 'champion', 1, { ifVersion: null });
    await expect(registry.setAlias('m', 'champion', 2, { ifVersion: null })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(registry.setAlias('m', 'champion', 2, { ifVersion: 2 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await registry.setAlias('m', 'champion', 2, { ifVersion: 1, comment: 'better' });
    expect((await registry.resolve('models:/m@champion')).modelVersion!.version).toBe(2);
    await registry.deleteAlias('m', 'champion');
    await expect(registry.resolve('models:/m@champion')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const history = await registry.getStageHistory('m');
    expect(history.map((h) => [h.kind, h.alias, h.fromVersion, h.version])).toEqual([
      ['alias_set', 'champion', null, 1],
      ['alias_set', 'champion', 1, 2],
      ['alias_deleted', 'champion', 2, 2],
    ]);
    await expect(registry.setAlias('m', 'latest', 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(registry.setAlias('m', 'v2', 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('resolve understands every URI form', async () => {
    const registry = await openMemoryRegistry();
    const runId = await runWithModel(registry);
    for (let i = 0; i < 3; i++) await registry.registerModel('m', { runId });
    await registry.transitionStage('m', 2, 'production');
    await registry.setAlias('m', 'champion', 1);
    const version = async (uri: string) => (await registry.resolve(uri)).modelVersion?.version;
    expect(await version('models:/m/1')).toBe(1);
    expect(await version('models:/m/latest')).toBe(3);
    expect(await version('models:/m/production')).toBe(2);
    expect(await version('models:/m/Production')).toBe(2);
    expect(await version('models:/m@champion')).toBe(1);
    const run = await registry.resolve(`runs:/${runId}/model`);
    expect(run.runId).toBe(runId);
    expect(run.files.map((f) => f.path)).toEqual(['MODEL.json', 'model.native.json']);
    await expect(registry.resolve('models:/m/staging')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(registry.resolve('models:/m/9')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('has no version 9'),
    });
    await expect(registry.resolve('models:/nope/1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('searchRuns filters, sorts and pages with tokens', async () => {
    const registry = await openMemoryRegistry();
    for (let i = 0; i < 7; i++) {
      const run = await registry.startRun({ experiment: 'iris', name: `r${i}` });
      await run.logParams({ depth: i % 2 === 0 ? 4 : 8 });
      await run.logMetric('acc', 0.5 + i / 20);
      await run.end();
    }
    const first = await registry.searchRuns({
      experiment: 'iris',
      where: { metrics: { acc: { gte: 0.6 } }, params: { depth: 4 } },
      orderBy: [{ metric: 'acc', direction: 'desc' }],
      limit: 1,
    });
    expect(first.runs.map((r) => r.name)).toEqual(['r6']);
    const second = await registry.searchRuns({
      experiment: 'iris',
      where: { metrics: { acc: { gte: 0.6 } }, params: { depth: 4 } },
      orderBy: [{ metric: 'acc', direction: 'desc' }],
      limit: 1,
      pageToken: first.nextPageToken!,
    });
    expect(second.runs.map((r) => r.name)).toEqual(['r4']);
    const third = await registry.searchRuns({
      experiment: 'iris',
      where: { metrics: { acc: { gte: 0.6 } }, params: { depth: 4 } },
      orderBy: [{ metric: 'acc', direction: 'desc' }],
      limit: 5,
      pageToken: second.nextPageToken!,
    });
    expect(third.runs.map((r) => r.name)).toEqual(['r2']);
    expect(third.nextPageToken).toBeNull();
    await expect(
      registry.searchRuns({ experiment: 'iris', pageToken: first.nextPageToken! }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect((await registry.searchRuns({ experiment: 'unknown' })).runs).toEqual([]);
  });

  it('nested runs keep their parent and metric history keeps every point', async () => {
    const registry = await openMemoryRegistry();
    const parent = await registry.startRun({ experiment: 'e' });
    const child = await registry.startRun({ experiment: 'e', parentRunId: parent.id });
    expect((await child.info()).parentRunId).toBe(parent.id);
    await child.logMetric('loss', 0.9, { step: 1 });
    await child.logMetric('loss', 0.5, { step: 2 });
    await child.logMetric('loss', 0.7, { step: 0 });
    const history = await registry.getMetricHistory(child.id, 'loss');
    expect(history.map((p) => [p.step, p.value])).toEqual([
      [0, 0.7],
      [1, 0.9],
      [2, 0.5],
    ]);
    expect((await child.info()).latestMetrics.loss).toBe(0.5);
    const top = await registry.searchRuns({ experiment: 'e', where: { parentRunId: null } });
    expect(top.runs.map((r) => r.id)).toEqual([parent.id]);
    await expect(registry.startRun({ experiment: 'e', parentRunId: 'missing' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('logging an artifact path twice is ALREADY_EXISTS and keeps the first file', async () => {
    const registry = await openMemoryRegistry();
    const run = await registry.startRun({ experiment: 'e' });
    const first = await run.logArtifact('plots/a.txt', 'one');
    await expect(run.logArtifact('plots/a.txt', 'two')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await run.listArtifacts()).toEqual([first]);
    expect(new TextDecoder().decode((await registry.stores.artifacts.get(first.key))!)).toBe('one');
  });

  it('events arrive in order for changes made by this process', async () => {
    const registry = await openMemoryRegistry();
    const seen: RegistryEvent[] = [];
    registry.on('*', (e) => seen.push(e));
    await registry.eventsReady();
    const runId = await runWithModel(registry);
    await registry.registerModel('m', { runId });
    await registry.transitionStage('m', 1, 'staging');
    await registry.setAlias('m', 'best', 1);
    await expect
      .poll(() => seen.map((e) => e.type).filter((t) => !t.startsWith('run') && !t.startsWith('experiment')))
      .toEqual(['model.created', 'version.created', 'version.stage_changed', 'alias.set']);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await registry.close();
  });

  it('gc deletes unreferenced artifacts older than the grace period and keeps the rest', async () => {
    let now = 1_000_000;
    const artifacts = createMemoryArtifactStore();
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts,
      now: () => now,
    });
    const runId = await runWithModel(registry);
    await registry.registerModel('m', { runId });
    await artifacts.put('runs/ghost/artifacts/model/model.onnx', 'orphan');
    const dry = await registry.gc({ gracePeriodMs: 0, dryRun: true });
    expect(dry.deleted).toEqual([]); // the orphan was written "now" by the real clock, far after the fake one
    now = Date.now() + 10_000;
    const before = (await artifacts.list('')).length;
    const result = await registry.gc({ gracePeriodMs: 5_000 });
    expect(result.deleted).toEqual(['runs/ghost/artifacts/model/model.onnx']);
    expect((await artifacts.list('')).length).toBe(before - 1);
    await registry.deleteVersion('m', 1);
    expect((await registry.gc({ gracePeriodMs: 0 })).deleted).toEqual([]); // soft-deleted versions keep their files
  });
});
