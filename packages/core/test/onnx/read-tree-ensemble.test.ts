// modelreg's reader of its own TreeEnsemble files, and the parity check that uses it for large
// forests: onnxruntime on the first trees, the reader on the whole file.
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { predictEnsembleFast } from '../../src/formats/native/fast-predict.js';
import { exportTreeEnsembleToOnnx } from '../../src/formats/onnx/export-tree-ensemble.js';
import {
  compareTreeParity,
  exportedInfo,
  exportWithParity,
  parityPrefix,
  PARITY_RUNTIME_NODES,
  runOnnxForParity,
  runTreeParity,
} from '../../src/formats/onnx/parity.js';
import { encodeOnnxModel, OnnxAttributeType } from '../../src/formats/onnx/proto.js';
import { evaluateTreeEnsembleFile } from '../../src/formats/onnx/read-tree-ensemble.js';
import type { FlatTree, TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { prng, randomForest, rowsNearThresholds } from './fixtures.js';

/** What `call` throws (undefined when it returns). */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Rows near the forest's thresholds, with about 10% of the cells missing (NaN). */
function rowsWithMissing(model: TreeEnsemble, nRows: number, seed: number): Float32Array {
  const x = rowsNearThresholds(model, nRows, seed);
  const rng = prng(seed + 1);
  for (let i = 0; i < x.length; i++) if (rng() < 0.1) x[i] = NaN;
  return x;
}

/** `model` with learned missing-value directions (every third split sends NaN left) and, if asked, a boost. */
function withMissingAndBoost(model: TreeEnsemble, boost: boolean): TreeEnsemble {
  const trees = model.trees.map((t): FlatTree => ({
    ...t,
    missingLeft: Uint8Array.from(t.feature, (f, i) => (f >= 0 && i % 3 === 0 ? 1 : 0)),
  }));
  return {
    ...model,
    trees,
    ...(boost ? { boost: { baseScore: [2.5], postTransform: 'none' as const } } : {}),
  };
}

const oneLeaf: FlatTree = {
  feature: Int32Array.from([-1]),
  threshold: Float64Array.from([0]),
  left: Int32Array.from([0]),
  right: Int32Array.from([0]),
  value: Float64Array.from([7.25]),
};

const cases: [string, TreeEnsemble][] = [
  ['forest, leq', randomForest({ seed: 1, task: 'regression', mode: 'leq', nTrees: 12, nFeatures: 6 })],
  ['forest, lt', randomForest({ seed: 2, task: 'regression', mode: 'lt', nTrees: 12, nFeatures: 6 })],
  [
    'forest with missing directions and a one-leaf tree',
    (() => {
      const m = withMissingAndBoost(
        randomForest({ seed: 3, task: 'regression', mode: 'leq', nTrees: 8 }),
        false,
      );
      return { ...m, trees: [...m.trees, oneLeaf] };
    })(),
  ],
  [
    'boosted regression (sum plus a base score)',
    withMissingAndBoost(randomForest({ seed: 4, task: 'regression', mode: 'lt', nTrees: 10 }), true),
  ],
];

describe('evaluateTreeEnsembleFile', () => {
  it.each(cases)('%s: reads the file as the native predictor and onnxruntime predict', async (_, model) => {
    const bytes = exportTreeEnsembleToOnnx(model);
    const nRows = 500;
    const x = rowsWithMissing(model, nRows, 9);
    const read = evaluateTreeEnsembleFile(bytes, x, nRows, model.nFeatures);
    const native = predictEnsembleFast(model, x, nRows);
    const ort = await runOnnxForParity(
      bytes,
      exportedInfo(model, undefined),
      'regression',
      x,
      nRows,
      model.nFeatures,
    );
    if (!('values' in ort)) throw new Error('expected values');
    expect(read.length).toBe(nRows);
    for (let r = 0; r < nRows; r++) {
      // Leaf weights are float32 in the file; onnxruntime also sums in float32.
      expect(read[r]!).toBeCloseTo(native[r]!, 3);
      expect(read[r]!).toBeCloseTo(ort.values[r]!, 3);
    }
  });

  it('gives the same values for any number of rows (eight at a time, then the rest one by one)', () => {
    const model = cases[2]![1];
    const bytes = exportTreeEnsembleToOnnx(model);
    const x = rowsWithMissing(model, 17, 11);
    for (const nRows of [1, 7, 8, 9, 16, 17]) {
      const rows = x.subarray(0, nRows * model.nFeatures);
      const read = evaluateTreeEnsembleFile(bytes, rows, nRows, model.nFeatures);
      const native = predictEnsembleFast(model, rows, nRows);
      expect(read).toHaveLength(nRows);
      for (let r = 0; r < nRows; r++) expect(read[r]!).toBeCloseTo(native[r]!, 3);
    }
  });

  it('refuses a tree that reaches a node twice (a cycle, or two paths to one node) with INTEGRITY', () => {
    // Two branches on feature 0, leaves 0 and 1: branch 0 goes to branch 1 or leaf 0, branch 1 to
    // leaf 1 or `falseOf1`. modelreg's exporter refuses such trees, so the file is written by hand.
    const file = (falseOf1: { leaf: boolean; id: number }): Uint8Array =>
      encodeOnnxModel({
        irVersion: 10,
        opsetImport: [{ domain: 'ai.onnx.ml', version: 5 }],
        graph: {
          name: 'g',
          input: [{ name: 'X' }],
          output: [{ name: 'Y' }],
          node: [
            {
              input: ['X'],
              output: ['Y'],
              opType: 'TreeEnsemble',
              domain: 'ai.onnx.ml',
              attribute: [
                { name: 'n_targets', type: OnnxAttributeType.INT, i: 1 },
                {
                  name: 'nodes_splits',
                  type: OnnxAttributeType.TENSOR,
                  t: { dims: [2], dataType: 1, floatData: [0.5, 0.25] },
                },
                {
                  name: 'leaf_weights',
                  type: OnnxAttributeType.TENSOR,
                  t: { dims: [2], dataType: 1, floatData: [1, 2] },
                },
                { name: 'nodes_modes', type: OnnxAttributeType.INTS, ints: [0, 0] },
                { name: 'nodes_featureids', type: OnnxAttributeType.INTS, ints: [0, 0] },
                { name: 'nodes_truenodeids', type: OnnxAttributeType.INTS, ints: [1, 1] },
                { name: 'nodes_trueleafs', type: OnnxAttributeType.INTS, ints: [0, 1] },
                { name: 'nodes_falsenodeids', type: OnnxAttributeType.INTS, ints: [0, falseOf1.id] },
                { name: 'nodes_falseleafs', type: OnnxAttributeType.INTS, ints: [1, falseOf1.leaf ? 1 : 0] },
                { name: 'leaf_targetids', type: OnnxAttributeType.INTS, ints: [0, 0] },
                { name: 'tree_roots', type: OnnxAttributeType.INTS, ints: [0] },
              ],
            },
          ],
        },
      });
    const x = Float32Array.from([0.1, 0.3, 0.9]);
    expect(Array.from(evaluateTreeEnsembleFile(file({ leaf: true, id: 0 }), x, 3, 1))).toEqual([2, 1, 1]);
    for (const id of [0, 1]) {
      expect(() => evaluateTreeEnsembleFile(file({ leaf: false, id }), x, 3, 1)).toThrow(
        /tree 0 of TreeEnsemble reaches its node \d twice/,
      );
    }
  });

  it('refuses modes it does not read with INTEGRITY: BRANCH_LEQ and BRANCH_LT mixed, BRANCH_GT', () => {
    const model = cases[0]![1]; // every branch BRANCH_LEQ (0)
    const bytes = exportTreeEnsembleToOnnx(model);
    const nBranches = model.trees.reduce((n, t) => n + t.feature.filter((f) => f >= 0).length, 0);
    /** The file with the last of its modes (a run of nBranches zero bytes after the name) set to `mode`. */
    const withLastMode = (mode: number): Uint8Array => {
      const out = Uint8Array.from(bytes);
      const name = Buffer.from('nodes_modes');
      for (let i = Buffer.from(out).indexOf(name); i + nBranches <= out.length; i++) {
        if (out.subarray(i, i + nBranches).every((b) => b === 0)) {
          out[i + nBranches - 1] = mode;
          return out;
        }
      }
      throw new Error('no modes found');
    };
    const x = new Float32Array(model.nFeatures);
    expect(evaluateTreeEnsembleFile(withLastMode(0), x, 1, model.nFeatures)).toHaveLength(1);
    for (const [mode, message] of [
      [1, /mixes BRANCH_LEQ and BRANCH_LT/],
      [3, /nodes_modes\[\d+\] is 3/],
    ] as const) {
      const caught = thrown(() => evaluateTreeEnsembleFile(withLastMode(mode), x, 1, model.nFeatures));
      expect(isRegistryError(caught) && caught.code).toBe('INTEGRITY');
      expect(String(caught)).toMatch(message);
    }
  });

  it('zero rows give zero values, the base score included', () => {
    const boosted = cases[3]![1];
    const read = evaluateTreeEnsembleFile(
      exportTreeEnsembleToOnnx(boosted),
      new Float32Array(0),
      0,
      boosted.nFeatures,
    );
    expect(read).toHaveLength(0);
  });

  it('refuses what it does not read with INTEGRITY: a classifier, a cut file, bytes that are no model', () => {
    const classifier = randomForest({ seed: 5, task: 'classification', mode: 'leq', nTrees: 3 });
    const regression = cases[0]![1];
    const bytes = exportTreeEnsembleToOnnx(regression);
    const x = new Float32Array(regression.nFeatures);
    const inputs = [
      exportTreeEnsembleToOnnx(classifier),
      bytes.subarray(0, bytes.length - 1000),
      Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
    ];
    for (const input of inputs) {
      const caught = thrown(() => evaluateTreeEnsembleFile(input, x, 1, regression.nFeatures));
      expect(isRegistryError(caught) && caught.code).toBe('INTEGRITY');
    }
  });
});

describe('the parity check of a forest past PARITY_RUNTIME_NODES', () => {
  const model = randomForest({ seed: 6, task: 'regression', mode: 'leq', nTrees: 10, nFeatures: 6 });
  const nodes = model.trees.reduce((n, t) => n + t.feature.length, 0);
  const budget = Math.floor(nodes / 3);
  const nRows = 400;
  const x = rowsNearThresholds(model, nRows, 2);
  const y = predictEnsembleFast(model, x, nRows);

  it('parityPrefix keeps the first trees up to the budget (one at least), and none for classifiers or small forests', () => {
    const prefix = parityPrefix(model, budget)!;
    expect(prefix.trees.length).toBeGreaterThan(0);
    expect(prefix.trees.length).toBeLessThan(model.trees.length);
    expect(prefix.trees.reduce((n, t) => n + t.feature.length, 0)).toBeLessThanOrEqual(budget);
    expect(prefix.trees).toEqual(model.trees.slice(0, prefix.trees.length));
    expect(parityPrefix(model, 1)!.trees.length).toBe(1);
    expect(parityPrefix(model, nodes)).toBeNull();
    expect(parityPrefix(randomForest({ seed: 7, task: 'classification', mode: 'leq' }), 1)).toBeNull();
    expect(PARITY_RUNTIME_NODES).toBeGreaterThan(1000);
  });

  it('runs onnxruntime on the first trees and reads the whole file; the report says so', async () => {
    const bytes = exportTreeEnsembleToOnnx(model);
    const out = await runTreeParity(model, undefined, bytes, x, nRows, budget);
    const k = parityPrefix(model, budget)!.trees.length;
    expect(out.runtimeTrees).toBe(k);
    expect(out.file).toHaveLength(nRows);
    const report = compareTreeParity(model, out, x, y, nRows);
    expect(report).toMatchObject({ rows: nRows, runtimeTrees: k, trees: model.trees.length });
    expect(report.maxAbsDiff).toBeLessThanOrEqual(report.allowed!);
  });

  it('a wrong leaf in the last tree, past the trees onnxruntime runs, is refused with INTEGRITY', async () => {
    const last = model.trees.at(-1)!;
    const wrong: FlatTree = {
      ...last,
      value: last.value.map((v, i) => (last.feature[i]! < 0 ? v + 1000 : v)),
    };
    const corrupt = { ...model, trees: [...model.trees.slice(0, -1), wrong] };
    const out = await runTreeParity(model, undefined, exportTreeEnsembleToOnnx(corrupt), x, nRows, budget);
    const caught = thrown(() => compareTreeParity(model, out, x, y, nRows));
    expect(isRegistryError(caught) && caught.code).toBe('INTEGRITY');
  });

  it('exportWithParity on a forest past the default budget reads the whole file and runs its first trees', async () => {
    const big = randomForest({
      seed: 8,
      task: 'regression',
      mode: 'lt',
      nTrees: 120,
      maxDepth: 14,
      nFeatures: 6,
    });
    const total = big.trees.reduce((n, t) => n + t.feature.length, 0);
    expect(total).toBeGreaterThan(PARITY_RUNTIME_NODES);
    const rows = rowsNearThresholds(big, 300, 4);
    const { report } = await exportWithParity(big, {
      x: Float64Array.from(rows),
      nRows: 300,
      y: predictEnsembleFast(big, rows, 300),
    });
    expect(report.trees).toBe(120);
    expect(report.runtimeTrees).toBeGreaterThan(0);
    expect(report.runtimeTrees).toBeLessThan(120);
  });
});
