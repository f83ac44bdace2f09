import { z } from 'zod';
import { parseInput } from '../../domain/parse.js';
import { invalidArgument } from '../../errors.js';
import type { FlatTree, TreeEnsemble } from '../tree-ensemble.js';
import { decodeNumbers, encodeNumbers } from './bytes.js';
import { decodeTreeV2, encodeTreeV2, treeV2Schema } from './tree-ensemble-v2.js';

/** Version written by {@link treeEnsembleToJson}; every earlier version stays readable. */
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

/** The tree-ensemble IR as JSON, any version. */
export const treeEnsembleJsonSchema = z.discriminatedUnion('version', [
  treeEnsembleJsonV1Schema,
  treeEnsembleJsonV2Schema,
]);
export type TreeEnsembleJson = z.infer<typeof treeEnsembleJsonSchema>;

export interface TreeEnsembleJsonOptions {
  /** The layout to write (default {@link TREE_ENSEMBLE_JSON_VERSION}); 1 only for readers that predate 2. */
  version?: 1 | 2;
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
  if (options.version === 1) return { version: 1, ...base, trees: model.trees.map(treeToV1) };
  return { version: 2, ...base, trees: model.trees.map((t) => encodeTreeV2(t, model)) };
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
  const trees =
    data.version === 1
      ? data.trees.map((t, k) => treeFromV1(t, nOutputs, `trees.${k}`))
      : data.trees.map((t, k) => decodeTreeV2(t, nOutputs, nFeatures, `trees.${k}`));
  trees.forEach((tree, k) => checkTree(tree, k, nFeatures));
  return { task, nFeatures, nOutputs, mode, trees };
}
