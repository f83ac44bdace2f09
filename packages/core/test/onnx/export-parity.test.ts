import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import {
  exportTreeEnsembleToOnnx,
  type ExportTreeEnsembleOptions,
} from '../../src/formats/onnx/export-tree-ensemble.js';
import {
  argmaxRows,
  predictEnsemble,
  type FlatTree,
  type TreeEnsemble,
} from '../../src/formats/tree-ensemble.js';
import { flatTree, randomForest, rowsNearThresholds, stump } from './fixtures.js';
import { decodeOnnxModel } from '../../src/formats/onnx/proto.js';

const sessions: InferenceSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

/** Runs an exported model on a bare onnxruntime session (no modelreg wrapper). */
async function runOnnx(bytes: Uint8Array, x: Float32Array, nFeatures: number) {
  const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  sessions.push(session);
  const result = await session.run({ input: new Tensor('float32', x, [x.length / nFeatures, nFeatures]) });
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, (v as Tensor).data]));
}

async function expectRegressionParity(model: TreeEnsemble, x: Float32Array) {
  const n = x.length / model.nFeatures;
  const expected = predictEnsemble(model, x, n);
  const out = await runOnnx(exportTreeEnsembleToOnnx(model), x, model.nFeatures);
  const actual = out.variable as Float32Array;
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
  expect(maxDiff).toBeLessThanOrEqual(1e-4 * scale);
}

async function expectClassificationParity(
  model: TreeEnsemble,
  x: Float32Array,
  options: ExportTreeEnsembleOptions = {},
) {
  const n = x.length / model.nFeatures;
  const proba = predictEnsemble(model, x, n);
  const labelIndex = argmaxRows(proba, model.nOutputs);
  const classes = options.classes ?? Array.from({ length: model.nOutputs }, (_, i) => i);
  const out = await runOnnx(exportTreeEnsembleToOnnx(model, options), x, model.nFeatures);
  const raw = out.label as string[] | BigInt64Array;
  const labels = Array.isArray(raw) ? raw : Array.from(raw, Number);
  expect(labels).toEqual(Array.from(labelIndex, (i) => classes[i]));
  const p = out.probabilities as Float32Array;
  expect(p.length).toBe(proba.length);
  for (let i = 0; i < proba.length; i++) expect(Math.abs(p[i]! - proba[i]!)).toBeLessThanOrEqual(1e-5);
}

describe('exportTreeEnsembleToOnnx: hand-built ensembles', () => {
  const regression = (mode: 'leq' | 'lt'): TreeEnsemble => ({
    task: 'regression',
    nFeatures: 2,
    nOutputs: 1,
    mode,
    trees: [stump(0, 0.5, [1], [2]), stump(1, -1.25, [10], [-30])],
  });
  const rows = Float32Array.from([0, 0, 0.5, -1.25, 0.6, -1.3, 0.4, 5, -0, 7, 1e30, -1e30, NaN, 0.5]);

  it.each(['leq', 'lt'] as const)('a two-stump regressor matches predictEnsemble (%s)', async (mode) => {
    await expectRegressionParity(regression(mode), rows);
  });

  it('a value equal to the threshold goes left under leq and right under lt', async () => {
    const x = Float32Array.from([0.5, 0]);
    const leq = await runOnnx(exportTreeEnsembleToOnnx(regression('leq')), x, 2);
    const lt = await runOnnx(exportTreeEnsembleToOnnx(regression('lt')), x, 2);
    expect((leq.variable as Float32Array)[0]).toBeCloseTo((1 - 30) / 2, 5);
    expect((lt.variable as Float32Array)[0]).toBeCloseTo((2 - 30) / 2, 5);
  });

  it('thresholds that are not float32 keep their decisions for float32 inputs', async () => {
    // fround(0.1) > 0.1, so a plain float32 threshold would send x = fround(0.1) left under leq;
    // fround(0.7) < 0.7, so a plain float32 threshold would send x = fround(0.7) right under lt.
    const cases = [
      { mode: 'leq' as const, t: 0.1, x: Math.fround(0.1), left: false },
      { mode: 'leq' as const, t: 0.7, x: Math.fround(0.7), left: true },
      { mode: 'lt' as const, t: 0.7, x: Math.fround(0.7), left: true },
      { mode: 'lt' as const, t: 0.1, x: Math.fround(0.1), left: false },
      { mode: 'leq' as const, t: 3.4e39, x: 3.4028234663852886e38, left: true },
      { mode: 'lt' as const, t: -3.4e39, x: -3.4028234663852886e38, left: false },
    ];
    for (const c of cases) {
      const model: TreeEnsemble = {
        task: 'regression',
        nFeatures: 1,
        nOutputs: 1,
        mode: c.mode,
        trees: [stump(0, c.t, [1], [2])],
      };
      const x = Float32Array.from([c.x]);
      expect(predictEnsemble(model, x, 1)[0]).toBe(c.left ? 1 : 2);
      const out = await runOnnx(exportTreeEnsembleToOnnx(model), x, 1);
      expect((out.variable as Float32Array)[0], JSON.stringify(c)).toBe(c.left ? 1 : 2);
    }
  });

  const classifier = (nClasses: 2 | 3, mode: 'leq' | 'lt'): TreeEnsemble => {
    const hot = (k: number) => Array.from({ length: nClasses }, (_, i) => (i === k ? 1 : 0));
    const soft = nClasses === 2 ? [0.25, 0.75] : [0.2, 0.3, 0.5];
    return {
      task: 'classification',
      nFeatures: 2,
      nOutputs: nClasses,
      mode,
      trees: [stump(0, 0.1, hot(0), hot(1)), stump(1, 0.5, hot(nClasses - 1), soft)],
    };
  };

  it.each([
    ['binary, integer labels', 2, 'leq', undefined],
    ['binary, string labels', 2, 'lt', { classes: ['no', 'yes'] }],
    ['binary, custom integer labels', 2, 'leq', { classes: [-1, 7] }],
    ['3 classes, integer labels', 3, 'lt', undefined],
    ['3 classes, string labels', 3, 'leq', { classes: ['setosa', 'versicolor', 'virginica'] }],
  ] as const)('a classifier matches predictEnsemble (%s)', async (_name, nClasses, mode, options) => {
    const x = Float32Array.from([0, 0, 1, 1, 0.1, 0.5, 0.2, 0.4, -5, 9, NaN, 0.5]);
    await expectClassificationParity(classifier(nClasses, mode), x, options);
  });

  it('ties resolve to the lowest class index, as predictEnsemble does', async () => {
    // Two trees voting for different classes give [0.5, 0.5] (binary) or [0.5, 0, 0.5] (3 classes).
    const binary: TreeEnsemble = {
      task: 'classification',
      nFeatures: 1,
      nOutputs: 2,
      mode: 'leq',
      trees: [stump(0, 0, [0, 1], [1, 0]), stump(0, 0, [1, 0], [0, 1])],
    };
    const three: TreeEnsemble = {
      task: 'classification',
      nFeatures: 1,
      nOutputs: 3,
      mode: 'leq',
      trees: [stump(0, 0, [0, 0, 1], [0, 1, 0]), stump(0, 0, [1, 0, 0], [0, 0, 1])],
    };
    const x = Float32Array.from([-1, 1]);
    await expectClassificationParity(binary, x, { classes: ['a', 'b'] });
    await expectClassificationParity(three, x);
    const out = await runOnnx(exportTreeEnsembleToOnnx(three), x, 1);
    expect(Array.from(out.label as BigInt64Array)).toEqual([0n, 1n]);
  });
});

describe('exportTreeEnsembleToOnnx: random forests (20 trees, depth ≤ 10, 10 features)', () => {
  const seeds = [1, 2, 3];
  it.each(seeds.flatMap((seed) => (['leq', 'lt'] as const).map((mode) => [seed, mode] as const)))(
    'regression parity, seed %i, %s',
    async (seed, mode) => {
      const model = randomForest({ seed, task: 'regression', mode });
      await expectRegressionParity(model, rowsNearThresholds(model, 2000, seed + 100));
    },
  );

  it.each(seeds.flatMap((seed) => (['leq', 'lt'] as const).map((mode) => [seed, mode] as const)))(
    'classification parity (3 classes, string labels), seed %i, %s',
    async (seed, mode) => {
      const model = randomForest({ seed, task: 'classification', mode, nClasses: 3 });
      await expectClassificationParity(model, rowsNearThresholds(model, 2000, seed + 200), {
        classes: ['a', 'b', 'c'],
      });
    },
  );

  it.each(seeds)('binary classification parity (integer labels), seed %i', async (seed) => {
    const model = randomForest({ seed, task: 'classification', mode: seed % 2 ? 'leq' : 'lt', nClasses: 2 });
    await expectClassificationParity(model, rowsNearThresholds(model, 2000, seed + 300), { classes: [0, 1] });
  });

  it('7 classes with default labels', async () => {
    const model = randomForest({ seed: 9, task: 'classification', mode: 'leq', nClasses: 7 });
    await expectClassificationParity(model, rowsNearThresholds(model, 1000, 9));
  });
});

describe('exportTreeEnsembleToOnnx: regressions through ai.onnx.ml 5 TreeEnsemble', () => {
  const opTypes = (bytes: Uint8Array) => {
    const model = decodeOnnxModel(bytes);
    return {
      ops: (model.graph?.node ?? []).map((n) => n.opType),
      ml: model.opsetImport?.find((o) => o.domain === 'ai.onnx.ml')?.version,
    };
  };
  // Leaves before, between and after interior nodes in node order; a missing value takes the learned
  // side at node 0 (left) and node 3 (left) but not at node 1 (NaN compares false: right).
  const deep = {
    ...flatTree(
      [0, -1, 1, 0, -1, -1, -1],
      [0.5, 0, 2, -1, 0, 0, 0],
      [2, -1, 3, 4, -1, -1, -1],
      [1, -1, 6, 5, -1, -1, -1],
      [0, 7, 0, 0, -3, 11, 5],
    ),
    missingLeft: Uint8Array.from([1, 0, 0, 1, 0, 0, 0]),
  };
  const leafOnly = flatTree([-1], [0], [0], [0], [2.5]);
  const rows = Float32Array.from([0, 0, 0.6, 0, 0.4, 3, -2, 1, NaN, NaN, NaN, 5, 0.4, NaN, -1, 2]);

  /** A regression on the two features of `rows`. */
  const regression = (trees: FlatTree[], more: Partial<TreeEnsemble> = {}): TreeEnsemble => ({
    task: 'regression',
    nFeatures: 2,
    nOutputs: 1,
    mode: 'leq',
    trees,
    ...more,
  });

  it('a forest with a one-leaf tree and learned missing directions matches predictEnsemble', async () => {
    const model = regression([deep, leafOnly]);
    expect(opTypes(exportTreeEnsembleToOnnx(model))).toEqual({ ops: ['TreeEnsemble'], ml: 5 });
    await expectRegressionParity(model, rows);
    await expectRegressionParity(
      { ...model, mode: 'lt', trees: [leafOnly, deep, stump(1, 2, [4], [-4])] },
      rows,
    );
  });

  it('a boosted regression sums its trees and adds the base score after the operator', async () => {
    const model = regression([deep, leafOnly, stump(0, 0.45, [0.5], [-0.25])], {
      boost: { baseScore: [10.5], postTransform: 'none' },
    });
    expect(opTypes(exportTreeEnsembleToOnnx(model))).toEqual({ ops: ['TreeEnsemble', 'Add'], ml: 5 });
    await expectRegressionParity(model, rows);
  });

  it('a regression with several values per leaf keeps TreeEnsembleRegressor (ai.onnx.ml 3)', async () => {
    const model = regression([stump(0, 0.5, [1, 2], [3, 4]), stump(1, 0, [10, -10], [0, 5])], {
      nOutputs: 2,
    });
    expect(opTypes(exportTreeEnsembleToOnnx(model))).toEqual({ ops: ['TreeEnsembleRegressor'], ml: 3 });
    await expectRegressionParity(model, rows);
  });
});

describe('exportTreeEnsembleToOnnx: refuses what it cannot encode', () => {
  const base: TreeEnsemble = {
    task: 'regression',
    nFeatures: 1,
    nOutputs: 1,
    mode: 'leq',
    trees: [stump(0, 1, [1], [2])],
  };
  const cases: [string, TreeEnsemble, ExportTreeEnsembleOptions?][] = [
    ['no trees', { ...base, trees: [] }],
    ['a feature index ≥ nFeatures', { ...base, trees: [stump(3, 1, [1], [2])] }],
    ['a NaN threshold', { ...base, trees: [stump(0, NaN, [1], [2])] }],
    ['a non-finite leaf', { ...base, trees: [stump(0, 1, [Infinity], [2])] }],
    [
      'a child index out of range',
      { ...base, trees: [{ ...stump(0, 1, [1], [2]), left: Int32Array.from([5, -1, -1]) }] },
    ],
    [
      'a node reached twice',
      { ...base, trees: [{ ...stump(0, 1, [1], [2]), right: Int32Array.from([1, -1, -1]) }] },
    ],
    [
      'classes of the wrong length',
      { ...base, task: 'classification', nOutputs: 2, trees: [stump(0, 1, [1, 0], [0, 1])] },
      { classes: ['a', 'b', 'c'] },
    ],
    [
      'fractional integer labels',
      { ...base, task: 'classification', nOutputs: 2, trees: [stump(0, 1, [1, 0], [0, 1])] },
      { classes: [0.5, 1] },
    ],
  ];
  it.each(cases)('%s is INVALID_ARGUMENT', (_name, model, options) => {
    expect(() => exportTreeEnsembleToOnnx(model, options)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', where: 'onnx' }),
    );
  });

  it('a one-class classifier is UNSUPPORTED', () => {
    const one: TreeEnsemble = { ...base, task: 'classification' };
    let error: unknown;
    try {
      exportTreeEnsembleToOnnx(one);
    } catch (e) {
      error = e;
    }
    expect(isRegistryError(error, 'UNSUPPORTED')).toBe(true);
  });
});
