import { afterEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { RegistryErrorCode } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { openMemoryRegistry, runWithModel, snapshot } from './helpers.js';

const registries: ModelRegistry[] = [];
async function open(): Promise<ModelRegistry> {
  const registry = await openMemoryRegistry();
  registries.push(registry);
  return registry;
}
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function expectCode(work: Promise<unknown>, code: RegistryErrorCode, text?: string): Promise<void> {
  const error = await work.then(
    () => expect.fail(`expected ${code}, but the call succeeded`),
    (e: unknown) => e,
  );
  expect(isRegistryError(error, code), String(error)).toBe(true);
  if (text !== undefined) expect((error as Error).message).toContain(text);
}

describe('experiments: create with tags, rename, tag, delete and restore', () => {
  it('createExperiment stores tags; a taken name is ALREADY_EXISTS; getExperiment reads it by name', async () => {
    const registry = await open();
    const created = await registry.createExperiment('iris', { tags: { team: 'vision' } });
    expect(created).toMatchObject({ name: 'iris', tags: { team: 'vision' }, deletedAt: null });
    expect(await registry.getExperiment('iris')).toEqual(created);
    expect(await registry.getExperiment('nope')).toBeNull();
    await expectCode(registry.createExperiment('iris'), 'ALREADY_EXISTS');
    await expectCode(registry.createExperiment('bad name'), 'INVALID_ARGUMENT', 'experiment name');
    await expectCode(registry.createExperiment('x', { tags: { 'bad key': 'v' } }), 'INVALID_ARGUMENT');
  });

  it('updateExperiment renames and changes tags; runs follow the experiment, not its name', async () => {
    const registry = await open();
    const run = await registry.startRun({ experiment: 'before' });
    const updated = await registry.updateExperiment('before', { name: 'after', tags: { k: 'v' } });
    expect(updated).toMatchObject({ name: 'after', tags: { k: 'v' } });
    expect((await registry.searchRuns({ experiment: 'after' })).runs.map((r) => r.id)).toEqual([run.id]);
    expect((await registry.searchRuns({ experiment: 'before' })).runs).toEqual([]);
    await registry.updateExperiment('after', { tags: { k: null } });
    expect((await registry.getExperiment('after'))?.tags).toEqual({});
  });

  it('bad updates are refused with a code naming the problem, and change nothing', async () => {
    const registry = await open();
    await registry.createExperiment('a');
    await registry.createExperiment('b');
    const before = await snapshot(registry);
    await expectCode(registry.updateExperiment('nope', { name: 'c' }), 'NOT_FOUND', '"nope"');
    await expectCode(registry.updateExperiment('a', { name: 'b' }), 'ALREADY_EXISTS', '"b"');
    await expectCode(registry.updateExperiment('a', { name: '../x' }), 'INVALID_ARGUMENT');
    await expectCode(registry.updateExperiment('a', { colour: 'red' } as never), 'INVALID_ARGUMENT');
    const tooMany = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']));
    await expectCode(registry.updateExperiment('a', { tags: tooMany }), 'INVALID_ARGUMENT');
    expect(await snapshot(registry)).toEqual(before);
  });

  it('a deleted experiment: hidden from listings and searches, its name taken, no new runs, restorable', async () => {
    const registry = await open();
    const run = await registry.startRun({ experiment: 'old' });
    await registry.createExperiment('kept');
    const deleted = await registry.deleteExperiment('old');
    expect(deleted.deletedAt).not.toBeNull();
    expect((await registry.listExperiments()).map((e) => e.name)).toEqual(['kept']);
    expect((await registry.listExperiments({ lifecycle: 'deleted' })).map((e) => e.name)).toEqual(['old']);
    expect((await registry.listExperiments({ lifecycle: 'all' })).map((e) => e.name)).toEqual([
      'old',
      'kept',
    ]);
    expect((await registry.searchRuns({ experiment: 'old' })).runs).toEqual([]);
    const deletedRuns = await registry.searchRuns({ experiment: 'old', lifecycle: 'deleted' });
    expect(deletedRuns.runs.map((r) => r.id)).toEqual([run.id]);
    await expectCode(registry.startRun({ experiment: 'old' }), 'CONFLICT', 'restore');
    await expectCode(registry.getOrCreateExperiment('old'), 'CONFLICT');
    await expectCode(registry.createExperiment('old'), 'ALREADY_EXISTS');
    await expectCode(registry.openRun(run.id), 'CONFLICT', 'deleted');
    await expectCode(registry.updateExperiment('old', { tags: { k: 'v' } }), 'CONFLICT');
    await expectCode(registry.deleteExperiment('old'), 'CONFLICT');
    await expectCode(registry.listExperiments({ lifecycle: 'gone' } as never), 'INVALID_ARGUMENT');

    await registry.restoreExperiment('old');
    expect((await registry.searchRuns({ experiment: 'old' })).runs.map((r) => r.id)).toEqual([run.id]);
    await (await registry.openRun(run.id)).logMetric('acc', 0.9);
    await expectCode(registry.restoreExperiment('old'), 'CONFLICT');
    await expectCode(registry.restoreExperiment('nope'), 'NOT_FOUND');
  });

  it('an experiment is addressed by { id } too, which stays the same through renames', async () => {
    const registry = await open();
    const { id } = await registry.createExperiment('first');
    await registry.updateExperiment({ id }, { name: 'second' });
    await registry.updateExperiment({ id }, { name: 'third', tags: { k: 'v' } });
    expect(await registry.getExperiment({ id })).toMatchObject({ name: 'third', tags: { k: 'v' } });
    await registry.deleteExperiment({ id });
    expect((await registry.restoreExperiment({ id })).deletedAt).toBeNull();
    expect(await registry.getExperiment({ id: 'nope' })).toBeNull();
    await expectCode(registry.deleteExperiment({ id: 'nope' }), 'NOT_FOUND', 'with id "nope"');
    await expectCode(registry.deleteExperiment({ id: 5 } as never), 'INVALID_ARGUMENT');
    await expectCode(registry.deleteExperiment({ id, name: 'third' } as never), 'INVALID_ARGUMENT');
  });

  it('a search page token is bound to its lifecycle view', async () => {
    const registry = await open();
    for (let i = 0; i < 3; i++) await registry.startRun({ experiment: 'e' });
    const page = await registry.searchRuns({ experiment: 'e', limit: 2 });
    expect(page.nextPageToken).not.toBeNull();
    await expectCode(
      registry.searchRuns({ experiment: 'e', limit: 2, pageToken: page.nextPageToken!, lifecycle: 'all' }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('runs: delete and restore', () => {
  it('a deleted run keeps its data, leaves searches, cannot be opened; restore undoes it', async () => {
    const registry = await open();
    const handle = await registry.startRun({ experiment: 'e' });
    await handle.logParam('lr', 0.1);
    const deleted = await registry.deleteRun(handle.id);
    expect(deleted).toMatchObject({ id: handle.id, status: 'running', params: { lr: '0.1' } });
    expect(deleted.deletedAt).not.toBeNull();
    expect(await registry.getRun(handle.id)).toEqual(deleted);
    expect((await registry.searchRuns({ experiment: 'e' })).runs).toEqual([]);
    await expectCode(registry.openRun(handle.id), 'CONFLICT', 'restoreRun');
    await expectCode(registry.deleteRun(handle.id), 'CONFLICT');
    const restored = await registry.restoreRun(handle.id);
    expect(restored.deletedAt).toBeNull();
    expect((await registry.searchRuns({ experiment: 'e' })).runs.map((r) => r.id)).toEqual([handle.id]);
    await expectCode(registry.restoreRun(handle.id), 'CONFLICT');
    await expectCode(registry.deleteRun('f'.repeat(32)), 'NOT_FOUND');
    await expectCode(registry.deleteRun(''), 'INVALID_ARGUMENT');
  });
});

describe('renameModel', () => {
  it('moves versions, stages, aliases and history; old URIs are NOT_FOUND; the old name is free', async () => {
    const registry = await open();
    const runId = await runWithModel(registry);
    await registry.registerModel('iris', { runId });
    await registry.registerModel('iris', { runId });
    await registry.transitionStage('iris', 2, 'production');
    await registry.setAlias('iris', 'champion', 1);
    const history = await registry.getStageHistory('iris');
    const renamed = await registry.renameModel('iris', 'flowers');
    expect(renamed).toMatchObject({ name: 'flowers', lastVersion: 2, aliases: { champion: 1 } });
    expect((await registry.resolve('models:/flowers/production')).modelVersion?.version).toBe(2);
    expect((await registry.resolve('models:/flowers@champion')).modelVersion?.version).toBe(1);
    await expectCode(registry.resolve('models:/iris/production'), 'NOT_FOUND');
    expect(await registry.getStageHistory('flowers')).toEqual(
      history.map((h) => ({ ...h, name: 'flowers' })),
    );
    expect((await registry.registerModel('iris', { runId })).version).toBe(1);
    expect((await registry.registerModel('flowers', { runId })).version).toBe(3);
  });

  it('bad renames are refused with a code and change nothing', async () => {
    const registry = await open();
    const runId = await runWithModel(registry);
    await registry.registerModel('a', { runId });
    await registry.createModel('b');
    await registry.createModel('gone');
    await registry.deleteModel('gone');
    const before = await snapshot(registry);
    await expectCode(registry.renameModel('a', 'a'), 'INVALID_ARGUMENT', 'already has the name');
    await expectCode(registry.renameModel('a', 'b'), 'ALREADY_EXISTS');
    await expectCode(registry.renameModel('a', 'gone'), 'ALREADY_EXISTS', 'deleted model');
    await expectCode(registry.renameModel('nope', 'c'), 'NOT_FOUND');
    await expectCode(registry.renameModel('a', 'bad name'), 'INVALID_ARGUMENT', 'new model name');
    await expectCode(registry.renameModel('a', 7 as never), 'INVALID_ARGUMENT');
    expect(await snapshot(registry)).toEqual(before);
  });

  it('emits model.renamed, which moves the URIs of both names', async () => {
    const registry = await open();
    const runId = await runWithModel(registry);
    await registry.registerModel('a', { runId });
    const seen: unknown[] = [];
    registry.on('model.renamed', (e) => seen.push(e.payload));
    await registry.eventsReady();
    await registry.renameModel('a', 'b');
    await expect.poll(() => seen).toEqual([{ name: 'a', newName: 'b' }]);
  });
});

describe('roles', () => {
  it('an editor may rename and tag experiments; deletes, restores and model renames need an admin', async () => {
    const registry = await open();
    const runId = await runWithModel(registry, 'exp');
    await registry.registerModel('m', { runId });
    const editor = registry.as({ name: 'ed', role: 'editor', models: null, tokenId: null });
    await editor.updateExperiment('exp', { name: 'exp2', tags: { k: 'v' } });
    await expectCode(editor.deleteExperiment('exp2'), 'PERMISSION_DENIED', 'admin');
    await expectCode(editor.deleteRun(runId), 'PERMISSION_DENIED');
    await expectCode(editor.renameModel('m', 'n'), 'PERMISSION_DENIED');
    const admin = registry.as({ name: 'root', role: 'admin', models: null, tokenId: null });
    await admin.deleteRun(runId);
    await expectCode(editor.restoreRun(runId), 'PERMISSION_DENIED');
    await admin.restoreRun(runId);
    await admin.renameModel('m', 'n');
    const reader = registry.as({ name: 'r', role: 'reader', models: null, tokenId: null });
    await expectCode(reader.updateExperiment('exp2', { tags: { k: 'w' } }), 'PERMISSION_DENIED');
    expect((await reader.getExperiment('exp2'))?.tags).toEqual({ k: 'v' });
  });
});
