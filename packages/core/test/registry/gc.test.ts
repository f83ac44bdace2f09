import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { REGISTRY_ID_KEY } from '../../src/registry/binding.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { ArtifactInfo, ArtifactStore } from '../../src/stores/artifact-store.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import { runWithModel } from './helpers.js';

const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const irisKey = `datasets/iris/${createHash('sha256').update(irisCsv).digest('hex')}.csv`;

/** An artifact store whose `list` and `head` can run a hook once, to force gc's races. */
function hookedStore(inner: ArtifactStore): {
  store: ArtifactStore;
  afterList: (hook: () => Promise<void>) => void;
  beforeHead: (key: string, hook: () => Promise<void>) => void;
} {
  let listHook: (() => Promise<void>) | undefined;
  const headHooks = new Map<string, () => Promise<void>>();
  const store: ArtifactStore = {
    ...inner,
    async list(prefix: string): Promise<ArtifactInfo[]> {
      const listed = await inner.list(prefix);
      const hook = listHook;
      listHook = undefined;
      await hook?.();
      return listed;
    },
    async head(key: string): Promise<ArtifactInfo | null> {
      const hook = headHooks.get(key);
      headHooks.delete(key);
      await hook?.();
      return inner.head(key);
    },
  };
  return {
    store,
    afterList: (hook) => (listHook = hook),
    beforeHead: (key, hook) => headHooks.set(key, hook),
  };
}

/** Every key that metadata references is still stored. */
async function missingReferencedKeys(metadata: MetadataStore, artifacts: ArtifactStore): Promise<string[]> {
  const missing: string[] = [];
  for (const key of await metadata.listReferencedKeys()) {
    if ((await artifacts.head(key)) === null) missing.push(key);
  }
  return missing;
}

const warnings = () => vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('gc and writers racing', () => {
  it('a key written again and committed between the listing and the delete is kept', async () => {
    const inner = createMemoryArtifactStore();
    const metadata = createMemoryMetadataStore();
    const hooked = hookedStore(inner);
    const registry = await ModelRegistry.open({ metadata, artifacts: hooked.store });
    // A writer killed after its put and before its commit left the dataset's content-addressed file.
    await inner.put(irisKey, irisCsv);
    hooked.afterList(async () => {
      await registry.datasets.upload('iris.csv', irisCsv);
    });
    const result = await registry.gc({ gracePeriodMs: 0 });
    expect(result.deleted).toEqual([]);
    expect(await missingReferencedKeys(metadata, inner)).toEqual([]);
    expect((await registry.datasets.loadRaw('iris')).bytes.byteLength).toBe(irisCsv.byteLength);
    await registry.close();
  });

  it('a key written again and committed just before gc looks at it once more is kept', async () => {
    const inner = createMemoryArtifactStore();
    const metadata = createMemoryMetadataStore();
    const hooked = hookedStore(inner);
    const registry = await ModelRegistry.open({ metadata, artifacts: hooked.store });
    await inner.put(irisKey, irisCsv);
    await inner.put('runs/ghost/artifacts/orphan.bin', 'left by a crash');
    hooked.beforeHead(irisKey, async () => {
      await registry.datasets.upload('iris.csv', irisCsv);
    });
    const result = await registry.gc({ gracePeriodMs: 0 });
    expect(result.deleted).toEqual(['runs/ghost/artifacts/orphan.bin']);
    expect(await missingReferencedKeys(metadata, inner)).toEqual([]);
    expect((await registry.datasets.loadRaw('iris')).bytes.byteLength).toBe(irisCsv.byteLength);
    await registry.close();
  });

  it('an object rewritten after the listing is kept even before its metadata commits', async () => {
    const inner = createMemoryArtifactStore();
    const hooked = hookedStore(inner);
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: hooked.store,
    });
    await inner.put('runs/r/artifacts/a.bin', 'old');
    await new Promise((resolve) => setTimeout(resolve, 5)); // so the rewrite has a later time
    hooked.afterList(async () => {
      await inner.put('runs/r/artifacts/a.bin', 'new');
    });
    const result = await registry.gc({ gracePeriodMs: 0 });
    expect(result).toMatchObject({ deleted: [], young: 1 });
    expect(await inner.get('runs/r/artifacts/a.bin')).toEqual(new TextEncoder().encode('new'));
    await registry.close();
  });
});

describe('gc and the binding of the stores', () => {
  it('the first open binds both stores with one registry id, and gc never deletes the marker', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    const registry = await ModelRegistry.open({ metadata, artifacts });
    const id = await metadata.getRegistryId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new TextDecoder().decode((await artifacts.get(REGISTRY_ID_KEY))!).trim()).toBe(id);
    const result = await registry.gc({ gracePeriodMs: 0 });
    expect(result.deleted).toEqual([]);
    expect(result.refused).toBeUndefined();
    expect(await artifacts.head(REGISTRY_ID_KEY)).not.toBeNull();
    await registry.close();
  });

  it('gc against a new, empty metadata store next to existing artifacts deletes nothing and says why; open warns', async () => {
    const artifacts = createMemoryArtifactStore();
    const first = await ModelRegistry.open({ metadata: createMemoryMetadataStore(), artifacts });
    await runWithModel(first);
    await first.datasets.upload('iris.csv', irisCsv);
    await first.close();
    const keys = (await artifacts.list('')).map((o) => o.key);
    const warned = warnings();
    const wrong = await ModelRegistry.open({ metadata: createMemoryMetadataStore(), artifacts });
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('the metadata store is empty'), {
      code: 'MODELREG_STORES_NOT_BOUND',
    });
    for (const dryRun of [true, false]) {
      const result = await wrong.gc({ gracePeriodMs: 0, dryRun });
      expect(result).toMatchObject({ deleted: [], temporary: [], spool: [], expiredRuns: [] });
      expect(result.refused).toMatch(
        /metadata store is empty but the artifact store belongs to registry [0-9a-f]{32}/,
      );
    }
    expect((await artifacts.list('')).map((o) => o.key)).toEqual(keys);
    await wrong.close();
  });

  it("gc against another registry's metadata store deletes nothing and says why; open warns", async () => {
    const a = { metadata: createMemoryMetadataStore(), artifacts: createMemoryArtifactStore() };
    const b = { metadata: createMemoryMetadataStore(), artifacts: createMemoryArtifactStore() };
    for (const stores of [a, b]) {
      const registry = await ModelRegistry.open(stores);
      await runWithModel(registry);
      await registry.close();
    }
    const keys = (await b.artifacts.list('')).map((o) => o.key);
    const warned = warnings();
    const mixed = await ModelRegistry.open({ metadata: a.metadata, artifacts: b.artifacts });
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('belongs to registry'), {
      code: 'MODELREG_STORES_NOT_BOUND',
    });
    const result = await mixed.gc({ gracePeriodMs: 0 });
    expect(result.deleted).toEqual([]);
    expect(result.refused).toBe(
      `the metadata store belongs to registry ${await a.metadata.getRegistryId()} but the artifact store to registry ${await b.metadata.getRegistryId()}; gc deletes nothing`,
    );
    expect((await b.artifacts.list('')).map((o) => o.key)).toEqual(keys);
    await mixed.close();
  });

  it('a bound metadata store next to an artifact store with objects and no id is refused', async () => {
    const metadata = createMemoryMetadataStore();
    const first = await ModelRegistry.open({ metadata, artifacts: createMemoryArtifactStore() });
    await first.close();
    const foreign = createMemoryArtifactStore();
    await foreign.put('runs/x/artifacts/model/MODEL.json', '{}');
    warnings();
    const registry = await ModelRegistry.open({ metadata, artifacts: foreign });
    expect((await registry.gc({ gracePeriodMs: 0 })).refused).toContain('holds objects and no registry id');
    expect(await foreign.head('runs/x/artifacts/model/MODEL.json')).not.toBeNull();
    await registry.close();
  });

  it('a registry made before binding (metadata with data, no id) adopts its artifacts at the first open', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    await metadata.createExperiment({ id: 'e1', name: 'old', tags: {}, createdAt: Date.now() });
    await metadata.createRun({
      id: 'r1',
      experimentId: 'e1',
      name: 'r1',
      parentRunId: null,
      startTime: Date.now(),
      tags: {},
    });
    const kept = await artifacts.put('runs/r1/artifacts/a.txt', 'kept');
    await metadata.recordRunArtifacts('r1', [{ path: 'a.txt', key: 'runs/r1/artifacts/a.txt', ...kept }]);
    await metadata.endRun('r1', 'finished', Date.now());
    await artifacts.put('runs/r0/artifacts/orphan.txt', 'orphan');
    const warned = warnings();
    const registry = await ModelRegistry.open({ metadata, artifacts });
    expect(warned).not.toHaveBeenCalled();
    expect(await metadata.getRegistryId()).toMatch(/^[0-9a-f]{32}$/);
    expect((await registry.gc({ gracePeriodMs: 0 })).deleted).toEqual(['runs/r0/artifacts/orphan.txt']);
    expect(await artifacts.head('runs/r1/artifacts/a.txt')).not.toBeNull();
    await registry.close();
  });

  it('a new, empty artifact store adopts the registry id of its metadata store', async () => {
    const metadata = createMemoryMetadataStore();
    const first = await ModelRegistry.open({ metadata, artifacts: createMemoryArtifactStore() });
    await runWithModel(first);
    await first.close();
    const fresh = createMemoryArtifactStore();
    const warned = warnings();
    const registry = await ModelRegistry.open({ metadata, artifacts: fresh });
    expect(warned).not.toHaveBeenCalled();
    expect(new TextDecoder().decode((await fresh.get(REGISTRY_ID_KEY))!).trim()).toBe(
      await metadata.getRegistryId(),
    );
    expect((await registry.gc()).refused).toBeUndefined();
    await registry.close();
  });

  it('an artifact store that refuses writes (read-only credentials) still opens, with a warning, and gc deletes nothing', async () => {
    const inner = createMemoryArtifactStore();
    await inner.put('runs/r/artifacts/a.bin', 'x');
    const readOnly: ArtifactStore = {
      ...inner,
      put: async () => {
        throw new Error('AccessDenied');
      },
    };
    const warned = warnings();
    const metadata = createMemoryMetadataStore();
    await metadata.createExperiment({ id: 'e', name: 'e', tags: {}, createdAt: 1 });
    const registry = await ModelRegistry.open({ metadata, artifacts: readOnly });
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('checking the registry id failed'), {
      code: 'MODELREG_STORES_NOT_BOUND',
    });
    await expect(registry.gc({ gracePeriodMs: 0 })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    expect(await inner.head('runs/r/artifacts/a.bin')).not.toBeNull();
    await registry.close();
  });

  it('processes opening a new registry together agree on one registry id', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    const warned = warnings();
    const registries = await Promise.all([1, 2, 3].map(() => ModelRegistry.open({ metadata, artifacts })));
    expect(warned).not.toHaveBeenCalled();
    const id = await metadata.getRegistryId();
    expect(new TextDecoder().decode((await artifacts.get(REGISTRY_ID_KEY))!).trim()).toBe(id);
    for (const registry of registries) expect((await registry.gc()).refused).toBeUndefined();
    await Promise.all(registries.map((r) => r.close()));
  });
});

describe('gc of crash leftovers', () => {
  it('removes spool files and temp files older than the grace period; dryRun only reports them', async () => {
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'modelreg-spool-test-'));
    const old = (Date.now() - 2 * 60 * 60 * 1000) / 1000;
    await writeFile(path.join(spoolDir, 'a1b2'), 'spooled by a killed server');
    await utimes(path.join(spoolDir, 'a1b2'), old, old);
    await writeFile(path.join(spoolDir, 'c3d4'), 'being uploaded now');
    const temps = new Map<string, ArtifactInfo>([
      [
        'x/.old.0123456789abcdef.tmp',
        { key: 'x/.old.0123456789abcdef.tmp', size: 1, lastModified: old * 1000 },
      ],
      [
        'x/.new.0123456789abcdef.tmp',
        { key: 'x/.new.0123456789abcdef.tmp', size: 1, lastModified: Date.now() },
      ],
    ]);
    const artifacts: ArtifactStore = {
      ...createMemoryArtifactStore(),
      listTemporary: async () => [...temps.values()],
      deleteTemporary: async (key) => temps.delete(key),
    };
    const registry = await ModelRegistry.open({ metadata: createMemoryMetadataStore(), artifacts });
    const options = { gracePeriodMs: 60 * 60 * 1000, spoolDirs: [spoolDir] };
    const dry = await registry.gc({ ...options, dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      temporary: ['x/.old.0123456789abcdef.tmp'],
      spool: [path.join(spoolDir, 'a1b2')],
    });
    expect(temps.size).toBe(2);
    expect((await readdir(spoolDir)).sort()).toEqual(['a1b2', 'c3d4']);
    const done = await registry.gc(options);
    expect(done).toMatchObject({ dryRun: false, temporary: dry.temporary, spool: dry.spool });
    expect([...temps.keys()]).toEqual(['x/.new.0123456789abcdef.tmp']);
    expect(await readdir(spoolDir)).toEqual(['c3d4']);
    await registry.close();
  });

  it('a missing spool folder is not an error', async () => {
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
    const result = await registry.gc({ spoolDirs: [path.join(tmpdir(), 'modelreg-no-such-folder-4f1c')] });
    expect(result.spool).toEqual([]);
    await registry.close();
  });

  it('bad gc options are INVALID_ARGUMENT', async () => {
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
    await expect(registry.gc({ gracePeriodMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(registry.gc({ spoolDirs: [''] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await registry.close();
  });
});

describe('run leases', () => {
  it('a run whose process stopped sending heartbeats ends as failed at the next open or gc after the lease', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let clock = 1_000_000;
    const now = () => clock;
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    const options = { metadata, artifacts, now, runLeaseMs: 3000 };
    const alive = await ModelRegistry.open(options);
    const live = await alive.startRun({ experiment: 'leases' });
    const dying = await ModelRegistry.open(options);
    const dead = await dying.startRun({ experiment: 'leases' });
    await dying.close(); // like a kill: no more heartbeats, the run stays `running`

    clock += 2000;
    await vi.advanceTimersByTimeAsync(1000); // one heartbeat of `alive` at 1 002 000
    clock += 2000;
    const other = await ModelRegistry.open(options); // 2 s after the heartbeat, 4 s after the start
    expect(await other.getRun(live.id)).toMatchObject({ status: 'running' });
    expect(await other.getRun(dead.id)).toMatchObject({ status: 'failed', endTime: clock });

    await alive.close(); // stops the heartbeats of `live` too
    clock += 3001;
    const dry = await other.gc({ dryRun: true });
    expect(dry.expiredRuns).toEqual([live.id]);
    expect(await other.getRun(live.id)).toMatchObject({ status: 'running' });
    expect((await other.gc()).expiredRuns).toEqual([live.id]);
    expect(await other.getRun(live.id)).toMatchObject({ status: 'failed' });
    await other.close();
  });

  it('a run that ended stops sending heartbeats, and ending a run that expired is CONFLICT', async () => {
    let clock = 1_000_000;
    const options = {
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
      now: () => clock,
      runLeaseMs: 1000,
    };
    const registry = await ModelRegistry.open(options);
    const ended = await registry.startRun();
    await ended.end();
    const stalled = await registry.startRun();
    clock += 5000;
    const other = await ModelRegistry.open(options);
    expect(await other.getRun(ended.id)).toMatchObject({ status: 'finished' });
    await expect(stalled.end()).rejects.toMatchObject({ code: 'CONFLICT' });
    await other.close();
    await registry.close();
  });
});
