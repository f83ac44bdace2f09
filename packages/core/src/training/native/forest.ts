import { availableParallelism } from 'node:os';
import { invalidArgument, throwIfAborted } from '../../errors.js';
import type { FlatTree, TreeEnsemble } from '../../formats/tree-ensemble.js';
import type { Task, TrainProgress } from '../trainer.js';
import { yieldToEventLoop } from '../trainers/common.js';
import { binFeatures } from './binning.js';
import type { BinnedFeatures } from './binning.js';
import { growTreesInWorkers } from './forest-workers.js';
import { growTree } from './hist-tree.js';
import { createWorkspace } from './tree-workspace.js';
import type { TreeConfig, TreeData } from './tree-workspace.js';
import { resolveTreeSetup } from './params.js';
import type { NativeTreeParams, ResolvedTreeSetup } from './params.js';
import { deriveSeed } from './rng.js';

/** Input of {@link fitTree}. */
export interface FitNativeTreeInput {
  /** Row-major `nRows * nFeatures` values, no NaN (impute first). */
  x: Float64Array;
  nRows: number;
  nFeatures: number;
  /** Regression: targets. Classification: class indices `0..nClasses-1`. */
  y: ArrayLike<number>;
  task: Task;
  /** Classification: the number of classes (default: largest index + 1). */
  nClasses?: number;
  params?: NativeTreeParams;
  /** A 32-bit unsigned seed (default 0); the same seed and input give the same model. */
  seed?: number;
}

/** Input of {@link fitForest}. */
export interface FitForestInput extends FitNativeTreeInput {
  /** When aborted, fitting stops before the next tree (workers are terminated at once) and throws `ABORTED`. */
  signal?: AbortSignal;
  /** Called after every tree. */
  onProgress?: (progress: TrainProgress) => void;
  /**
   * Worker threads growing trees in parallel (default 1: grow on the calling thread), at most
   * `os.availableParallelism()`. The model does not depend on it.
   */
  workers?: number;
}

interface Prepared {
  data: TreeData;
  config: TreeConfig;
  nTrees: number;
  nOutputs: number;
}

function float64(n: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
}

/**
 * The tree learner's view of binned data: the column-major bins of `binFeatures` row by row, as
 * histograms are built (a row's bins together, rows padded to whole words), with the targets.
 */
export function treeDataOf(
  binned: BinnedFeatures,
  nRows: number,
  nFeatures: number,
  target: { y: Float64Array; cls: Int32Array; nClasses: number },
  shared = false,
): TreeData {
  const rowStride = Math.ceil(nFeatures / 4) * 4;
  const rowBins = shared
    ? new Uint8Array(new SharedArrayBuffer(nRows * rowStride))
    : new Uint8Array(nRows * rowStride);
  for (let f = 0; f < nFeatures; f++) {
    const col = binned.bins.subarray(f * nRows, (f + 1) * nRows);
    for (let r = 0; r < nRows; r++) rowBins[r * rowStride + f] = col[r]!;
  }
  return {
    nRows,
    nFeatures,
    rowStride,
    rowBins,
    nBins: binned.nBins,
    binMin: binned.binMin,
    binMax: binned.binMax,
    ...target,
  };
}

function prepare(input: FitNativeTreeInput, single: boolean, shared: boolean): Prepared & ResolvedTreeSetup {
  const { x, nRows, nFeatures, y, task } = input;
  if (!Number.isInteger(nRows) || nRows < 1 || !Number.isInteger(nFeatures) || nFeatures < 1) {
    throw invalidArgument(`need at least one row and one feature, got ${nRows} x ${nFeatures}`, 'train');
  }
  if (y.length !== nRows) throw invalidArgument(`y has ${y.length} values for ${nRows} rows`, 'train');
  const setup = resolveTreeSetup(input.params, task, nRows, nFeatures, single);
  const binned = binFeatures(x, nRows, nFeatures, { maxBins: setup.params.maxBins });
  let nClasses = 0;
  let targets: Float64Array = new Float64Array(0);
  let cls: Int32Array = new Int32Array(0);
  if (task === 'classification') {
    let max = 0;
    for (let i = 0; i < nRows; i++) {
      const v = y[i]!;
      if (!Number.isInteger(v) || v < 0) {
        throw invalidArgument(`y[${i}] = ${v} is not a class index`, 'train', { row: i });
      }
      if (v > max) max = v;
    }
    nClasses = input.nClasses ?? max + 1;
    if (!Number.isInteger(nClasses) || nClasses < 1 || max >= nClasses) {
      throw invalidArgument(`nClasses ${nClasses} does not cover class index ${max}`, 'train');
    }
    cls = shared ? new Int32Array(new SharedArrayBuffer(nRows * 4)) : new Int32Array(nRows);
    for (let i = 0; i < nRows; i++) cls[i] = y[i]!;
  } else {
    targets = float64(nRows, shared);
    for (let i = 0; i < nRows; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v))
        throw invalidArgument(`y[${i}] = ${v} is not a finite number`, 'train', { row: i });
      targets[i] = v;
    }
  }
  const data = treeDataOf(binned, nRows, nFeatures, { y: targets, cls, nClasses }, shared);
  return { ...setup, data, nTrees: setup.params.nEstimators, nOutputs: Math.max(1, nClasses) };
}

function toEnsemble(input: FitNativeTreeInput, nOutputs: number, trees: FlatTree[]): TreeEnsemble {
  return { task: input.task, nFeatures: input.nFeatures, nOutputs, mode: 'leq', trees };
}

/**
 * Fits a random forest with the native histogram learner (scikit-learn's `RandomForestClassifier` /
 * `RandomForestRegressor` semantics, features binned once into at most 256 quantile bins). Tree `t`
 * is grown from a seed derived from `seed` and `t`, so the result does not depend on `workers`.
 * Classification leaves hold class distributions; regression leaves hold mean targets.
 * Bad input or params are `INVALID_ARGUMENT`.
 */
export async function fitForest(input: FitForestInput): Promise<TreeEnsemble> {
  const { signal, onProgress } = input;
  throwIfAborted(signal, 'train');
  const workers = Math.max(1, Math.floor(input.workers ?? 1));
  if (workers > availableParallelism()) {
    throw invalidArgument(
      `workers ${workers} is more than the ${availableParallelism()} this machine can run in parallel`,
      'train',
    );
  }
  const { data, config, nTrees, nOutputs } = prepare(
    input,
    false,
    workers > 1 && (input.params?.nEstimators ?? 100) > 1,
  );
  const seed = (input.seed ?? 0) >>> 0;
  const report = (done: number): void =>
    onProgress?.({ fraction: done / nTrees, message: `grew ${done}/${nTrees} trees` });
  let trees: FlatTree[];
  if (workers > 1 && nTrees > 1) {
    trees = await growTreesInWorkers({ data, config, seed }, nTrees, workers, signal, report);
  } else {
    const ws = createWorkspace(data);
    trees = [];
    for (let t = 0; t < nTrees; t++) {
      if (t > 0) await yieldToEventLoop();
      throwIfAborted(signal, 'train');
      trees.push(growTree(data, config, ws, deriveSeed(seed, t)));
      report(t + 1);
    }
  }
  return toEnsemble(input, nOutputs, trees);
}

/**
 * Fits one decision tree (scikit-learn's `DecisionTreeClassifier` / `DecisionTreeRegressor`
 * semantics): no bootstrap and all features at every node unless `params` say otherwise.
 */
export function fitTree(input: FitNativeTreeInput): TreeEnsemble {
  const { data, config, nOutputs } = prepare(input, true, false);
  const tree = growTree(data, config, createWorkspace(data), deriveSeed((input.seed ?? 0) >>> 0, 0));
  return toEnsemble(input, nOutputs, [tree]);
}
