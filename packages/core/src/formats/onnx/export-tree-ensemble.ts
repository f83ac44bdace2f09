import { RegistryError, throwIfAborted } from '../../errors.js';
import { leafWidth } from '../tree-ensemble.js';
import type { FlatTree, TreeEnsemble } from '../tree-ensemble.js';
import { float32AtOrAbove, float32AtOrBelow } from './float32.js';
import {
  encodeOnnxModelFast,
  encodeOnnxModelInSteps,
  LITTLE_ENDIAN,
  OnnxAttributeType,
  OnnxDataType,
  utf8,
  type OnnxEncodableAttribute as OnnxAttribute,
  type OnnxEncodableGraph as OnnxGraph,
  type OnnxEncodableModel as OnnxModel,
  type OnnxEncodableNode as OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './proto.js';

/** ONNX IR version of exported models (ONNX 1.10+, read by every onnxruntime since 1.10). */
export const ONNX_EXPORT_IR_VERSION = 8;
/** Opsets of exported models: default domain 17, `ai.onnx.ml` 3 (TreeEnsemble* with float attributes). */
export const ONNX_EXPORT_OPSETS = [
  { domain: '', version: 17 },
  { domain: 'ai.onnx.ml', version: 3 },
] as const;
/** IR version of models with the `TreeEnsemble` operator (ONNX 1.16, the release of `ai.onnx.ml` 5). */
export const ONNX_TREE_ENSEMBLE_IR_VERSION = 10;
/** Opsets of models with the `TreeEnsemble` operator: default domain 17, `ai.onnx.ml` 5. */
export const ONNX_TREE_ENSEMBLE_OPSETS = [
  { domain: '', version: 17 },
  { domain: 'ai.onnx.ml', version: 5 },
] as const;

/**
 * Whether `model` is exported with `ai.onnx.ml` 5 `TreeEnsemble` rather than `TreeEnsembleRegressor`:
 * regressions whose leaves each carry one value (single-output forests and trees, boosted
 * regressions). That operator keeps interior nodes and leaves in separate lists, modes and
 * thresholds as tensors: the file is about half the size and onnxruntime builds its session about
 * twice as fast. Its leaves hold one target each, so classifiers (a probability per class and leaf)
 * keep `TreeEnsembleClassifier`.
 */
export function exportsTreeEnsembleOperator(
  model: Pick<TreeEnsemble, 'task' | 'nOutputs' | 'boost'>,
): boolean {
  return model.task === 'regression' && leafWidth(model) === 1;
}

/** The IR version and opsets of the model {@link exportTreeEnsembleToOnnx} writes for `model`. */
export function treeEnsembleExportVersions(model: Pick<TreeEnsemble, 'task' | 'nOutputs' | 'boost'>): {
  irVersion: number;
  opsets: { domain: string; version: number }[];
} {
  const v5 = exportsTreeEnsembleOperator(model);
  return {
    irVersion: v5 ? ONNX_TREE_ENSEMBLE_IR_VERSION : ONNX_EXPORT_IR_VERSION,
    opsets: (v5 ? ONNX_TREE_ENSEMBLE_OPSETS : ONNX_EXPORT_OPSETS).map((o) => ({ ...o })),
  };
}

export interface ExportTreeEnsembleOptions {
  /** Name of the float input `[N, nFeatures]`. Default `input`. */
  inputName?: string;
  /**
   * Class labels in class-index order (classification only; ignored for regression). Strings give
   * `classlabels_strings`, integers give `classlabels_int64s`. Default: the integers `0..nOutputs-1`.
   */
  classes?: readonly string[] | readonly number[];
  /** `producer_name` of the model. Default `modelreg`. */
  producer?: string;
  /** `producer_version` of the model. */
  producerVersion?: string;
}

const WHERE = 'onnx';
const bad = (message: string, details?: Record<string, unknown>): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', message, { where: WHERE, details });

function validateTree(tree: FlatTree, t: number, nFeatures: number, nOutputs: number): void {
  const n = tree.feature.length;
  if (n === 0) throw bad(`tree ${t} has no nodes`, { tree: t });
  if (tree.threshold.length !== n || tree.left.length !== n || tree.right.length !== n) {
    throw bad(`tree ${t}: feature, threshold, left and right must have the same length`, { tree: t });
  }
  if (tree.value.length !== n * nOutputs) {
    throw bad(`tree ${t}: value must hold nodes × ${nOutputs} = ${n * nOutputs} numbers`, { tree: t });
  }
  for (let i = 0; i < n; i++) {
    const feature = tree.feature[i]!;
    if (feature < 0) {
      for (let k = 0; k < nOutputs; k++) {
        if (!Number.isFinite(tree.value[i * nOutputs + k]!)) {
          throw bad(`tree ${t} node ${i}: leaf value is not finite`, { tree: t, node: i });
        }
      }
      continue;
    }
    const left = tree.left[i]!;
    const right = tree.right[i]!;
    if (feature >= nFeatures) throw bad(`tree ${t} node ${i}: feature ${feature} ≥ nFeatures`, { tree: t });
    if (left <= 0 || left >= n || right <= 0 || right >= n || left === i || right === i) {
      throw bad(`tree ${t} node ${i}: child index out of range`, { tree: t, node: i });
    }
    if (Number.isNaN(tree.threshold[i]!)) throw bad(`tree ${t} node ${i}: threshold is NaN`, { tree: t });
  }
  // Every node reachable from the root must be reached once: a tree, not a DAG or a cycle.
  // Each node is pushed by its parent only until one is reached twice: n + 1 entries are room enough.
  const seen = new Uint8Array(n);
  const stack = new Int32Array(n + 1);
  let top = 1;
  while (top > 0) {
    const i = stack[--top]!;
    if (seen[i]) throw bad(`tree ${t}: node ${i} is reached twice (not a tree)`, { tree: t, node: i });
    seen[i] = 1;
    if (tree.feature[i]! >= 0) {
      stack[top++] = tree.left[i]!;
      stack[top++] = tree.right[i]!;
    }
  }
}

function resolveClasses(
  model: TreeEnsemble,
  classes: ExportTreeEnsembleOptions['classes'],
): { strings: string[] } | { ints: number[] } {
  const list = classes ?? Array.from({ length: model.nOutputs }, (_, i) => i);
  if (list.length !== model.nOutputs) {
    throw bad(`classes has ${list.length} labels but the model has ${model.nOutputs} outputs`);
  }
  if (new Set<string | number>(list).size !== list.length) throw bad('class labels must be distinct');
  if (list.every((c): c is string => typeof c === 'string')) return { strings: [...list] };
  if (list.every((c): c is number => typeof c === 'number' && Number.isSafeInteger(c))) {
    return { ints: [...list] };
  }
  throw bad('class labels must be all strings or all safe integers');
}

const ints = (name: string, values: readonly number[] | Int32Array): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.INTS,
  ints: values,
});
const floats = (name: string, values: readonly number[] | Float32Array): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.FLOATS,
  floats: values,
});
const str = (name: string, value: string): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.STRING,
  s: utf8(value),
});
const strs = (name: string, values: readonly string[]): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.STRINGS,
  strings: values.map(utf8),
});
const int = (name: string, value: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i: value });

/** A 1-D tensor attribute: float32 or uint8 values as `raw_data` (little-endian, as ONNX stores it). */
function tensorAttribute(name: string, values: Float32Array | Uint8Array): OnnxAttribute {
  let raw: Uint8Array;
  if (values instanceof Uint8Array) raw = values;
  else if (LITTLE_ENDIAN) raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  else {
    raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  }
  return {
    name,
    type: OnnxAttributeType.TENSOR,
    t: {
      dims: [values.length],
      dataType: values instanceof Uint8Array ? OnnxDataType.UINT8 : OnnxDataType.FLOAT,
      rawData: raw,
    },
  };
}

function tensorInfo(name: string, elemType: number, dims: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * The `nodes_*` attributes of all trees. Thresholds are moved to float32 so that decisions on
 * float32 inputs are exactly those of the IR: `leq` takes the largest float32 ≤ t, `lt` the smallest
 * float32 ≥ t (see float32.ts).
 */
function* nodeAttributes(model: TreeEnsemble): Generator<void, OnnxAttribute[]> {
  // Typed arrays sized up front and filled by index: growing lists with push, then boxed numbers,
  // dominated the export of deep forests (reallocation and garbage collection). Ids are int32 (a
  // tree's node count is an Int32Array's length); thresholds are float32 already (see below).
  let total = 0;
  for (const tree of model.trees) total += tree.feature.length;
  const treeIds = new Int32Array(total);
  const nodeIds = new Int32Array(total);
  const featureIds = new Int32Array(total);
  // Encoded once and shared: encoding one string per node took half a second on deep forests.
  const modes = new Array<Uint8Array>(total);
  const values = new Float32Array(total);
  const trueIds = new Int32Array(total);
  const falseIds = new Int32Array(total);
  const anyMissing = model.trees.some((t) => t.missingLeft?.includes(1) === true);
  const missing = anyMissing ? new Int32Array(total) : undefined;
  const leq = model.mode === 'leq';
  const branch = utf8(leq ? 'BRANCH_LEQ' : 'BRANCH_LT');
  const leaf = utf8('LEAF');
  let at = 0;
  for (const [t, tree] of model.trees.entries()) {
    for (let i = 0; i < tree.feature.length; i++, at++) {
      const feature = tree.feature[i]!;
      treeIds[at] = t;
      nodeIds[at] = i;
      if (feature < 0) {
        modes[at] = leaf;
        values[at] = 0;
      } else {
        const threshold = tree.threshold[i]!;
        featureIds[at] = feature;
        modes[at] = branch;
        values[at] = leq ? float32AtOrBelow(threshold) : float32AtOrAbove(threshold);
        trueIds[at] = tree.left[i]!;
        falseIds[at] = tree.right[i]!;
        // A missing value (NaN) takes the true branch (left) where the tree learned that direction.
        if (missing && tree.missingLeft?.[i] === 1) missing[at] = 1;
      }
    }
    yield;
  }
  return [
    ints('nodes_treeids', treeIds),
    ints('nodes_nodeids', nodeIds),
    ints('nodes_featureids', featureIds),
    { name: 'nodes_modes', type: OnnxAttributeType.STRINGS, strings: modes },
    floats('nodes_values', values),
    ints('nodes_truenodeids', trueIds),
    ints('nodes_falsenodeids', falseIds),
    ...(missing ? [ints('nodes_missing_value_tracks_true', missing)] : []),
  ];
}

function countLeaves(tree: FlatTree): number {
  let leaves = 0;
  for (let i = 0; i < tree.feature.length; i++) if (tree.feature[i]! < 0) leaves++;
  return leaves;
}

/** The lists of the `TreeEnsemble` operator, filled tree by tree by {@link addTree}. */
interface BranchLists {
  featureIds: Int32Array;
  splits: Float32Array;
  trueIds: Int32Array;
  trueLeafs: Int32Array;
  falseIds: Int32Array;
  falseLeafs: Int32Array;
  missing: Int32Array | null;
  leafTargets: Int32Array;
  leafWeights: Float32Array;
  /** The next free index in the branch lists and in the leaf lists. */
  branchAt: number;
  leafAt: number;
}

/**
 * Appends one tree's branches and leaves to `lists`, its leaves adding to score column `column`. A
 * function of its own, called once per tree, so it is optimized once and stays so: the same loops
 * inside the exporter's generator, which runs once per export, were compiled again at most exports
 * (in 5 trainings of 20 trees on a 2-core VM, 4 compilations of 22–30 ms of compiler time each).
 */
function addTree(lists: BranchLists, tree: FlatTree, column: number, leq: boolean): void {
  const { featureIds, splits, trueIds, trueLeafs, falseIds, falseLeafs, missing, leafTargets, leafWeights } =
    lists;
  const { feature: features, threshold: thresholds, value, left: lefts, right: rights, missingLeft } = tree;
  const n = features.length;
  // Each node's index in its list: interior nodes, then leaves, in node order.
  const index = new Int32Array(n);
  const root = lists.branchAt;
  let b = root + (features[0]! < 0 ? 1 : 0);
  let leafAt = lists.leafAt;
  for (let i = 0; i < n; i++) {
    if (features[i]! < 0) {
      leafTargets[leafAt] = column;
      leafWeights[leafAt] = value[i]!;
      index[i] = leafAt++;
    } else index[i] = b++;
  }
  if (features[0]! < 0) {
    // featureIds, splits and modes keep 0, 0 and the ensemble's mode: either branch is the leaf.
    trueIds[root] = falseIds[root] = index[0]!;
    trueLeafs[root] = falseLeafs[root] = 1;
  }
  for (let i = 0; i < n; i++) {
    const feature = features[i]!;
    if (feature < 0) continue;
    const at = index[i]!;
    const threshold = thresholds[i]!;
    const left = lefts[i]!;
    const right = rights[i]!;
    featureIds[at] = feature;
    splits[at] = leq ? float32AtOrBelow(threshold) : float32AtOrAbove(threshold);
    trueIds[at] = index[left]!;
    trueLeafs[at] = features[left]! < 0 ? 1 : 0;
    falseIds[at] = index[right]!;
    falseLeafs[at] = features[right]! < 0 ? 1 : 0;
    // A missing value (NaN) takes the true branch (left) where the tree learned that direction.
    if (missing && missingLeft?.[i] === 1) missing[at] = 1;
  }
  lists.branchAt = b;
  lists.leafAt = leafAt;
}

/**
 * The `ai.onnx.ml` 5 `TreeEnsemble` node of a regression whose leaves carry one value each (see
 * {@link exportsTreeEnsembleOperator}), writing `output`: interior nodes and leaves get their own
 * indices, each child is an index into one of the two lists. A tree that is one leaf gets an interior
 * node whose branches both lead to that leaf (the operator's roots are interior nodes). Thresholds
 * are moved to float32 as in {@link nodeAttributes}.
 */
function* treeEnsembleNode(
  model: TreeEnsemble,
  inputName: string,
  output: string,
): Generator<void, OnnxNode> {
  const { trees } = model;
  let nBranches = 0;
  let nLeaves = 0;
  for (const tree of trees) {
    const leaves = countLeaves(tree);
    nLeaves += leaves;
    nBranches += tree.feature.length - leaves + (tree.feature[0]! < 0 ? 1 : 0);
  }
  const anyMissing = trees.some((t) => t.missingLeft?.includes(1) === true);
  const lists: BranchLists = {
    featureIds: new Int32Array(nBranches),
    splits: new Float32Array(nBranches),
    trueIds: new Int32Array(nBranches),
    trueLeafs: new Int32Array(nBranches),
    falseIds: new Int32Array(nBranches),
    falseLeafs: new Int32Array(nBranches),
    missing: anyMissing ? new Int32Array(nBranches) : null,
    leafTargets: new Int32Array(nLeaves),
    leafWeights: new Float32Array(nLeaves),
    branchAt: 0,
    leafAt: 0,
  };
  const modes = new Uint8Array(nBranches).fill(model.mode === 'leq' ? 0 : 1); // BRANCH_LEQ : BRANCH_LT
  const roots = new Int32Array(trees.length);
  // A boosted tree adds its one leaf value to score column `t % columns`.
  const columns = model.boost ? model.boost.baseScore.length : 1;
  const leq = model.mode === 'leq';
  for (const [t, tree] of trees.entries()) {
    roots[t] = lists.branchAt;
    addTree(lists, tree, t % columns, leq);
    yield;
  }
  const { featureIds, splits, trueIds, trueLeafs, falseIds, falseLeafs, missing, leafTargets, leafWeights } =
    lists;
  return {
    input: [inputName],
    output: [output],
    name: 'TreeEnsemble',
    opType: 'TreeEnsemble',
    domain: 'ai.onnx.ml',
    attribute: [
      int('aggregate_function', model.boost ? 1 : 0), // SUM : AVERAGE
      ints('leaf_targetids', leafTargets),
      tensorAttribute('leaf_weights', leafWeights),
      int('n_targets', model.nOutputs),
      ints('nodes_falseleafs', falseLeafs),
      ints('nodes_falsenodeids', falseIds),
      ints('nodes_featureids', featureIds),
      ...(missing ? [ints('nodes_missing_value_tracks_true', missing)] : []),
      tensorAttribute('nodes_modes', modes),
      tensorAttribute('nodes_splits', splits),
      ints('nodes_trueleafs', trueLeafs),
      ints('nodes_truenodeids', trueIds),
      int('post_transform', 0), // NONE
      ints('tree_roots', roots),
    ],
  };
}

interface LeafWeights {
  treeIds: Int32Array;
  nodeIds: Int32Array;
  ids: Int32Array;
  /** float32, as ONNX stores them. */
  weights: Float32Array;
}

/**
 * Leaf weights `(tree, node, output k, weight)`: one per leaf and output, zeros included, so every
 * class has a score in every row (onnxruntime's argmax skips classes that never received a weight).
 */
function* leafWeights(model: TreeEnsemble, scale: number): Generator<void, LeafWeights> {
  const nOutputs = leafWidth(model);
  // A boosted tree adds its one leaf value to score column `t % columns`.
  const columns = model.boost ? model.boost.baseScore.length : 0;
  // Two-class softmax is exported as logistic on s1 - s0 (see `boostedOnnx`): class-0 trees count negated.
  const pairAsLogistic = columns === 2;
  let total = 0;
  for (const tree of model.trees) {
    for (let i = 0; i < tree.feature.length; i++) if (tree.feature[i]! < 0) total += nOutputs;
  }
  const treeIds = new Int32Array(total);
  const nodeIds = new Int32Array(total);
  const ids = new Int32Array(total);
  const weights = new Float32Array(total);
  let at = 0;
  for (const [t, tree] of model.trees.entries()) {
    for (let i = 0; i < tree.feature.length; i++) {
      if (tree.feature[i]! >= 0) continue;
      for (let k = 0; k < nOutputs; k++, at++) {
        treeIds[at] = t;
        nodeIds[at] = i;
        ids[at] = pairAsLogistic ? 0 : columns > 0 ? t % columns : k;
        const v = tree.value[i * nOutputs + k]! * scale;
        weights[at] = pairAsLogistic && t % 2 === 0 ? -v : v;
      }
    }
    yield;
  }
  return { treeIds, nodeIds, ids, weights };
}

function regressor(model: TreeEnsemble, inputName: string, nodes: OnnxAttribute[], w: LeafWeights): OnnxNode {
  return {
    input: [inputName],
    output: ['variable'],
    name: 'TreeEnsembleRegressor',
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    attribute: [
      str('aggregate_function', model.boost ? 'SUM' : 'AVERAGE'),
      ...(model.boost ? [floats('base_values', model.boost.baseScore)] : []),
      int('n_targets', model.nOutputs),
      ...nodes,
      str('post_transform', 'NONE'),
      ints('target_ids', w.ids),
      ints('target_nodeids', w.nodeIds),
      ints('target_treeids', w.treeIds),
      floats('target_weights', w.weights),
    ],
  };
}

/**
 * The post-transform and base values of a boosted classifier: `LOGISTIC` with one score column for
 * two classes (onnxruntime's binary case gives `[1 - p, p]`), `SOFTMAX` for more. Two-class softmax
 * is exported as logistic on `s1 - s0` (the same probabilities; onnxruntime has no two-column softmax
 * that matches), with the class-0 trees' weights negated in `leafWeights`.
 */
function boostedOnnx(model: TreeEnsemble): { postTransform: string; base: number[] } {
  const boost = model.boost;
  if (!boost) return { postTransform: 'NONE', base: [] };
  const b = boost.baseScore;
  if (boost.postTransform === 'logistic') return { postTransform: 'LOGISTIC', base: b };
  if (b.length === 2) return { postTransform: 'LOGISTIC', base: [b[1]! - b[0]!] };
  return { postTransform: 'SOFTMAX', base: b };
}

/**
 * The classifier node, plus for two classes an `ArgMax` + `Gather` that computes the label: with
 * two classes onnxruntime's own label is `p1 > 0` (its "binary" convention), not the argmax.
 */
function classifier(
  model: TreeEnsemble,
  inputName: string,
  nodes: OnnxAttribute[],
  labels: { strings: string[] } | { ints: number[] },
  w: LeafWeights,
): { graphNodes: OnnxNode[]; initializer: OnnxTensor[] } {
  const binary = model.nOutputs === 2;
  const ensemble: OnnxNode = {
    input: [inputName],
    output: [binary ? 'ensemble_label' : 'label', 'probabilities'],
    name: 'TreeEnsembleClassifier',
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    attribute: [
      ints('class_ids', w.ids),
      ints('class_nodeids', w.nodeIds),
      ints('class_treeids', w.treeIds),
      floats('class_weights', w.weights),
      'strings' in labels
        ? strs('classlabels_strings', labels.strings)
        : ints('classlabels_int64s', labels.ints),
      ...nodes,
      ...(model.boost ? [floats('base_values', boostedOnnx(model).base)] : []),
      str('post_transform', boostedOnnx(model).postTransform),
    ],
  };
  if (!binary) return { graphNodes: [ensemble], initializer: [] };
  const classLabels: OnnxTensor =
    'strings' in labels
      ? {
          name: 'class_labels',
          dataType: OnnxDataType.STRING,
          dims: [2],
          stringData: labels.strings.map(utf8),
        }
      : { name: 'class_labels', dataType: OnnxDataType.INT64, dims: [2], int64Data: labels.ints };
  const argmax: OnnxNode = {
    input: ['probabilities'],
    output: ['label_index'],
    name: 'ArgMax',
    opType: 'ArgMax',
    attribute: [int('axis', 1), int('keepdims', 0), int('select_last_index', 0)],
  };
  const gather: OnnxNode = {
    input: ['class_labels', 'label_index'],
    output: ['label'],
    name: 'Gather',
    opType: 'Gather',
    attribute: [int('axis', 0)],
  };
  return { graphNodes: [ensemble, argmax, gather], initializer: [classLabels] };
}

/**
 * Exports a tree ensemble as an ONNX model: `ai.onnx.ml` 5 `TreeEnsemble` for regressions with one
 * value per leaf (see {@link exportsTreeEnsembleOperator}), else `ai.onnx.ml` 3
 * `TreeEnsembleRegressor` / `TreeEnsembleClassifier`.
 *
 * - Input: float `[N, nFeatures]` named `inputName` (default `input`).
 * - Regression: output `variable`, float `[N, nOutputs]`, the mean of the leaf values over trees
 *   (boosted: their sum, plus the base score through an `Add`).
 * - Classification: outputs `label` (`[N]`, string or int64) and `probabilities` (float `[N, nClasses]`,
 *   the mean leaf vector); the label is the argmax, lowest class index on ties. No ZipMap.
 * - Boosted ensembles (`model.boost`): `aggregate_function` `SUM` with `base_values`; classifiers use the
 *   `LOGISTIC` (binary: one score column, onnxruntime's binary case gives `[1 - p, p]`) or `SOFTMAX`
 *   post-transform. Learned missing-value directions become `nodes_missing_value_tracks_true`.
 *
 * Thresholds are stored as float32, adjusted so that every float32 input takes the same branch as in
 * {@link predictEnsemble} (`leq`: largest float32 ≤ t; `lt`: smallest float32 ≥ t). Inputs are float32,
 * so parity holds against `predictEnsemble` on float32-cast inputs. onnxruntime accumulates scores in
 * float32 (≈1e-7 relative), so labels can differ only where two classes tie within that.
 */
function* buildOnnxModel(
  model: TreeEnsemble,
  options: ExportTreeEnsembleOptions,
): Generator<void, OnnxModel> {
  const { nFeatures, nOutputs, trees } = model;
  if (!Number.isSafeInteger(nFeatures) || nFeatures < 1) throw bad('nFeatures must be a positive integer');
  if (!Number.isSafeInteger(nOutputs) || nOutputs < 1) throw bad('nOutputs must be a positive integer');
  if (trees.length === 0) throw bad('the ensemble has no trees');
  if (model.mode !== 'leq' && model.mode !== 'lt') throw bad(`unknown split mode "${String(model.mode)}"`);
  if (model.boost) {
    const s = model.boost.baseScore.length;
    if (trees.length % s !== 0) throw bad(`${trees.length} boosted trees are not whole rounds of ${s}`);
  }
  for (const [t, tree] of trees.entries()) {
    validateTree(tree, t, nFeatures, leafWidth(model));
    yield;
  }
  const inputName = options.inputName ?? 'input';
  if (inputName.length === 0) throw bad('inputName must not be empty');

  const input = [tensorInfo(inputName, OnnxDataType.FLOAT, ['N', nFeatures])];
  const versions = treeEnsembleExportVersions(model);
  let graph: OnnxGraph;
  if (exportsTreeEnsembleOperator(model)) {
    const output = [tensorInfo('variable', OnnxDataType.FLOAT, ['N', nOutputs])];
    const base = model.boost?.baseScore;
    if (!base) graph = { node: [yield* treeEnsembleNode(model, inputName, 'variable')], input, output };
    else {
      // The operator has no base values (ONNX dropped them in opset 5): an Add after it.
      const scores = yield* treeEnsembleNode(model, inputName, 'scores');
      const add: OnnxNode = {
        input: ['scores', 'base_score'],
        output: ['variable'],
        name: 'Add',
        opType: 'Add',
      };
      const baseScore: OnnxTensor = {
        name: 'base_score',
        dataType: OnnxDataType.FLOAT,
        dims: [base.length],
        floatData: [...base],
      };
      graph = { node: [scores, add], initializer: [baseScore], input, output };
    }
  } else if (model.task === 'regression') {
    const nodes = yield* nodeAttributes(model);
    graph = {
      node: [regressor(model, inputName, nodes, yield* leafWeights(model, 1))],
      input,
      output: [tensorInfo('variable', OnnxDataType.FLOAT, ['N', nOutputs])],
    };
  } else if (model.task === 'classification') {
    if (nOutputs < 2) {
      throw new RegistryError('UNSUPPORTED', 'ONNX export of a classifier needs at least 2 classes', {
        where: WHERE,
      });
    }
    const labels = resolveClasses(model, options.classes);
    if (model.boost && model.boost.postTransform === 'none') {
      throw bad('a boosted classifier needs the logistic or softmax post-transform');
    }
    const nodes = yield* nodeAttributes(model);
    const weights = yield* leafWeights(model, model.boost ? 1 : 1 / model.trees.length);
    const { graphNodes, initializer } = classifier(model, inputName, nodes, labels, weights);
    const labelType = 'strings' in labels ? OnnxDataType.STRING : OnnxDataType.INT64;
    graph = {
      node: graphNodes,
      initializer,
      input,
      output: [
        tensorInfo('label', labelType, ['N']),
        tensorInfo('probabilities', OnnxDataType.FLOAT, ['N', nOutputs]),
      ],
    };
  } else {
    throw bad(`unknown task "${String(model.task)}"`);
  }

  return {
    irVersion: versions.irVersion,
    opsetImport: versions.opsets,
    producerName: options.producer ?? 'modelreg',
    ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
    graph: { name: `modelreg_tree_ensemble_${model.task}`, ...graph },
  };
}

/** Exports a tree ensemble as ONNX bytes: the model that `buildOnnxModel` describes above. */
export function exportTreeEnsembleToOnnx(
  model: TreeEnsemble,
  options: ExportTreeEnsembleOptions = {},
): Uint8Array {
  const steps = buildOnnxModel(model, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return encodeOnnxModelFast(step.value);
  }
}

/**
 * {@link exportTreeEnsembleToOnnx} that lets the event loop run after each tree it converts and
 * each attribute it encodes, and checks `signal` there (`ABORTED`), so a long export of a large forest can be stopped.
 */
export async function exportTreeEnsembleToOnnxAsync(
  model: TreeEnsemble,
  options: ExportTreeEnsembleOptions = {},
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const between = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(signal, 'train');
  };
  throwIfAborted(signal, 'train');
  // One step per tree while the graph is built, one per attribute while it is encoded.
  const steps = buildOnnxModel(model, options);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return encodeOnnxModelInSteps(step.value, between);
    await between();
  }
}
