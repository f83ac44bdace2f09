import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type * as Core from '../../src/index.js';
import { linearRegressionModel } from './fixtures.js';

// onnxruntime-node is an optional peer dependency. These tests open a second copy of core in which
// importing it fails as it does when the package is not installed (tests/consumer checks a real install
// without it).
const iris = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const fast = { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } };
const INSTALL = 'npm install onnxruntime-node';

async function coreWithoutOnnxRuntime(): Promise<typeof Core> {
  vi.resetModules();
  vi.doMock('onnxruntime-node', () => {
    throw Object.assign(new Error("Cannot find package 'onnxruntime-node'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  });
  return import('../../src/index.js');
}
afterEach(() => {
  vi.doUnmock('onnxruntime-node');
  vi.resetModules();
});

async function expectUnsupported(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRegistryError(error, 'UNSUPPORTED'), `expected UNSUPPORTED, got ${String(error)}`).toBe(true);
  expect((error as Error).message).toContain(INSTALL);
}

describe('without onnxruntime-node', () => {
  it('train writes the native format only, and the model loads and predicts', async () => {
    const core = await coreWithoutOnnxRuntime();
    const registry = await core.ModelRegistry.open({
      metadata: core.createMemoryMetadataStore(),
      artifacts: core.createMemoryArtifactStore(),
    });
    await registry.datasets.upload('iris.csv', iris);
    const { run, version } = await registry.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: fast,
      register: { name: 'iris' },
    });
    expect(run.tags['modelreg.formats']).toBe('native');
    const model = await registry.load(`models:/iris/${version!.version}`);
    expect(model.format).toBe('native');
    expect(model.manifest.files.map((f) => f.format)).toEqual(['native']);
    const [label] = await model.predict([
      { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
    ]);
    expect(model.classes).toContain(label);
  });

  it("train with formats: ['onnx'] is UNSUPPORTED naming the install command, and writes nothing", async () => {
    const core = await coreWithoutOnnxRuntime();
    const registry = await core.ModelRegistry.open({
      metadata: core.createMemoryMetadataStore(),
      artifacts: core.createMemoryArtifactStore(),
    });
    await registry.datasets.upload('iris.csv', iris);
    await expectUnsupported(
      registry.train({
        experiment: 'iris',
        dataset: 'iris',
        target: 'species',
        model: fast,
        formats: ['onnx'],
      }),
    );
    expect(await registry.searchRuns({ experiment: 'iris' })).toMatchObject({ runs: [] });
  });

  it('load of an ONNX-only model is UNSUPPORTED naming the install command', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    const withRuntime = await ModelRegistry.open({ metadata, artifacts });
    const run = await withRuntime.startRun({ experiment: 'byo' });
    const logged = await run.logModel({ format: 'onnx', file: linearRegressionModel([2, -1, 0.5], 3) });
    await run.end();
    await withRuntime.registerModel('linear', { source: logged.uri });

    const core = await coreWithoutOnnxRuntime();
    const registry = await core.ModelRegistry.open({ metadata, artifacts });
    await expectUnsupported(registry.load('models:/linear/1'));
  });

  it('a model trained with both formats loads its native file, and asking for ONNX is UNSUPPORTED', async () => {
    const metadata = createMemoryMetadataStore();
    const artifacts = createMemoryArtifactStore();
    const withRuntime = await ModelRegistry.open({ metadata, artifacts });
    await withRuntime.datasets.upload('iris.csv', iris);
    await withRuntime.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: fast,
      register: { name: 'iris' },
    });
    const row = { sepal_length_cm: 6.3, sepal_width_cm: 2.8, petal_length_cm: 5.1, petal_width_cm: 1.5 };
    const onnx = await withRuntime.load('models:/iris/1');
    expect(onnx.format).toBe('onnx');

    const core = await coreWithoutOnnxRuntime();
    const registry = await core.ModelRegistry.open({ metadata, artifacts });
    const native = await registry.load('models:/iris/1');
    expect(native.format).toBe('native');
    expect(await native.predict([row])).toEqual(await onnx.predict([row]));
    await expectUnsupported(registry.load('models:/iris/1', { format: 'onnx' }));
  });
});
