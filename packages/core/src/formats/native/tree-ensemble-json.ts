import { z } from 'zod';
import { invalidArgument } from '../../errors.js';
import type { FlatTree, TreeEnsemble } from '../tree-ensemble.js';

/** Version of the compact JSON layout below; bump on any incompatible change. */
export const TREE_ENSEMBLE_JSON_VERSION = 1;

/**
 * The tree-ensemble IR as JSON: the typed arrays of each tree are base64 strings of their
 * little-endian bytes (Int32 for `feature`/`left`/`right`, Float64 for `threshold`/`value`), so a
 * round trip is bit-exact and the file stays small.
 */
export const treeEnsembleJsonSchema = z.object({
  version: z.literal(TREE_ENSEMBLE_JSON_VERSION),
  task: z.enum(['classification', 'regression']),
  nFeatures: z.number().int().min(1),
  nOutputs: z.number().int().min(1),
  mode: z.enum(['leq', 'lt']),
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
export type TreeEnsembleJson = z.infer<typeof treeEnsembleJsonSchema>;

function int32ToBase64(a: Int32Array): string {
  const view = new DataView(new ArrayBuffer(a.length * 4));
  for (let i = 0; i < a.length; i++) view.setInt32(i * 4, a[i]!, true);
  return Buffer.from(view.buffer).toString('base64');
}

function float64ToBase64(a: Float64Array): string {
  const view = new DataView(new ArrayBuffer(a.length * 8));
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i]!, true);
  return Buffer.from(view.buffer).toString('base64');
}

function bytesOf(b64: string, expected: number, what: string): DataView {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== expected) {
    throw invalidArgument(
      `tree-ensemble model is malformed: ${what} has ${bytes.length} bytes, expected ${expected}`,
      'native-model',
    );
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function base64ToInt32(b64: string, n: number, what: string): Int32Array {
  const view = bytesOf(b64, n * 4, what);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

function base64ToFloat64(b64: string, n: number, what: string): Float64Array {
  const view = bytesOf(b64, n * 8, what);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

export function treeEnsembleToJson(model: TreeEnsemble): TreeEnsembleJson {
  return {
    version: TREE_ENSEMBLE_JSON_VERSION,
    task: model.task,
    nFeatures: model.nFeatures,
    nOutputs: model.nOutputs,
    mode: model.mode,
    trees: model.trees.map((t) => ({
      nodes: t.feature.length,
      feature: int32ToBase64(t.feature),
      threshold: float64ToBase64(t.threshold),
      left: int32ToBase64(t.left),
      right: int32ToBase64(t.right),
      value: float64ToBase64(t.value),
    })),
  };
}

/**
 * Parses and checks a tree-ensemble JSON. Every internal node must test a feature in range and
 * point at children with higher indices (so prediction always terminates); leaves have no children.
 * A malformed file is `INVALID_ARGUMENT`.
 */
export function treeEnsembleFromJson(json: unknown): TreeEnsemble {
  const parsed = treeEnsembleJsonSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArgument(
      `tree-ensemble model is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      'native-model',
    );
  }
  const { task, nFeatures, nOutputs, mode } = parsed.data;
  if (task === 'regression' && nOutputs !== 1) {
    throw invalidArgument('tree-ensemble model is malformed: regression needs nOutputs 1', 'native-model');
  }
  const trees = parsed.data.trees.map((t, k): FlatTree => {
    const n = t.nodes;
    const tree: FlatTree = {
      feature: base64ToInt32(t.feature, n, `trees.${k}.feature`),
      threshold: base64ToFloat64(t.threshold, n, `trees.${k}.threshold`),
      left: base64ToInt32(t.left, n, `trees.${k}.left`),
      right: base64ToInt32(t.right, n, `trees.${k}.right`),
      value: base64ToFloat64(t.value, n * nOutputs, `trees.${k}.value`),
    };
    for (let i = 0; i < n; i++) {
      const f = tree.feature[i]!;
      const l = tree.left[i]!;
      const r = tree.right[i]!;
      const ok =
        f === -1
          ? l === -1 && r === -1
          : f >= 0 && f < nFeatures && l > i && l < n && r > i && r < n && !Number.isNaN(tree.threshold[i]!);
      if (!ok)
        throw invalidArgument(
          `tree-ensemble model is malformed: tree ${k} node ${i} is invalid`,
          'native-model',
        );
    }
    return tree;
  });
  return { task, nFeatures, nOutputs, mode, trees };
}
