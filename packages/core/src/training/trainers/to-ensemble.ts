import type { CartMatrix, CartNode } from 'ml-cart';
import type { FlatTree, TreeEnsemble } from '../../formats/tree-ensemble.js';
import type { Task } from '../trainer.js';

/**
 * Converts ml-cart / ml-random-forest models to the flat tree IR.
 *
 * ml-cart (2.x) nodes are internal when both children exist and send a row left when
 * `row[splitColumn] < splitValue` — IR mode `lt`. A classifier leaf holds the class distribution of
 * its training rows (a row vector as long as the highest class index in the leaf + 1, padded with
 * zeros here); a regression leaf holds the mean of its rows.
 *
 * ml-random-forest (2.x) trains each tree on a bootstrap sample and on a per-tree subset of the
 * columns (`forest.indexes[t][j]` is the original index of tree `t`'s column `j`), so split columns
 * are mapped back through it. Regression averages the tree predictions (`selectionMethod: 'mean'`,
 * the IR's mean). Classification is a hard majority vote (`ml-array-mode` of the trees' argmax
 * classes): each leaf becomes the one-hot vector of its argmax class, so the IR's mean over trees is
 * the vote share per class. On a tied vote the library returns the tied class that reached the top
 * count first in tree order, the IR the lowest class index; nothing else differs.
 */

export interface CartTreeLike {
  root: CartNode;
}

export interface ForestLike {
  indexes: number[][];
  estimators: CartTreeLike[];
}

type LeafEncoder = (node: CartNode, out: Float64Array, offset: number) => void;

function isMatrix(d: CartNode['distribution']): d is CartMatrix {
  return typeof d === 'object' && d !== null && typeof d.get === 'function';
}

function leafError(): Error {
  return new Error('ml-cart leaf without a prediction');
}

const distributionLeaf =
  (nClasses: number): LeafEncoder =>
  (node, out, offset) => {
    const d = node.distribution;
    if (!isMatrix(d)) throw leafError();
    for (let k = 0; k < Math.min(d.columns, nClasses); k++) out[offset + k] = d.get(0, k);
  };

/** One-hot of the argmax class (first maximum, like ml-matrix `maxRowIndex`). */
const voteLeaf: LeafEncoder = (node, out, offset) => {
  const d = node.distribution;
  if (!isMatrix(d)) throw leafError();
  let best = 0;
  for (let k = 1; k < d.columns; k++) if (d.get(0, k) > d.get(0, best)) best = k;
  out[offset + best] = 1;
};

const meanLeaf: LeafEncoder = (node, out, offset) => {
  if (typeof node.distribution !== 'number') throw leafError();
  out[offset] = node.distribution;
};

/** Flattens one ml-cart tree in pre-order (children always after their parent). */
export function flattenCartTree(
  root: CartNode,
  nOutputs: number,
  leaf: LeafEncoder,
  featureIndex?: readonly number[],
): FlatTree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const leaves: Array<[number, CartNode]> = [];
  const visit = (node: CartNode): number => {
    const id = feature.length;
    if (node.left && node.right) {
      const column = node.splitColumn!;
      const f = featureIndex ? featureIndex[column] : column;
      if (f === undefined || node.splitValue === undefined)
        throw new Error('ml-cart split without a column or value');
      feature.push(f);
      threshold.push(node.splitValue);
      left.push(-1);
      right.push(-1);
      left[id] = visit(node.left);
      right[id] = visit(node.right);
    } else {
      feature.push(-1);
      threshold.push(0);
      left.push(-1);
      right.push(-1);
      leaves.push([id, node]);
    }
    return id;
  };
  visit(root);
  const value = new Float64Array(feature.length * nOutputs);
  for (const [id, node] of leaves) leaf(node, value, id * nOutputs);
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value,
  };
}

/** A single ml-cart tree; classifier leaves keep their class distribution (so `predictProba` is it). */
export function cartTreeToEnsemble(
  tree: CartTreeLike,
  task: Task,
  nFeatures: number,
  nClasses: number | undefined,
): TreeEnsemble {
  const nOutputs = task === 'classification' ? nClasses! : 1;
  const leaf = task === 'classification' ? distributionLeaf(nOutputs) : meanLeaf;
  return { task, nFeatures, nOutputs, mode: 'lt', trees: [flattenCartTree(tree.root, nOutputs, leaf)] };
}

/** The trees of one or more ml-random-forest forests, in order, as one ensemble (see the notes above). */
export function forestsToEnsemble(
  forests: readonly ForestLike[],
  task: Task,
  nFeatures: number,
  nClasses: number | undefined,
): TreeEnsemble {
  const nOutputs = task === 'classification' ? nClasses! : 1;
  const leaf = task === 'classification' ? voteLeaf : meanLeaf;
  const trees = forests.flatMap((forest) =>
    forest.estimators.map((tree, t) => flattenCartTree(tree.root, nOutputs, leaf, forest.indexes[t])),
  );
  return { task, nFeatures, nOutputs, mode: 'lt', trees };
}
