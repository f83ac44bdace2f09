import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { copyModelVersion } from '../../src/registry/copy.js';
import { REGISTRY_ID_KEY } from '../../src/registry/binding.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { ArtifactStore } from '../../src/stores/artifact-store.js';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { openMemoryRegistry } from './helpers.js';
import { registryState } from './inject.js';

const iris = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const rows = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
  { sepal_length_cm: 6.0, sepal_width_cm: 2.7, petal_length_cm: 5.1, petal_width_cm: 1.6 },
  { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
];

async function devWithModel(): Promise<ModelRegistry> {
  const dev = await openMemoryRegistry();
  await dev.datasets.upload('iris.csv', iris);
  await dev.train({
    experiment: 'iris',
    dataset: 'iris',
    target: 'species',
    model: { type: 'random-forest', params: { nEstimators: 6, maxDepth: 4 } },
    register: { name: 'iris', stage: 'staging' },
  });
  return dev;
}

/** An artifact store that remembers every key written to it. */
function recordingArtifacts(): { store: ArtifactStore; puts: string[] } {
  const inner = createMemoryArtifactStore();
  const puts: string[] = [];
  const store: ArtifactStore = {
    ...inner,
    name: inner.name,
    init: () => inner.init(),
    close: () => inner.close(),
    put: (key, body) => {
      puts.push(key);
      return inner.put(key, body);
    },
    get: (key) => inner.get(key),
    getStream: (key) => inner.getStream(key),
    head: (key) => inner.head(key),
    list: (prefix) => inner.list(prefix),
    delete: (key) => inner.delete(key),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
  };
  return { store, puts };
}

describe('copyModelVersion never destroys a good target', () => {
  it('a second copy from a damaged source throws INTEGRITY, and the production version of the target still loads and predicts', async () => {
    const dev = await devWithModel();
    const prod = await openMemoryRegistry();
    await copyModelVersion(dev, prod, { name: 'iris', version: 1 });
    await prod.transitionStage('iris', 1, 'production');
    const expected = await prod.predict('models:/iris/production', rows);
    const before = await registryState(prod);

    // The source's bytes go bad (a flipped byte in every file of the version).
    const source = (await dev.getVersion('iris', 1))!;
    for (const file of source.files) {
      const bytes = (await dev.stores.artifacts.get(file.key))!;
      const middle = bytes.length >> 1;
      bytes[middle] = bytes[middle]! ^ 0xff;
      await dev.stores.artifacts.put(file.key, bytes);
    }
    await expect(copyModelVersion(dev, prod, { name: 'iris', version: 1 })).rejects.toMatchObject({
      name: 'RegistryError',
      code: 'INTEGRITY',
      message: expect.stringContaining('nothing was copied'),
    });

    expect(await registryState(prod)).toEqual(before);
    const fresh = await openMemoryRegistry({
      metadata: prod.stores.metadata,
      artifacts: prod.stores.artifacts,
    });
    expect(await fresh.predict('models:/iris/production', rows)).toEqual(expected);
    expect(await prod.predict('models:/iris/production', rows)).toEqual(expected);
  });

  it('copied files go under fresh keys that no metadata of the target referenced', async () => {
    const dev = await devWithModel();
    const { store, puts } = recordingArtifacts();
    const prod = await openMemoryRegistry({ artifacts: store });
    const first = await copyModelVersion(dev, prod, { name: 'iris', version: 1 });
    const runId = first.version.runId!;
    expect(first.version.files.map((f) => f.key)).toEqual(
      first.version.files.map((f) =>
        expect.stringMatching(new RegExp(`^runs/${runId}/copies/[0-9a-f]{32}/model/${f.path}$`)),
      ),
    );
    // A second version of another run written in between, then a copy of a second source version.
    await dev.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree', params: { maxDepth: 3 } },
      register: { name: 'iris' },
    });
    const referenced = new Set(await prod.stores.metadata.listReferencedKeys());
    puts.length = 0;
    await copyModelVersion(dev, prod, { name: 'iris', version: 2 });
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.filter((key) => referenced.has(key))).toEqual([]);
  });

  it('a second copy of a version reuses the files its run already records and writes nothing', async () => {
    const dev = await devWithModel();
    const { store, puts } = recordingArtifacts();
    const prod = await openMemoryRegistry({ artifacts: store });
    const first = await copyModelVersion(dev, prod, { name: 'iris', version: 1 });
    puts.length = 0;
    const again = await copyModelVersion(dev, prod, { name: 'iris', version: 1, stage: 'production' });
    expect(puts).toEqual([]);
    expect(again.version).toMatchObject({ version: 2, stage: 'production', runId: first.version.runId });
    expect(again.version.files).toEqual(first.version.files);
    expect(await prod.predict('models:/iris/2', rows)).toEqual(await dev.predict('models:/iris/1', rows));
  });

  it('a copy creates the run, the version in its stage and the alias in one step, with history', async () => {
    const dev = await devWithModel();
    await dev.setAlias('iris', 'candidate', 1);
    const prod = await openMemoryRegistry();
    const seq = await prod.stores.metadata.lastEventSeq();
    const { version } = await copyModelVersion(dev, prod, {
      name: 'iris',
      version: 1,
      stage: 'production',
      alias: 'champion',
      comment: 'release 7',
    });
    expect(version).toMatchObject({ version: 1, stage: 'production', aliases: ['champion'] });
    expect(version.tags['modelreg.source']).toBe('models:/iris/1');
    const run = (await prod.getRun(version.runId!))!;
    const source = (await dev.getRun(version.runId!))!;
    expect(run).toMatchObject({
      params: source.params,
      latestMetrics: source.latestMetrics,
      status: 'finished',
    });
    expect(
      (await prod.getStageHistory('iris')).map((h) => [h.kind, h.fromStage, h.toStage, h.alias, h.comment]),
    ).toEqual([
      ['stage', 'none', 'production', null, 'release 7'],
      ['alias_set', null, null, 'champion', 'release 7'],
    ]);
    const types = (await prod.stores.metadata.readEvents(seq, 100)).map((e) => e.type);
    expect(types).toEqual([
      'experiment.created',
      'run.created',
      'run.updated',
      'model.created',
      'version.created',
      'version.stage_changed',
      'alias.set',
    ]);
    const carried = await prod.stores.artifacts.get(
      (await prod.stores.metadata.listRunArtifacts(run.id, 'modelreg/history/'))[0]!.key,
    );
    const history = JSON.parse(new TextDecoder().decode(carried!)) as { history: { kind: string }[] };
    expect(history.history.map((h) => h.kind)).toEqual(['stage', 'alias_set']);
  });

  it('a target run that records other bytes at the model path is CONFLICT and changes nothing', async () => {
    const dev = await devWithModel();
    const prod = await openMemoryRegistry();
    const { version } = await copyModelVersion(dev, prod, { name: 'iris', version: 1 });
    // Another target already holds a run of that id whose model folder records other bytes.
    const other = await openMemoryRegistry();
    await other.stores.metadata.createExperiment({ id: 'e1', name: 'iris', tags: {}, createdAt: 1 });
    await other.stores.metadata.createRun({
      id: version.runId!,
      experimentId: 'e1',
      name: 'same id',
      parentRunId: null,
      startTime: 1,
      tags: {},
    });
    await other.stores.metadata.recordRunArtifacts(version.runId!, [
      { path: 'model/MODEL.json', key: 'elsewhere', sha256: 'f'.repeat(64), size: 3 },
    ]);
    const before = await registryState(other);
    await expect(copyModelVersion(dev, other, { name: 'iris', version: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('model/MODEL.json'),
    });
    expect(await registryState(other)).toEqual(before);
    const keys = (await other.stores.artifacts.list('')).map((o) => o.key);
    expect(keys).toEqual([REGISTRY_ID_KEY]); // the binding marker only: no copied file was left behind
  });
});
