import { z } from 'zod';
import { invalidArgument } from '../../errors.js';
import { leafWidth } from '../tree-ensemble.js';
import type { FlatTree, TreeEnsemble } from '../tree-ensemble.js';
import { decodeNumbers, encodeNumbers, floatTypeFor, unsignedTypeFor } from './bytes.js';

/**
 * Version 2 of one tree in the tree-ensemble JSON: every field is base64 of little-endian numbers, and
 * each is stored only where the predictor reads it. Decoding gives back the IR exactly (node order,
 * thresholds and leaf values bit for bit; internal nodes get value 0 and leaves threshold 0, as the
 * built-in learners leave them).
 */
export const treeV2Schema = z.object({
  nodes: z.number().int().min(1),
  /**
   * Per node, the feature tested: `u8` with 255 for a leaf when the ensemble has at most 255 features,
   * `i16` with -1 for a leaf up to 32767 features, else `i32` with -1.
   */
  feature: z.string(),
  /**
   * Where the children are: `siblings` — right = left + 1, `children` holds left; `preorder` —
   * left = node + 1, `children` holds right; `pairs` — `children` holds left then right.
   */
  layout: z.enum(['siblings', 'preorder', 'pairs']),
  /** Per internal node in node order, its child index(es): `u16` when the tree has at most 65536 nodes, else `u32`. */
  children: z.string(),
  thresholdType: z.enum(['f32', 'f64']),
  /** Per internal node in node order. `f32` only when every threshold is exactly a float32. */
  threshold: z.string(),
  /**
   * How leaf values are stored, `nOutputs` per leaf in node order: `f64`, `f32` (only when exact), or
   * class counts `u8` / `u16` / `u32` — the leaf value is each count divided by the leaf's total,
   * used only when that gives back every value bit for bit.
   */
  valueType: z.enum(['f64', 'f32', 'u8', 'u16', 'u32']),
  value: z.string(),
  /**
   * Version 3 only, when some node sends missing values (NaN) left: per internal node in node order,
   * `u8` 1 (NaN goes left) or 0 (right).
   */
  missingLeft: z.string().optional(),
});
export type TreeV2Json = z.infer<typeof treeV2Schema>;

type FeatureType = 'u8' | 'i16' | 'i32';

export function featureTypeFor(nFeatures: number): FeatureType {
  return nFeatures <= 255 ? 'u8' : nFeatures <= 32767 ? 'i16' : 'i32';
}

/** Largest denominator tried when writing class distributions as counts. */
const MAX_DENOMINATOR = 0xffffffff;

/**
 * The smallest q such that some p/q (a convergent of the continued fraction of x) divides to exactly x,
 * or 0. For x = c / W with W below ~6e7 that is W / gcd(c, W): the float expansion stays exact that far.
 */
function denominatorOf(x: number): number {
  let h0 = 0;
  let h1 = 1;
  let k0 = 1;
  let k1 = 0;
  let r = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(r);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (k2 > MAX_DENOMINATOR) return 0;
    if (h2 / k2 === x) return k2;
    const f = r - a;
    if (f <= 0) return 0;
    r = 1 / f;
    h0 = h1;
    h1 = h2;
    k0 = k1;
    k1 = k2;
  }
  return 0;
}

const gcd = (a: number, b: number): number => {
  while (b) [a, b] = [b, a % b];
  return a;
};

/** Integer counts whose shares are exactly the leaf's values, written into `out`; false when there are none. */
function leafCounts(value: Float64Array, offset: number, k: number, out: Float64Array, at: number): boolean {
  let den = 1;
  for (let j = 0; j < k; j++) {
    const v = value[offset + j]!;
    if (v === 0 || v === 1) continue;
    if (!(v > 0 && v < 1)) return false;
    const q = denominatorOf(v);
    if (q === 0) return false;
    den = (den / gcd(den, q)) * q;
    if (den > MAX_DENOMINATOR) return false;
  }
  let total = 0;
  for (let j = 0; j < k; j++) {
    const c = Math.round(value[offset + j]! * den);
    out[at + j] = c;
    total += c;
  }
  if (total === 0 || total > MAX_DENOMINATOR) return false;
  for (let j = 0; j < k; j++) if (out[at + j]! / total !== value[offset + j]) return false;
  return true;
}

function encodeLeafValues(
  tree: FlatTree,
  leaves: number[],
  k: number,
  classification: boolean,
): { valueType: TreeV2Json['valueType']; value: string } {
  const values = new Float64Array(leaves.length * k);
  leaves.forEach((node, i) => values.set(tree.value.subarray(node * k, node * k + k), i * k));
  if (classification) {
    const counts = new Float64Array(values.length);
    let ok = true;
    let max = 0;
    for (let i = 0; ok && i < leaves.length; i++) ok = leafCounts(values, i * k, k, counts, i * k);
    if (ok) {
      for (const c of counts) if (c > max) max = c;
      const valueType = unsignedTypeFor(max);
      return { valueType, value: encodeNumbers(counts, valueType) };
    }
  }
  const valueType = floatTypeFor(values);
  return { valueType, value: encodeNumbers(values, valueType) };
}

export function encodeTreeV2(tree: FlatTree, model: TreeEnsemble): TreeV2Json {
  const n = tree.feature.length;
  const k = leafWidth(model);
  const internal: number[] = [];
  const leaves: number[] = [];
  let siblings = true;
  let preorder = true;
  for (let i = 0; i < n; i++) {
    if (tree.feature[i]! < 0) {
      leaves.push(i);
      continue;
    }
    internal.push(i);
    if (tree.right[i] !== tree.left[i]! + 1) siblings = false;
    if (tree.left[i] !== i + 1) preorder = false;
  }
  const layout = siblings ? 'siblings' : preorder ? 'preorder' : 'pairs';
  const children =
    layout === 'siblings'
      ? internal.map((i) => tree.left[i]!)
      : layout === 'preorder'
        ? internal.map((i) => tree.right[i]!)
        : internal.flatMap((i) => [tree.left[i]!, tree.right[i]!]);
  const featureType = featureTypeFor(model.nFeatures);
  const leafCode = featureType === 'u8' ? 255 : -1;
  const thresholds = Float64Array.from(internal, (i) => tree.threshold[i]!);
  const thresholdType = floatTypeFor(thresholds);
  return {
    nodes: n,
    feature: encodeNumbers(
      Array.from(tree.feature, (f) => (f < 0 ? leafCode : f)),
      featureType,
    ),
    layout,
    children: encodeNumbers(children, n <= 0x10000 ? 'u16' : 'u32'),
    thresholdType,
    threshold: encodeNumbers(thresholds, thresholdType),
    ...encodeLeafValues(tree, leaves, k, model.task === 'classification' && !model.boost),
    ...(tree.missingLeft?.includes(1)
      ? {
          missingLeft: encodeNumbers(
            Uint8Array.from(internal, (i) => tree.missingLeft![i]!),
            'u8',
          ),
        }
      : {}),
  };
}

/** Rebuilds one tree; shapes are checked here, node links by the caller. */
export function decodeTreeV2(t: TreeV2Json, k: number, nFeatures: number, where: string): FlatTree {
  const n = t.nodes;
  const featureType = featureTypeFor(nFeatures);
  const raw = decodeNumbers(t.feature, n, featureType, `${where}.feature`);
  const leafCode = featureType === 'u8' ? 255 : -1;
  const feature = new Int32Array(n);
  let nInternal = 0;
  for (let i = 0; i < n; i++) {
    feature[i] = raw[i] === leafCode ? -1 : raw[i]!;
    if (feature[i]! >= 0) nInternal++;
  }
  const nLeaves = n - nInternal;
  const perInternal = t.layout === 'pairs' ? 2 : 1;
  const children = decodeNumbers(
    t.children,
    nInternal * perInternal,
    n <= 0x10000 ? 'u16' : 'u32',
    `${where}.children`,
  );
  const thresholds = decodeNumbers(t.threshold, nInternal, t.thresholdType, `${where}.threshold`);
  const values = decodeNumbers(t.value, nLeaves * k, t.valueType, `${where}.value`);
  const counts = t.valueType !== 'f32' && t.valueType !== 'f64';
  const tree: FlatTree = {
    feature,
    threshold: new Float64Array(n),
    left: new Int32Array(n).fill(-1),
    right: new Int32Array(n).fill(-1),
    value: new Float64Array(n * k),
  };
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (feature[i]! >= 0) {
      tree.threshold[i] = thresholds[a]!;
      if (t.layout === 'siblings') {
        tree.left[i] = children[a]!;
        tree.right[i] = children[a]! + 1;
      } else if (t.layout === 'preorder') {
        tree.left[i] = i + 1;
        tree.right[i] = children[a]!;
      } else {
        tree.left[i] = children[2 * a]!;
        tree.right[i] = children[2 * a + 1]!;
      }
      a++;
      continue;
    }
    let total = 0;
    if (counts) for (let j = 0; j < k; j++) total += values[b * k + j]!;
    if (counts && total === 0) {
      throw invalidArgument(
        `tree-ensemble model is malformed: ${where} leaf ${i} has no counts`,
        'native-model',
      );
    }
    for (let j = 0; j < k; j++) {
      const v = values[b * k + j]!;
      tree.value[i * k + j] = counts ? v / total : v;
    }
    b++;
  }
  if (t.missingLeft !== undefined) {
    const flags = decodeNumbers(t.missingLeft, nInternal, 'u8', `${where}.missingLeft`);
    tree.missingLeft = new Uint8Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) if (feature[i]! >= 0) tree.missingLeft[i] = flags[m++] === 1 ? 1 : 0;
  }
  return tree;
}
