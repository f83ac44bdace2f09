import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { SwapEvent, WatchErrorEvent } from '../../src/serving/live-model.js';
import { openMemoryRegistry } from '../registry/helpers.js';
import { forestModel, irisRows, sleep, trainIris, treeModel } from './helpers.js';

const registries: ModelRegistry[] = [];
async function open(options: { modelCacheSize?: number } = {}): Promise<ModelRegistry> {
  const registry = await openMemoryRegistry({ now: Date.now, ...options });
  registries.push(registry);
  return registry;
}
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

/** Predicts in a loop until `stop()`; records the version of every answer and every failure. */
function predictLoop(predict: () => Promise<{ version: number | null }>) {
  const served: Array<number | null> = [];
  const failures: unknown[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        served.push((await predict()).version);
      } catch (e) {
        failures.push(e);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    served,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** A version whose MODEL.json is not a valid manifest: it registers, but cannot load. */
async function registerBrokenVersion(registry: ModelRegistry, name: string): Promise<number> {
  const run = await registry.startRun({ experiment: 'broken' });
  await run.logArtifact('model/MODEL.json', JSON.stringify({ formatVersion: 1 }));
  await run.end();
  return (await registry.registerModel(name, { runId: run.id })).version;
}

describe('registry.watch', () => {
  it('returns at once, loads in the background, and predict awaits the first load', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    const live = registry.watch('models:/iris/production');
    expect(live.current).toBeNull();
    expect(live.version).toBeNull();
    const labels = await live.predict(irisRows.slice(0, 3));
    expect(labels).toEqual(['setosa', 'setosa', 'setosa']);
    expect(live.version?.version).toBe(1);
    expect((await live.ready()).version?.version).toBe(1);
    expect(await live.predictProba(irisRows.slice(0, 1))).toHaveLength(1);
  });

  it('swaps to the new production version after transitionStage, with no failed prediction during the swap', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    const v2 = await trainIris(registry, 'iris', forestModel);
    const swaps: SwapEvent[] = [];
    const live = registry.watch('models:/iris/production', { onSwap: (e) => swaps.push(e) });
    await live.ready();
    const loop = predictLoop(async () =>
      live.predictWithVersion(irisRows.slice(0, 20)).then((r) => ({
        version: r.version?.version ?? null,
      })),
    );
    await sleep(50);
    await registry.transitionStage('iris', v2, 'production', { archiveExisting: true });
    await vi.waitFor(() => expect(live.version?.version).toBe(2), { timeout: 2000, interval: 5 });
    await sleep(50);
    await loop.stop();

    expect(loop.failures).toEqual([]);
    expect(loop.served.length).toBeGreaterThan(10);
    const firstTwo = loop.served.indexOf(2);
    expect(firstTwo).toBeGreaterThan(0);
    expect(loop.served.slice(0, firstTwo).every((v) => v === 1)).toBe(true);
    expect(loop.served.slice(firstTwo).every((v) => v === 2)).toBe(true);
    expect(swaps.map((s) => [s.from?.version ?? null, s.to.version])).toEqual([
      [null, 1],
      [1, 2],
    ]);
  });

  it('follows an alias moved with setAlias', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { alias: 'champion' });
    const v2 = await trainIris(registry, 'iris', forestModel);
    const live = registry.watch('models:/iris@champion');
    expect((await live.ready()).version?.version).toBe(1);
    const loop = predictLoop(async () => ({
      version: (await live.predictWithVersion(irisRows)).version!.version,
    }));
    await registry.setAlias('iris', 'champion', v2, { ifVersion: 1 });
    await vi.waitFor(() => expect(live.version?.version).toBe(2), { timeout: 2000, interval: 5 });
    await loop.stop();
    expect(loop.failures).toEqual([]);
    expect((await live.predictWithVersion(irisRows.slice(0, 1))).version?.version).toBe(2);
  });

  it('follows /latest when a version is created', async () => {
    const registry = await open();
    await trainIris(registry, 'iris');
    const live = registry.watch('models:/iris/latest');
    expect((await live.ready()).version?.version).toBe(1);
    await trainIris(registry, 'iris', forestModel);
    await vi.waitFor(() => expect(live.version?.version).toBe(2), { timeout: 2000, interval: 5 });
  });

  it('keeps serving the old version when the new one fails to load, and reports it', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    const errors: WatchErrorEvent[] = [];
    const live = registry.watch('models:/iris/production', { onError: (e) => errors.push(e) });
    await live.ready();
    const broken = await registerBrokenVersion(registry, 'iris');
    await registry.transitionStage('iris', broken, 'production', { archiveExisting: true });
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 2000, interval: 5 });
    expect(errors[0]).toMatchObject({ phase: 'load', serving: { version: 1 } });
    expect(isRegistryError(errors[0]!.error, 'INVALID_ARGUMENT')).toBe(true);
    expect(live.lastError).toBe(errors[0]!.error);
    const { predictions, version } = await live.predictWithVersion(irisRows.slice(0, 2));
    expect(predictions).toHaveLength(2);
    expect(version?.version).toBe(1);

    // A good version promoted afterwards is picked up, and the error clears.
    const good = await trainIris(registry, 'iris', forestModel);
    await registry.transitionStage('iris', good, 'production', { archiveExisting: true });
    await vi.waitFor(() => expect(live.version?.version).toBe(good), { timeout: 2000, interval: 5 });
    expect(live.lastError).toBeNull();
  });

  it('keeps the last good model when the URI stops resolving (alias deleted), and reports NOT_FOUND', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { alias: 'champion' });
    const errors: WatchErrorEvent[] = [];
    const live = registry.watch('models:/iris@champion', { onError: (e) => errors.push(e) });
    await live.ready();
    await registry.deleteAlias('iris', 'champion');
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 2000, interval: 5 });
    expect(errors[0]!.phase).toBe('resolve');
    expect(isRegistryError(errors[0]!.error, 'NOT_FOUND')).toBe(true);
    expect((await live.predictWithVersion(irisRows.slice(0, 1))).version?.version).toBe(1);
  });

  it('after a rename, a watch of the old name reports NOT_FOUND and keeps serving; one of the new name loads', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    const errors: WatchErrorEvent[] = [];
    const old = registry.watch('models:/iris/production', {
      onError: (e) => errors.push(e),
      recheckIntervalMs: 0,
    });
    await old.ready();
    const renamed = registry.watch('models:/flowers/production', {
      onError: () => undefined,
      recheckIntervalMs: 0,
    });
    await expect(renamed.ready()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await registry.predict('models:/iris/production', irisRows.slice(0, 1))).toEqual(['setosa']);
    await registry.renameModel('iris', 'flowers');
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 2000, interval: 5 });
    expect(isRegistryError(errors[0]!.error, 'NOT_FOUND')).toBe(true);
    expect((await old.predictWithVersion(irisRows.slice(0, 1))).version?.version).toBe(1);
    // Only the rename's event tells the new name's watch to look again (no periodic re-check here).
    await vi.waitFor(() => expect(renamed.version?.name).toBe('flowers'), { timeout: 2000, interval: 5 });
    await expect(registry.predict('models:/iris/production', irisRows.slice(0, 1))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await registry.predict('models:/flowers/production', irisRows.slice(0, 1))).toEqual(['setosa']);
  });

  it('ready() rejects while the URI resolves to nothing, and a later ready() retries', async () => {
    const registry = await open();
    const live = registry.watch('models:/iris/production', { onError: () => undefined });
    await expect(live.ready()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(live.predict(irisRows.slice(0, 1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    expect((await live.ready()).version?.version).toBe(1);
  });

  it('coalesces a burst of moves into few loads and ends on the last one', async () => {
    const registry = await open();
    const versions = [await trainIris(registry, 'iris', treeModel, { alias: 'champion' })];
    versions.push(await trainIris(registry, 'iris', forestModel));
    versions.push(await trainIris(registry, 'iris', { type: 'random-forest', params: { nEstimators: 3 } }));
    const swaps: SwapEvent[] = [];
    const live = registry.watch('models:/iris@champion', { onSwap: (e) => swaps.push(e) });
    await live.ready();
    for (let i = 0; i < 20; i++) await registry.setAlias('iris', 'champion', versions[i % 3]!);
    await registry.setAlias('iris', 'champion', 3);
    await vi.waitFor(() => expect(live.version?.version).toBe(3), { timeout: 2000, interval: 5 });
    await sleep(100);
    expect(live.version?.version).toBe(3);
    expect(swaps.length).toBeLessThan(10);
  });

  it('refuses predictions after close, and registry.close closes the live models it made', async () => {
    const registry = await open();
    await trainIris(registry, 'iris', treeModel, { stage: 'production' });
    const a = registry.watch('models:/iris/production');
    const b = registry.watch('models:/iris/1');
    await Promise.all([a.ready(), b.ready()]);
    await a.close();
    await a.close();
    await expect(a.predict(irisRows.slice(0, 1))).rejects.toMatchObject({ code: 'CONFLICT' });
    await registry.close();
    await expect(b.predict(irisRows.slice(0, 1))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(() => registry.watch('models:/iris/1')).toThrow(/closed/);
  });

  it('rejects a malformed URI or options at once', async () => {
    const registry = await open();
    expect(() => registry.watch('iris/production')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => registry.watch('models:/iris/production', { debounceMs: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('a model evicted from the cache keeps serving the handles and live models that hold it', async () => {
    const registry = await open({ modelCacheSize: 1 });
    await trainIris(registry, 'iris', forestModel, { stage: 'production' });
    await trainIris(registry, 'other', forestModel, { stage: 'production' });
    const live = registry.watch('models:/iris/production');
    const held = await registry.load('models:/iris/production');
    expect(held.format).toBe('onnx');
    await live.ready();
    await registry.load('models:/other/production'); // evicts iris's ONNX runtime from the cache
    expect(await held.predict(irisRows.slice(0, 2))).toHaveLength(2);
    expect(await live.predict(irisRows.slice(0, 2))).toHaveLength(2);
    await live.close();
  });
});
