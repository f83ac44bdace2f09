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
   * Per node, `nOutputs` values row-major (`value[node * nOutputs + k]`); read at leaves only. The
   * built-in learners leave zeros at internal nodes, and the model file does not store them.
   */
  value: Float64Array;
}

export interface TreeEnsemble {
  task: 'classification' | 'regression';
  nFeatures: number;
  /** 1 for regression; the number of classes for classification. */
  nOutputs: number;
  /** The test at internal nodes: go left when `x[f] <= threshold` (`leq`) or `x[f] < threshold` (`lt`). */
  mode: 'leq' | 'lt';
  /**
   * The prediction is the mean over trees of the leaf vectors. For classification the leaf vector is
   * a class distribution, the mean is `predictProba`, and the label is its argmax (lowest index on ties).
   */
  trees: FlatTree[];
}

function leafIndex(tree: FlatTree, x: ArrayLike<number>, offset: number, leq: boolean): number {
  const { feature, threshold, left, right } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    const v = x[offset + f]!;
    node = (leq ? v <= threshold[node]! : v < threshold[node]!) ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return node;
}

/**
 * Mean leaf vectors for `n` rows stored row-major in `x` (`n * nFeatures` values).
 * Returns `n * nOutputs` values row-major.
 */
export function predictEnsemble(model: TreeEnsemble, x: ArrayLike<number>, n: number): Float64Array {
  const { nFeatures, nOutputs, trees } = model;
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
