import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { createPredictBatcher } from '../../src/serving/batcher.js';
import type { LoadedModel } from '../../src/serving/load.js';
import type { ModelRuntime } from '../../src/serving/load.js';
import { runtimeOf } from '../../src/serving/load.js';
import { createOnnxRuntimeLoader } from '../../src/serving/onnx-runtime.js';
import { createDefaultTrainerRegistry } from '../../src/training/trainers/index.js';
import { openMemoryRegistry } from '../registry/helpers.js';

// One small model with a numeric, a boolean and a categorical feature (every encoder path), and a
// second version that predicts the opposite, to see which one answers.
const colours = ['blue', 'green', 'red'];
const rows = Array.from({ length: 60 }, (_, i) => {
  const a = (i * 7) % 13;
  const b = i % 2 === 0;
  const c = colours[i % 3]!;
  const y = a * 2 + (b ? 5 : 0) + colours.indexOf(c) * 3;
  return { a, b, c, y, y2: -y };
});
const records = rows.slice(0, 12).map(({ a, b, c }) => ({ a, b, c }));
const model = { type: 'random-forest', params: { nEstimators: 4, maxDepth: 4 } };

let registry: ModelRegistry;
let onnx: LoadedModel;
let native: LoadedModel;

const errorOf = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    if (!isRegistryError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  registry = await openMemoryRegistry();
  const features = ['a', 'b', 'c'];
  await registry.train({
    dataset: { rows },
    target: 'y',
    features,
    model,
    register: { name: 'm', stage: 'production' },
  });
  await registry.train({ dataset: { rows }, target: 'y2', features, model, register: { name: 'm' } });
  onnx = await registry.load('models:/m/1', { format: 'onnx' });
  native = await registry.load('models:/m/1', { format: 'native' });
}, 120_000);

afterAll(() => registry.close());

describe('single-row predict', () => {
  it('one record or one matrix row gives what the same row gives in a batch, native and ONNX', async () => {
    for (const m of [onnx, native]) {
      const batch = await m.predict(records);
      const singles = await Promise.all(records.map((r) => m.predict([r])));
      expect(singles.flat()).toEqual(batch);
      // Records of CSV-cell strings take the value-rule path, one row at a time too.
      const text = records.map((r) => ({ a: String(r.a), b: r.b ? 'yes' : 'no', c: ` ${r.c} ` }));
      expect((await Promise.all(text.map((r) => m.predict([r])))).flat()).toEqual(batch);
      const matrix = records.map((r) => [r.a, r.b, colours.indexOf(r.c)]);
      expect((await Promise.all(matrix.map((r) => m.predict([r])))).flat()).toEqual(batch);
    }
  });

  it('fails a bad single row with the error the batch path gives for it', async () => {
    const good = records[0]!;
    const bad: unknown[] = [
      { a: 1, b: true },
      { a: 'x', b: true, c: 'red' },
      { a: 1, b: 'maybe', c: 'red' },
      { a: 1, b: true, c: 'purple' },
      [1, 1],
      [1, 2, 0],
      [1, 1, 3.5],
      5,
      null,
    ];
    for (const m of [onnx, native]) {
      for (const row of bad) {
        const single = await errorOf(m.predict([row] as never));
        // Row 0 of a two-row batch: the batch path, same row index.
        const batch = await errorOf(m.predict([row, Array.isArray(row) ? [1, 1, 0] : good] as never));
        expect(single).toEqual(batch);
        expect(single.code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});

describe('ONNX serving on either path to onnxruntime', () => {
  /** The model.onnx of `loaded` served through the public InferenceSession instead of the native binding. */
  async function publicSessionRuntime(loaded: LoadedModel): Promise<ModelRuntime> {
    return createOnnxRuntimeLoader({ intraOpNumThreads: 1, path: 'session' })({
      artifacts: registry.stores.artifacts,
      manifest: runtimeOf(loaded)!.manifest,
      files: loaded.version!.files,
      label: `model "${loaded.version!.name}" version ${loaded.version!.version}`,
      trainers: createDefaultTrainerRegistry(),
    });
  }
  // Row ranges of `records`, predicted at once: through the public session every run is still
  // pending when the next call encodes, so no two calls may share an input buffer.
  const slices = [
    [0, 12],
    [9, 12],
    [4, 5],
    [2, 9],
    [6, 12],
    [0, 5],
    [10, 12],
    [1, 12],
  ] as const;
  const matrix = records.map((r) => [r.a, r.b, colours.indexOf(r.c)]);

  it('the public-session fallback predicts as the native binding does, also concurrent calls of any size', async () => {
    const fallback = await publicSessionRuntime(onnx);
    const expected = await onnx.predict(records);
    for (const m of [runtimeOf(onnx)!, fallback]) {
      expect(await m.predict(records)).toEqual(expected);
      const answers = await Promise.all(
        slices.map(([from, to], i) =>
          m.predict(i % 2 === 0 ? records.slice(from, to) : matrix.slice(from, to)),
        ),
      );
      answers.forEach((a, i) => expect(a).toEqual(expected.slice(...slices[i]!)));
      // A batch that fails half-way through encoding leaves the next call's answers right.
      const bad = [...records.slice(0, 6), { a: 1, b: true, c: 'purple' }];
      expect((await errorOf(m.predict(bad))).code).toBe('INVALID_ARGUMENT');
      expect(await m.predict(records.slice(0, 6))).toEqual(expected.slice(0, 6));
    }
    await fallback.dispose();
  });

  it('and gives the same probabilities, also to concurrent calls', async () => {
    await registry.train({
      dataset: { rows },
      target: 'c',
      features: ['a', 'b', 'y'],
      model,
      register: { name: 'k' },
    });
    const classifier = await registry.load('models:/k/1', { format: 'onnx' });
    const fallback = await publicSessionRuntime(classifier);
    const inputs = rows.slice(0, 12).map(({ a, b, y }) => ({ a, b, y }));
    const expected = await classifier.predictProba(inputs);
    expect(Object.keys(expected[0]!)).toEqual(colours);
    for (const m of [runtimeOf(classifier)!, fallback]) {
      const answers = await Promise.all(slices.map(([from, to]) => m.predictProba(inputs.slice(from, to))));
      answers.forEach((a, i) => expect(a).toEqual(expected.slice(...slices[i]!)));
      expect(await m.predict(inputs)).toEqual(await classifier.predict(inputs));
    }
    await fallback.dispose();
  });
});

describe('registry.predict(uri)', () => {
  it('keeps the resolution and sees a promotion made by this process at the next call', async () => {
    const uri = 'models:/m/production';
    const v1 = await onnx.predict(records);
    const v2 = await (await registry.load('models:/m/2', { format: 'onnx' })).predict(records);
    expect(v2).not.toEqual(v1);
    expect(await registry.predict(uri, records)).toEqual(v1);
    await registry.eventsReady();
    const resolve = vi.spyOn(registry.stores.metadata, 'resolveVersion');
    expect(await registry.predict(uri, records)).toEqual(v1);
    expect(await registry.predict(uri, records)).toEqual(v1);
    expect(resolve).toHaveBeenCalledTimes(1); // filled once, then served from the cache
    await registry.transitionStage('m', 2, 'production', { archiveExisting: true });
    expect(await registry.predict(uri, records)).toEqual(v2);
    await registry.transitionStage('m', 1, 'production', { archiveExisting: true });
    expect(await registry.predict(uri, records)).toEqual(v1);
    resolve.mockRestore();
  });

  it('load(uri, { resolution: "cached" }) keeps the resolution too, per format; "fresh" reads the store', async () => {
    const uri = 'models:/m/production';
    await registry.eventsReady();
    await registry.load(uri, { resolution: 'cached', format: 'native' });
    const resolve = vi.spyOn(registry.stores.metadata, 'resolveVersion');
    const a = await registry.load(uri, { resolution: 'cached', format: 'native' });
    const b = await registry.load(uri, { resolution: 'cached', format: 'native' });
    expect(resolve).toHaveBeenCalledTimes(0);
    expect(b).toBe(a);
    expect(a.format).toBe('native');
    expect((await registry.load(uri, { resolution: 'cached', format: 'onnx' })).format).toBe('onnx');
    expect(resolve).toHaveBeenCalledTimes(1);
    await registry.load(uri, { resolution: 'fresh', format: 'native' });
    await registry.load(uri, { format: 'native' });
    expect(resolve).toHaveBeenCalledTimes(3);
    await registry.transitionStage('m', 2, 'production', { archiveExisting: true });
    expect((await registry.load(uri, { resolution: 'cached', format: 'native' })).version?.version).toBe(2);
    await registry.transitionStage('m', 1, 'production', { archiveExisting: true });
    expect((await registry.load(uri, { resolution: 'cached', format: 'native' })).version?.version).toBe(1);
    resolve.mockRestore();
    const bad = await errorOf(registry.load(uri, { resolution: 'sometimes' as 'cached' }));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/resolution/);
  });

  it('follows a move written by another process once its event arrives', async () => {
    const uri = 'models:/m/production';
    const v1 = await onnx.predict(records);
    expect(await registry.predict(uri, records)).toEqual(v1);
    const heard = new Promise<void>((resolve) => {
      const off = registry.on('version.stage_changed', () => {
        off();
        resolve();
      });
    });
    // Straight to the store, as another process sharing it would: only the event log tells this one.
    await registry.stores.metadata.transitionStage({
      name: 'm',
      version: 2,
      toStage: 'production',
      archiveExisting: true,
      archiveStage: 'archived',
      actor: 'other-process',
      comment: '',
      time: Date.now(),
    });
    await heard;
    expect(await registry.predict(uri, records)).not.toEqual(v1);
    await registry.transitionStage('m', 1, 'production', { archiveExisting: true });
  });

  it('checks the permission of each view on every call, also for a URI the host has cached', async () => {
    const uri = 'models:/m/production';
    await registry.predict(uri, records);
    const as = (role: 'reader' | 'predictor', models: string[] | null) =>
      registry.as({ name: `p-${role}`, role, models, tokenId: null });
    expect((await errorOf(as('reader', null).predict(uri, records))).code).toBe('PERMISSION_DENIED');
    expect((await errorOf(as('predictor', ['other']).predict(uri, records))).code).toBe('PERMISSION_DENIED');
    expect(await as('predictor', ['m']).predict(uri, records)).toEqual(await registry.predict(uri, records));
  });
});

describe('predict batcher', () => {
  it('coalesces requests that arrive while a call runs into one call, split back by request', async () => {
    const batcher = createPredictBatcher({ maxWaitMs: 1 });
    const runtime = runtimeOf(onnx)!;
    const calls = vi.spyOn(runtime, 'predictEncoded');
    const parts = [records.slice(0, 1), records.slice(1, 4), records.slice(4, 5), records.slice(5, 12)];
    const first = batcher.predict(onnx, parts[0]!);
    const rest = parts.slice(1).map((p) => batcher.predict(onnx, p));
    // A bad request fails alone, before it could join a batch.
    const bad = errorOf(batcher.predict(onnx, [{ a: 1, b: true, c: 'purple' }]));
    const answers = await Promise.all([first, ...rest]);
    expect((await bad).code).toBe('INVALID_ARGUMENT');
    expect(answers.flat()).toEqual(await onnx.predict(records));
    answers.forEach((a, i) => expect(a).toHaveLength(parts[i]!.length));
    expect(calls.mock.calls.map((c) => c[1])).toEqual([1, 11]);
    calls.mockRestore();
  });

  it("serves a canary's arms through it, each row keeping its arm and version", async () => {
    const batcher = createPredictBatcher();
    const seen: number[] = [];
    const canary = registry.canary({
      model: 'm',
      current: 1,
      next: 2,
      weight: 0.5,
      format: 'onnx',
      stickyKey: (row) => String(row['a']),
      predict: (m, rows) => {
        seen.push(m.version!.version);
        return batcher.predict(m, rows);
      },
    });
    const result = await canary.predict(records);
    const byVersion = {
      1: await onnx.predict(records),
      2: await (await registry.load('models:/m/2', { format: 'onnx' })).predict(records),
    };
    expect(new Set(result.arms).size).toBe(2);
    result.arms.forEach((arm, i) =>
      expect(result.predictions[i]).toBe(byVersion[arm === 'current' ? 1 : 2][i]),
    );
    expect(seen.sort()).toEqual([1, 2]);
    await canary.close();
  });

  it('refuses bad options with INVALID_CONFIG', () => {
    expect(() => createPredictBatcher({ maxWaitMs: -1 })).toThrow(/maxWaitMs/);
    expect(() => createPredictBatcher({ maxRows: 0 })).toThrow(/maxRows/);
  });
});
