import type { LinearModelJson } from '../formats/linear.js';
import { designOffsets } from '../formats/linear.js';
import type { TreeEnsemble } from '../formats/tree-ensemble.js';
import { createRandom, shuffleInPlace } from './random.js';
import type { Task } from './trainer.js';

/**
 * Feature importance, in input feature order. Gain importances are normalised to sum to 1 (all zeros
 * when the model uses no feature); permutation importances are drops of the held-out score.
 */

/** Test rows permutation importance scores on at most (an evenly spaced sample). */
export const PERMUTATION_MAX_ROWS = 2048;
/** Shuffles per feature (scikit-learn's `n_repeats` default is 5; 3 keeps training fast). */
export const PERMUTATION_REPEATS = 3;
/** Training rows the tree gain is measured on at most (an evenly spaced sample). */
export const GAIN_MAX_ROWS = 8192;

export interface PermutationImportance {
  /** `accuracy` (classification) or `r2` (regression), as scikit-learn's default `score`. */
  metric: 'accuracy' | 'r2';
  /** The score on the unshuffled rows. */
  baseline: number;
  rows: number;
  repeats: number;
  /** Per feature: the mean drop of the score when the feature's column is shuffled. */
  mean: Float64Array;
  /** Per feature: the standard deviation of that drop over the repeats. */
  std: Float64Array;
}

function normalise(values: Float64Array): Float64Array {
  let total = 0;
  for (const v of values) total += v;
  if (total > 0) for (let j = 0; j < values.length; j++) values[j]! /= total;
  return values;
}

/** Rows `rows` (in that order) of a row-major matrix and its targets. */
export function takeRows(
  x: Float64Array,
  y: Float64Array,
  rows: ArrayLike<number>,
  nFeatures: number,
): { x: Float64Array; y: Float64Array; nRows: number } {
  const sx = new Float64Array(rows.length * nFeatures);
  const sy = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    sx.set(x.subarray(r * nFeatures, (r + 1) * nFeatures), i * nFeatures);
    sy[i] = y[r]!;
  }
  return { x: sx, y: sy, nRows: rows.length };
}

/** Up to `max` evenly spaced rows (first included) of a row-major matrix and its targets. */
export function sampleRows(
  x: Float64Array,
  y: Float64Array,
  nRows: number,
  nFeatures: number,
  max: number,
): { x: Float64Array; y: Float64Array; nRows: number } {
  if (nRows <= max) return { x, y, nRows };
  return takeRows(
    x,
    y,
    Array.from({ length: max }, (_, i) => Math.floor((i * nRows) / max)),
    nFeatures,
  );
}

function score(task: Task, y: Float64Array, predicted: Float64Array): number {
  const n = y.length;
  if (task === 'classification') {
    let right = 0;
    for (let i = 0; i < n; i++) if (predicted[i] === y[i]) right++;
    return n === 0 ? 0 : right / n;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= Math.max(1, n);
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    ssRes += (y[i]! - predicted[i]!) ** 2;
    ssTot += (y[i]! - mean) ** 2;
  }
  return ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
}

/**
 * Permutation importance (Breiman; scikit-learn's `permutation_importance`) of any model given its
 * `predict` (values, or class indices): for each feature, the drop of the held-out score when that
 * column is shuffled, averaged over `repeats` shuffles. Deterministic by `seed`. Shared by every
 * trainer: it needs nothing but predictions.
 */
export function permutationImportance(input: {
  predict: (x: Float64Array, nRows: number) => Float64Array;
  x: Float64Array;
  y: Float64Array;
  nRows: number;
  nFeatures: number;
  task: Task;
  seed: number;
  repeats?: number;
  maxRows?: number;
}): PermutationImportance {
  const { nFeatures, task, predict } = input;
  const repeats = input.repeats ?? PERMUTATION_REPEATS;
  const { x, y, nRows } = sampleRows(
    input.x,
    input.y,
    input.nRows,
    nFeatures,
    input.maxRows ?? PERMUTATION_MAX_ROWS,
  );
  const baseline = score(task, y, predict(x, nRows));
  const mean = new Float64Array(nFeatures);
  const std = new Float64Array(nFeatures);
  const random = createRandom(input.seed);
  const work = Float64Array.from(x);
  const order = Array.from({ length: nRows }, (_, i) => i);
  const drops = new Float64Array(repeats);
  for (let j = 0; j < nFeatures; j++) {
    for (let r = 0; r < repeats; r++) {
      shuffleInPlace(order, random);
      for (let i = 0; i < nRows; i++) work[i * nFeatures + j] = x[order[i]! * nFeatures + j]!;
      drops[r] = baseline - score(task, y, predict(work, nRows));
    }
    for (let i = 0; i < nRows; i++) work[i * nFeatures + j] = x[i * nFeatures + j]!;
    let m = 0;
    for (const d of drops) m += d;
    m /= repeats;
    let v = 0;
    for (const d of drops) v += (d - m) ** 2;
    mean[j] = m;
    std[j] = Math.sqrt(v / repeats);
  }
  return { metric: task === 'classification' ? 'accuracy' : 'r2', baseline, rows: nRows, repeats, mean, std };
}

/**
 * Mean decrease in impurity of a tree ensemble ("gain"), measured by passing the training rows
 * through every tree: at each split, the node's impurity minus its children's (squared error for
 * regression, Gini for classification, each weighted by its row count), summed per feature. Each
 * tree's importances are normalised, then averaged over trees and normalised, as scikit-learn's
 * `feature_importances_` are. (scikit-learn weighs each tree's bootstrap rows; this uses the same
 * training rows for every tree, at most {@link GAIN_MAX_ROWS} of them.)
 */
export function treeGainImportance(
  ensemble: TreeEnsemble,
  input: { x: Float64Array; y: Float64Array; nRows: number },
): Float64Array {
  const { nFeatures, task, trees } = ensemble;
  const { x, y, nRows } = sampleRows(input.x, input.y, input.nRows, nFeatures, GAIN_MAX_ROWS);
  const leq = ensemble.mode === 'leq';
  const k = task === 'classification' ? ensemble.nOutputs : 2;
  const total = new Float64Array(nFeatures);
  for (const tree of trees) {
    const nNodes = tree.feature.length;
    const count = new Float64Array(nNodes);
    // Regression: [sum, sum of squares]; classification: counts per class.
    const stats = new Float64Array(nNodes * k);
    for (let r = 0; r < nRows; r++) {
      const yr = y[r]!;
      let node = 0;
      for (;;) {
        count[node]!++;
        if (task === 'classification') stats[node * k + yr]!++;
        else {
          stats[node * k]! += yr;
          stats[node * k + 1]! += yr * yr;
        }
        const f = tree.feature[node]!;
        if (f < 0) break;
        const v = x[r * nFeatures + f]!;
        node = (leq ? v <= tree.threshold[node]! : v < tree.threshold[node]!)
          ? tree.left[node]!
          : tree.right[node]!;
      }
    }
    const impurity = (node: number): number => {
      const n = count[node]!;
      if (n === 0) return 0;
      if (task === 'classification') {
        let sq = 0;
        for (let c = 0; c < k; c++) sq += stats[node * k + c]! ** 2;
        return n - sq / n;
      }
      const sum = stats[node * k]!;
      return stats[node * k + 1]! - (sum * sum) / n;
    };
    const perTree = new Float64Array(nFeatures);
    for (let node = 0; node < nNodes; node++) {
      const f = tree.feature[node]!;
      if (f < 0) continue;
      const gain = impurity(node) - impurity(tree.left[node]!) - impurity(tree.right[node]!);
      if (gain > 0) perTree[f]! += gain;
    }
    normalise(perTree);
    for (let j = 0; j < nFeatures; j++) total[j]! += perTree[j]!;
  }
  return normalise(total);
}

/**
 * Importance of a linear model's inputs: the absolute coefficients on the standardised scale (mean
 * over outputs); a categorical input sums its one-hot columns' |coef| times each column's standard
 * deviation on the training rows (its standardised scale). Normalised to sum to 1.
 */
export function linearCoefficientImportance(
  linear: LinearModelJson,
  train: { x: Float64Array; nRows: number },
): Float64Array {
  const { inputs, coef } = linear;
  const nFeatures = inputs.length;
  const offsets = designOffsets(inputs);
  const out = new Float64Array(nFeatures);
  const meanAbs = (column: number): number => {
    let s = 0;
    for (const row of coef) s += Math.abs(row[column]!);
    return s / coef.length;
  };
  inputs.forEach((input, j) => {
    if (input.type === 'numeric') {
      out[j] = meanAbs(offsets[j]!);
      return;
    }
    const counts = new Float64Array(input.codes);
    for (let r = 0; r < train.nRows; r++) {
      const code = train.x[r * nFeatures + j]!;
      if (code >= 0 && code < input.codes) counts[code]!++;
    }
    let sum = 0;
    for (let c = 0; c < input.codes; c++) {
      const p = counts[c]! / Math.max(1, train.nRows);
      sum += meanAbs(offsets[j]! + c) * Math.sqrt(p * (1 - p));
    }
    out[j] = sum;
  });
  return normalise(out);
}
