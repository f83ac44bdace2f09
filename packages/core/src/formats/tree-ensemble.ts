/**
 * The flat tree-ensemble IR: one struct of arrays per tree. Every built-in tree model (ml-cart,
 * ml-random-forest, the native learner) is converted to it once after fitting; the native model
 * file, the JS predictor and the ONNX exporter all work from it.
 */
export interface FlatTree {
  /** Per node: the feature index tested, or -1 for a leaf. Node 0 is the root. */
  feature: Int32Array;
  /** Per node: the split threshold (unused for leaves). */
  threshold: Float64Array;
  /** Per node: index of the left child (taken when the test holds), -1 for a leaf. */
  left: Int32Array;
  /** Per node: index of the right child, -1 for a leaf. */
  right: Int32Array;
  /**
   * Per node, `leafWidth(model)` values row-major (`value[node * width + k]`): `nOutputs` for a
   * mean ensemble, 1 for a boosted one. Read at leaves only. The built-in learners leave zeros at
   * internal nodes, and the model file does not store them.
   */
  value: Float64Array;
  /**
   * Per node, 1 when a missing input (NaN) goes left; absent or 0: NaN goes right (the test
   * `NaN <= t` is false). Learned by gradient boosting, where training rows may have missing values.
   */
  missingLeft?: Uint8Array;
}

/**
 * How a boosted ensemble turns its trees into predictions (gradient boosting): raw scores start at
 * `baseScore` and tree `t` adds its leaf value to score column `t % baseScore.length` (trees are
 * stored round by round); the post-transform maps the scores to the output.
 */
export interface BoostedScores {
  /** The raw score of each column before any tree: 1 column for regression and binary classification, `nClasses` for softmax. */
  baseScore: number[];
  /**
   * `none` (regression: the score is the prediction), `logistic` (binary classification: one score
   * s, probabilities `[1 - sigmoid(s), sigmoid(s)]`) or `softmax` (one score per class).
   */
  postTransform: 'none' | 'logistic' | 'softmax';
}

export interface TreeEnsemble {
  task: 'classification' | 'regression';
  nFeatures: number;
  /** 1 for regression; the number of classes for classification. */
  nOutputs: number;
  /** The test at internal nodes: go left when `x[f] <= threshold` (`leq`) or `x[f] < threshold` (`lt`). */
  mode: 'leq' | 'lt';
  /**
   * Without `boost`, the prediction is the mean over trees of the leaf vectors. For classification
   * the leaf vector is a class distribution, the mean is `predictProba`, and the label is its argmax
   * (lowest index on ties). With `boost`, see {@link BoostedScores}.
   */
  trees: FlatTree[];
  /** Present for boosted ensembles: trees are summed into raw scores, then transformed. */
  boost?: BoostedScores;
}

/** Values per node in `FlatTree.value`: 1 for boosted ensembles, else `nOutputs`. */
export function leafWidth(model: Pick<TreeEnsemble, 'nOutputs' | 'boost'>): number {
  return model.boost ? 1 : model.nOutputs;
}

/**
 * Turns the summed raw scores of a boosted model (`n * nScores`, base score not yet added) into
 * outputs (`n * nOutputs`): regression values or class probabilities.
 */
export function finishBoostedScores(
  boost: BoostedScores,
  scores: Float64Array,
  n: number,
  nOutputs: number,
): Float64Array {
  const base = boost.baseScore;
  const s = base.length;
  if (boost.postTransform === 'none') {
    for (let r = 0; r < n; r++) for (let k = 0; k < s; k++) scores[r * s + k]! += base[k]!;
    return scores;
  }
  const out = new Float64Array(n * nOutputs);
  if (boost.postTransform === 'logistic') {
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-(scores[r]! + base[0]!)));
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
    return out;
  }
  for (let r = 0; r < n; r++) {
    const o = r * s;
    let max = -Infinity;
    for (let k = 0; k < s; k++) {
      const v = scores[o + k]! + base[k]!;
      out[o + k] = v;
      if (v > max) max = v;
    }
    let sum = 0;
    for (let k = 0; k < s; k++) sum += out[o + k] = Math.exp(out[o + k]! - max);
    for (let k = 0; k < s; k++) out[o + k]! /= sum;
  }
  return out;
}

function leafIndex(tree: FlatTree, x: ArrayLike<number>, offset: number, leq: boolean): number {
  const { feature, threshold, left, right, missingLeft } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    const v = x[offset + f]!;
    const goLeft =
      v !== v
        ? missingLeft !== undefined && missingLeft[node] === 1
        : leq
          ? v <= threshold[node]!
          : v < threshold[node]!;
    node = goLeft ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return node;
}

/**
 * Mean leaf vectors (or, boosted, transformed scores) for `n` rows stored row-major in `x`
 * (`n * nFeatures` values). Returns `n * nOutputs` values row-major.
 */
export function predictEnsemble(model: TreeEnsemble, x: ArrayLike<number>, n: number): Float64Array {
  const { nFeatures, nOutputs, trees, boost } = model;
  if (boost) {
    const s = boost.baseScore.length;
    const scores = new Float64Array(n * s);
    const leq = model.mode === 'leq';
    for (let r = 0; r < n; r++) {
      const offset = r * nFeatures;
      for (let t = 0; t < trees.length; t++) {
        const tree = trees[t]!;
        scores[r * s + (t % s)]! += tree.value[leafIndex(tree, x, offset, leq)]!;
      }
    }
    return finishBoostedScores(boost, scores, n, nOutputs);
  }
  const out = new Float64Array(n * nOutputs);
  const leq = model.mode === 'leq';
  const scale = 1 / trees.length;
  for (let r = 0; r < n; r++) {
    const offset = r * nFeatures;
    const o = r * nOutputs;
    for (const tree of trees) {
      const base = leafIndex(tree, x, offset, leq) * nOutputs;
      for (let k = 0; k < nOutputs; k++) out[o + k]! += tree.value[base + k]!;
    }
    for (let k = 0; k < nOutputs; k++) out[o + k]! *= scale;
  }
  return out;
}

/** Argmax per row of a row-major `n * k` matrix (lowest index on ties). */
export function argmaxRows(values: Float64Array, k: number): Int32Array {
  const n = values.length / k;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    let bestValue = values[r * k]!;
    for (let j = 1; j < k; j++) {
      const v = values[r * k + j]!;
      if (v > bestValue) {
        best = j;
        bestValue = v;
      }
    }
    out[r] = best;
  }
  return out;
}
