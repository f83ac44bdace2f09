// The parity check of `train` runs on an evenly spaced sample of at most PARITY_MAX_ROWS test rows:
// these tests make the exporter write a wrong model (the way an exporter bug would) and check that
// the sampled check still refuses it with INTEGRITY, for a training big enough to be sampled.
import { describe, expect, it, vi } from 'vitest';
import type { FlatTree, TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { computeTraining, PARITY_MAX_ROWS } from '../../src/registry/train-compute.js';
import type { TrainComputeInput } from '../../src/registry/train-compute.js';
import { randomForestTrainer } from '../../src/training/trainers/index.js';
import { friedman } from '../native-trees/helpers.js';
import type * as ExportModuleNs from '../../src/formats/onnx/export-tree-ensemble.js';

type ExportModule = typeof ExportModuleNs;

type Corruption = (model: TreeEnsemble) => TreeEnsemble;
const state = vi.hoisted(() => ({ corrupt: null as Corruption | null }));

vi.mock('../../src/formats/onnx/export-tree-ensemble.js', async (importOriginal) => {
  const original = await importOriginal<ExportModule>();
  const apply = (model: TreeEnsemble): TreeEnsemble => (state.corrupt ? state.corrupt(model) : model);
  return {
    ...original,
    exportTreeEnsembleToOnnx: (model: TreeEnsemble, options?: object) =>
      original.exportTreeEnsembleToOnnx(apply(model), options),
    exportTreeEnsembleToOnnxAsync: (model: TreeEnsemble, options?: object, signal?: AbortSignal) =>
      original.exportTreeEnsembleToOnnxAsync(apply(model), options, signal),
  };
});

const copyTree = (t: FlatTree): FlatTree => ({
  feature: t.feature.slice(),
  threshold: t.threshold.slice(),
  left: t.left.slice(),
  right: t.right.slice(),
  value: t.value.slice(),
});

/** Changes tree 0 only: every other tree is exported as it is. */
const inFirstTree =
  (change: (tree: FlatTree) => void): Corruption =>
  (model) => {
    const first = copyTree(model.trees[0]!);
    change(first);
    return { ...model, trees: [first, ...model.trees.slice(1)] };
  };

/** The first internal node at `depth` (root = 0), following left children. */
function nodeAtDepth(tree: FlatTree, depth: number): number {
  let node = 0;
  for (let d = 0; d < depth && tree.feature[tree.left[node]!]! >= 0; d++) node = tree.left[node]!;
  return node;
}

// 30,000 rows: a 20% test split of 6,000 rows, more than PARITY_MAX_ROWS, so the check is sampled.
const N_ROWS = 30_000;
const N_FEATURES = 6;

function input(task: 'regression' | 'classification'): TrainComputeInput {
  const d = friedman(N_ROWS, N_FEATURES, 5);
  const rows = Array.from({ length: N_ROWS }, (_, r) => ({
    ...Object.fromEntries(Array.from({ length: N_FEATURES }, (_, f) => [`x${f}`, d.x[r * N_FEATURES + f]!])),
    y: task === 'regression' ? d.y[r]! : ['low', 'mid', 'high'][Math.min(2, Math.floor(d.y[r]! / 10))]!,
  }));
  return {
    source: { kind: 'rows', rows },
    target: 'y',
    params: { nEstimators: 5, maxDepth: 10 },
    split: { seed: 3 },
    formats: ['onnx'],
    onnxRuntime: true,
    createdAt: 0,
  };
}

const corruptions: [string, Corruption][] = [
  [
    'children swapped at depth 3 of one tree',
    inFirstTree((t) => {
      const n = nodeAtDepth(t, 3);
      [t.left[n], t.right[n]] = [t.right[n]!, t.left[n]!];
    }),
  ],
  [
    'a threshold moved at depth 2 of one tree',
    inFirstTree((t) => {
      const n = nodeAtDepth(t, 2);
      t.threshold[n] = t.threshold[n]! + 0.05;
    }),
  ],
  [
    'leaf values of one tree 1% off',
    inFirstTree((t) => {
      for (let i = 0; i < t.value.length; i++) t.value[i] = t.value[i]! * 1.01;
    }),
  ],
];

describe('the sampled parity check of train refuses a wrong ONNX export', () => {
  it(`checks at most ${PARITY_MAX_ROWS} rows, and passes an exact export`, async () => {
    state.corrupt = null;
    const result = await computeTraining(input('regression'), randomForestTrainer);
    expect(result.onnx?.report.rows).toBe(PARITY_MAX_ROWS);
  }, 60_000);

  for (const [task, list] of [
    ['regression', corruptions],
    ['classification', corruptions.slice(0, 2)],
  ] as const) {
    for (const [what, corrupt] of list) {
      it(`${task}: ${what}`, async () => {
        state.corrupt = corrupt;
        try {
          await expect(computeTraining(input(task), randomForestTrainer)).rejects.toMatchObject({
            code: 'INTEGRITY',
            where: 'onnx-export',
          });
        } finally {
          state.corrupt = null;
        }
      }, 60_000);
    }
  }
});
