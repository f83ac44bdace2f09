import { z } from 'zod';
import { parseInput } from '../../domain/parse.js';
import { invalidArgument } from '../../errors.js';
import type { FlatTree, TreeEnsemble } from '../tree-ensemble.js';
import { decodeNumbers, encodeNumbers } from './bytes.js';
import { decodeTreeV2, encodeTreeV2, treeV2Schema } from './tree-ensemble-v2.js';

/**
 * Version written by {@link treeEnsembleToJson} for mean ensembles (forests, trees); boosted
 * ensembles and trees with learned missing-value directions are written as version 3. Every earlier
 * version stays readable.
 */
export const TREE_ENSEMBLE_JSON_VERSION = 2;

const header = {
  task: z.enum(['classification', 'regression']),
  nFeatures: z.number().int().min(1),
  nOutputs: z.number().int().min(1),
  mode: z.enum(['leq', 'lt']),
};

/**
 * Version 1: every IR array of every node, base64 of its little-endian bytes (Int32 for
 * `feature`/`left`/`right`, Float64 for `threshold`/`value`).
 */
export const treeEnsembleJsonV1Schema = z.object({
  version: z.literal(1),
  ...header,
  trees: z
    .array(
      z.object({
        nodes: z.number().int().min(1),
        feature: z.string(),
        threshold: z.string(),
        left: z.string(),
        right: z.string(),
        value: z.string(),
      }),
    )
    .min(1),
});

/**
 * Version 2, the compact layout (see `treeV2Schema`): features as `u8`/`i16`, one child index per
 * internal node, thresholds only at internal nodes, leaf values only at leaves — classification
 * distributions as integer counts when that is exact. Reads back bit for bit.
 */
export const treeEnsembleJsonV2Schema = z.object({
  version: z.literal(2),
  ...header,
  trees: z.array(treeV2Schema).min(1),
});

/**
 * Version 3: version 2 plus what gradient boosting needs — `boost` (trees summed into raw scores from
 * `baseScore`, then `postTransform`; see `BoostedScores`) and per tree `missingLeft`. A boosted tree
 * stores one value per leaf.
 */
export const treeEnsembleJsonV3Schema = z.object({
  version: z.literal(3),
  ...header,
  trees: z.array(treeV2Schema).min(1),
  boost: z
    .object({
      baseScore: z.array(z.number()).min(1),
      postTransform: z.enum(['none', 'logistic', 'softmax']),
    })
    .optional(),
});

/** The tree-ensemble IR as JSON, any version. */
export const treeEnsembleJsonSchema = z.discriminatedUnion('version', [
  treeEnsembleJsonV1Schema,
  treeEnsembleJsonV2Schema,
  treeEnsembleJsonV3Schema,
]);
export type TreeEnsembleJson = z.infer<typeof treeEnsembleJsonSchema>;

export interface TreeEnsembleJsonOptions {
  /**
   * The layout to write (default {@link TREE_ENSEMBLE_JSON_VERSION}, or 3 when the model needs it);
   * 1 only for readers that predate 2. Boosted models and missing-value directions need 3.
   */
  version?: 1 | 2 | 3;
}

function treeToV1(t: FlatTree): z.infer<typeof treeEnsembleJsonV1Schema>['trees'][number] {
  return {
    nodes: t.feature.length,
    feature: encodeNumbers(t.feature, 'i32'),
    threshold: encodeNumbers(t.threshold, 'f64'),
    left: encodeNumbers(t.left, 'i32'),
    right: encodeNumbers(t.right, 'i32'),
    value: encodeNumbers(t.value, 'f64'),
  };
}

export function treeEnsembleToJson(
  model: TreeEnsemble,
  options: TreeEnsembleJsonOptions = {},
): TreeEnsembleJson {
  const base = { task: model.task, nFeatures: model.nFeatures, nOutputs: model.nOutputs, mode: model.mode };
  const needs3 = model.boost !== undefined || model.trees.some((t) => t.missingLeft?.includes(1) === true);
  if (needs3 && options.version !== undefined && options.version < 3) {
    throw invalidArgument(
      `a boosted model or one with missing-value directions needs tree-ensemble JSON version 3, not ${options.version}`,
      'native-model',
    );
  }
  if (options.version === 1) return { version: 1, ...base, trees: model.trees.map(treeToV1) };
  const trees = model.trees.map((t) => encodeTreeV2(t, model));
  if (!needs3 && options.version !== 3) return { version: 2, ...base, trees };
  return {
    version: 3,
    ...base,
    trees,
    ...(model.boost
      ? { boost: { baseScore: [...model.boost.baseScore], postTransform: model.boost.postTransform } }
      : {}),
  };
}

/**
 * Every internal node tests a feature in range and points at two later nodes that no other node points
 * at: prediction terminates, and the nodes form a tree.
 */
function checkTree(tree: FlatTree, k: number, nFeatures: number): void {
  const n = tree.feature.length;
  const hasParent = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const f = tree.feature[i]!;
    const l = tree.left[i]!;
    const r = tree.right[i]!;
    const ok =
      f === -1
        ? l === -1 && r === -1
        : f >= 0 &&
          f < nFeatures &&
          l > i &&
          l < n &&
          r > i &&
          r < n &&
          l !== r &&
          hasParent[l] === 0 &&
          hasParent[r] === 0 &&
          !Number.isNaN(tree.threshold[i]!);
    if (!ok)
      throw invalidArgument(
        `tree-ensemble model is malformed: tree ${k} node ${i} is invalid`,
        'native-model',
      );
    if (f !== -1) hasParent[l] = hasParent[r] = 1;
  }
}

/** The score columns and transform must fit the task: regression `none` with 1, binary `logistic` with 1, softmax one per class. */
function checkBoost(
  boost: NonNullable<z.infer<typeof treeEnsembleJsonV3Schema>['boost']>,
  task: TreeEnsemble['task'],
  nOutputs: number,
): void {
  const s = boost.baseScore.length;
  const ok =
    boost.baseScore.every(Number.isFinite) &&
    (task === 'regression'
      ? boost.postTransform === 'none' && s === 1
      : boost.postTransform === 'logistic'
        ? nOutputs === 2 && s === 1
        : boost.postTransform === 'softmax' && s === nOutputs);
  if (!ok) {
    throw invalidArgument(
      `tree-ensemble model is malformed: boost ${boost.postTransform} with ${s} scores does not fit ${task} with ${nOutputs} outputs`,
      'native-model',
    );
  }
}

function treeFromV1(
  t: z.infer<typeof treeEnsembleJsonV1Schema>['trees'][number],
  nOutputs: number,
  where: string,
): FlatTree {
  const n = t.nodes;
  return {
    feature: Int32Array.from(decodeNumbers(t.feature, n, 'i32', `${where}.feature`)),
    threshold: decodeNumbers(t.threshold, n, 'f64', `${where}.threshold`),
    left: Int32Array.from(decodeNumbers(t.left, n, 'i32', `${where}.left`)),
    right: Int32Array.from(decodeNumbers(t.right, n, 'i32', `${where}.right`)),
    value: decodeNumbers(t.value, n * nOutputs, 'f64', `${where}.value`),
  };
}

/**
 * Parses and checks a tree-ensemble JSON of any version. Every internal node must test a feature in
 * range and point at two children with higher indices that have no other parent (so prediction always
 * terminates); leaves have no children. A malformed file is `INVALID_ARGUMENT`.
 */
export function treeEnsembleFromJson(json: unknown): TreeEnsemble {
  const data = parseInput(treeEnsembleJsonSchema, json, {
    what: 'tree-ensemble model',
    where: 'native-model',
  });
  const { task, nFeatures, nOutputs, mode } = data;
  if (task === 'regression' && nOutputs !== 1) {
    throw invalidArgument('tree-ensemble model is malformed: regression needs nOutputs 1', 'native-model');
  }
  const boost = data.version === 3 ? data.boost : undefined;
  if (boost) checkBoost(boost, task, nOutputs);
  if (data.version === 2 && data.trees.some((t) => t.missingLeft !== undefined)) {
    throw invalidArgument('tree-ensemble model is malformed: missingLeft needs version 3', 'native-model');
  }
  const width = boost ? 1 : nOutputs;
  const trees =
    data.version === 1
      ? data.trees.map((t, k) => treeFromV1(t, nOutputs, `trees.${k}`))
      : data.trees.map((t, k) => decodeTreeV2(t, width, nFeatures, `trees.${k}`));
  trees.forEach((tree, k) => checkTree(tree, k, nFeatures));
  if (boost && trees.length % boost.baseScore.length !== 0) {
    throw invalidArgument(
      `tree-ensemble model is malformed: ${trees.length} trees are not whole rounds of ${boost.baseScore.length} scores`,
      'native-model',
    );
  }
  return { task, nFeatures, nOutputs, mode, trees, ...(boost ? { boost } : {}) };
}
