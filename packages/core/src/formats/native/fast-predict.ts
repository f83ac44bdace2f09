import { invalidArgument } from '../../errors.js';
import { finishBoostedScores, leafWidth } from '../tree-ensemble.js';
import type { BoostedScores, TreeEnsemble } from '../tree-ensemble.js';

/**
 * A tree ensemble packed for prediction: the nodes of all trees in one buffer of 16 bytes per node
 * (one cache line holds four), every test as `x[f] <= threshold` (`lt` thresholds are moved to the
 * next lower double, which is the same test). Each tree is renumbered breadth-first so that the two
 * children of a node are neighbours: a step is `node = left + 1 - (x[f] <= threshold)`. A leaf has
 * threshold NaN (the test never holds) and `left = itself - 1`, so it steps onto itself and every row
 * can take exactly `depths[t]` steps through tree `t` without checking for leaves.
 */
export interface CompiledEnsemble {
  nFeatures: number;
  nOutputs: number;
  /** Per tree: the global index of its root and its depth (longest root-to-leaf path). */
  roots: Int32Array;
  depths: Int32Array;
  /** Node `g`'s threshold is `threshold[2 * g]` (a Float64 view of the node buffer). */
  threshold: Float64Array;
  /** Node `g`'s feature is `links[4 * g + 2]` and its left child `links[4 * g + 3]` (an Int32 view of the same buffer). */
  links: Int32Array;
  /** `leafWidth` values per node (read at leaves): `nOutputs`, or 1 for a boosted ensemble. */
  value: Float64Array;
  /** Per node, 1 when NaN goes left; null when no node sends NaN left. */
  missingLeft: Uint8Array | null;
  boost?: BoostedScores;
}

const bits = new DataView(new ArrayBuffer(8));

/** The largest double below `t`: `x < t` is exactly `x <= previousDouble(t)` for every double `x`. */
export function previousDouble(t: number): number {
  if (Number.isNaN(t) || t === -Infinity) return Number.NaN; // nothing is below: a test that never holds
  if (t === 0) return -Number.MIN_VALUE;
  bits.setFloat64(0, t);
  bits.setBigInt64(0, bits.getBigInt64(0) + (t > 0 ? -1n : 1n));
  return bits.getFloat64(0);
}

/** Packs `model`; `INVALID_ARGUMENT` when a node is reached from two parents (the IR must be trees). */
export function compileEnsemble(model: TreeEnsemble): CompiledEnsemble {
  let total = 0;
  for (const t of model.trees) total += t.feature.length;
  const k = leafWidth(model);
  const leq = model.mode === 'leq';
  const buffer = new ArrayBuffer(total * 16);
  const anyMissing = model.trees.some((t) => t.missingLeft?.includes(1) === true);
  const c: CompiledEnsemble = {
    nFeatures: model.nFeatures,
    nOutputs: model.nOutputs,
    roots: new Int32Array(model.trees.length),
    depths: new Int32Array(model.trees.length),
    threshold: new Float64Array(buffer),
    links: new Int32Array(buffer),
    value: new Float64Array(total * k),
    missingLeft: anyMissing ? new Uint8Array(total) : null,
    ...(model.boost ? { boost: model.boost } : {}),
  };
  const { threshold, links, value, missingLeft } = c;
  let base = 0;
  model.trees.forEach((t, ti) => {
    const n = t.feature.length;
    const id = new Int32Array(n).fill(-1);
    const depth = new Int32Array(n);
    const order = new Int32Array(n);
    let queued = 1;
    let next = 1;
    let maxDepth = 0;
    id[0] = 0;
    for (let q = 0; q < queued; q++) {
      const i = order[q]!;
      const g = base + id[i]!;
      if (t.feature[i]! >= 0) {
        const l = t.left[i]!;
        const r = t.right[i]!;
        if (id[l] !== -1 || id[r] !== -1 || l === r) {
          throw invalidArgument(
            `tree ${ti} is not a tree: node ${id[l] !== -1 ? l : r} has two parents`,
            'predict',
          );
        }
        id[l] = next;
        id[r] = next + 1;
        next += 2;
        order[queued++] = l;
        order[queued++] = r;
        depth[l] = depth[i]! + 1;
        depth[r] = depth[i]! + 1;
        threshold[2 * g] = leq ? t.threshold[i]! : previousDouble(t.threshold[i]!);
        links[4 * g + 2] = t.feature[i]!;
        links[4 * g + 3] = base + id[l]!;
        if (missingLeft !== null && t.missingLeft?.[i] === 1) missingLeft[g] = 1;
      } else {
        threshold[2 * g] = Number.NaN;
        links[4 * g + 2] = 0;
        links[4 * g + 3] = g - 1;
        for (let j = 0; j < k; j++) value[g * k + j] = t.value[i * k + j]!;
        if (depth[i]! > maxDepth) maxDepth = depth[i]!;
      }
    }
    c.roots[ti] = base;
    c.depths[ti] = maxDepth;
    base += n;
  });
  return c;
}

const BLOCK = 256;

/**
 * The same values as `predictEnsemble` (mean of leaf vectors or boosted scores, bit for bit: trees
 * are summed in the same order). Works tree by tree over blocks of rows, so a tree's nodes stay in cache, and walks 8
 * rows at once with branch-free steps, so the CPU overlaps their independent loads.
 */
export function predictCompiled(c: CompiledEnsemble, x: ArrayLike<number>, n: number): Float64Array {
  const { nFeatures: F, roots, depths, threshold: th, links: li, value, boost, missingLeft: ml } = c;
  // Values per leaf, and per output row: a boosted ensemble sums one value per tree into its score column.
  const k = boost ? 1 : c.nOutputs;
  const s = boost ? boost.baseScore.length : k;
  const out = new Float64Array(n * s);
  const leaves = new Int32Array(8);
  const nTrees = roots.length;
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = Math.min(n, b0 + BLOCK);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t]!;
      const depth = depths[t]!;
      for (let r = b0; r < b1; r += 8) {
        const o = r * F;
        if (ml !== null) {
          // NaN takes the learned default direction: a test per step the fast path does not pay.
          for (let j = 0; r + j < b1 && j < 8; j++) {
            let node = root;
            const oj = o + j * F;
            for (let q = depth; q > 0; q--) {
              const v = x[oj + li[4 * node + 2]!]!;
              node = li[4 * node + 3]! + 1 - (+(v <= th[2 * node]!) | (ml[node]! & +(v !== v)));
            }
            leaves[j] = node;
          }
        } else if (r + 8 <= b1) {
          let a = root;
          let b = root;
          let c2 = root;
          let d = root;
          let e = root;
          let f = root;
          let g = root;
          let h = root;
          for (let s = depth; s > 0; s--) {
            a = li[4 * a + 3]! + 1 - +(x[o + li[4 * a + 2]!]! <= th[2 * a]!);
            b = li[4 * b + 3]! + 1 - +(x[o + F + li[4 * b + 2]!]! <= th[2 * b]!);
            c2 = li[4 * c2 + 3]! + 1 - +(x[o + 2 * F + li[4 * c2 + 2]!]! <= th[2 * c2]!);
            d = li[4 * d + 3]! + 1 - +(x[o + 3 * F + li[4 * d + 2]!]! <= th[2 * d]!);
            e = li[4 * e + 3]! + 1 - +(x[o + 4 * F + li[4 * e + 2]!]! <= th[2 * e]!);
            f = li[4 * f + 3]! + 1 - +(x[o + 5 * F + li[4 * f + 2]!]! <= th[2 * f]!);
            g = li[4 * g + 3]! + 1 - +(x[o + 6 * F + li[4 * g + 2]!]! <= th[2 * g]!);
            h = li[4 * h + 3]! + 1 - +(x[o + 7 * F + li[4 * h + 2]!]! <= th[2 * h]!);
          }
          leaves[0] = a;
          leaves[1] = b;
          leaves[2] = c2;
          leaves[3] = d;
          leaves[4] = e;
          leaves[5] = f;
          leaves[6] = g;
          leaves[7] = h;
        } else {
          for (let j = 0; r + j < b1; j++) {
            let node = root;
            const oj = o + j * F;
            for (let s = depth; s > 0; s--)
              node = li[4 * node + 3]! + 1 - +(x[oj + li[4 * node + 2]!]! <= th[2 * node]!);
            leaves[j] = node;
          }
        }
        const m = Math.min(8, b1 - r);
        if (boost) {
          const col = t % s;
          for (let j = 0; j < m; j++) out[(r + j) * s + col]! += value[leaves[j]!]!;
        } else if (k === 1) for (let j = 0; j < m; j++) out[r + j]! += value[leaves[j]!]!;
        else {
          for (let j = 0; j < m; j++) {
            const oo = (r + j) * k;
            const vo = leaves[j]! * k;
            for (let q = 0; q < k; q++) out[oo + q]! += value[vo + q]!;
          }
        }
      }
    }
  }
  if (boost) return finishBoostedScores(boost, out, n, c.nOutputs);
  const scale = 1 / nTrees;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

/**
 * One row (`x[0..nFeatures)`): the values of {@link predictCompiled} for `n = 1` (trees summed in the
 * same order, then scaled), without its block and scratch buffers. Walks four trees at once, as deep
 * as the deepest of them (a leaf steps onto itself), so the CPU overlaps their independent loads.
 */
export function predictCompiledRow(c: CompiledEnsemble, x: ArrayLike<number>): Float64Array {
  const { nOutputs: k, roots, depths, threshold: th, links: li, value } = c;
  const out = new Float64Array(k);
  const nTrees = roots.length;
  const add = (node: number): void => {
    if (k === 1) out[0]! += value[node]!;
    else for (let q = 0, vo = node * k; q < k; q++) out[q]! += value[vo + q]!;
  };
  let t = 0;
  for (; t + 4 <= nTrees; t += 4) {
    let a = roots[t]!;
    let b = roots[t + 1]!;
    let d = roots[t + 2]!;
    let e = roots[t + 3]!;
    const steps = Math.max(depths[t]!, depths[t + 1]!, depths[t + 2]!, depths[t + 3]!);
    for (let s = steps; s > 0; s--) {
      a = li[4 * a + 3]! + 1 - +(x[li[4 * a + 2]!]! <= th[2 * a]!);
      b = li[4 * b + 3]! + 1 - +(x[li[4 * b + 2]!]! <= th[2 * b]!);
      d = li[4 * d + 3]! + 1 - +(x[li[4 * d + 2]!]! <= th[2 * d]!);
      e = li[4 * e + 3]! + 1 - +(x[li[4 * e + 2]!]! <= th[2 * e]!);
    }
    add(a);
    add(b);
    add(d);
    add(e);
  }
  for (; t < nTrees; t++) {
    let node = roots[t]!;
    for (let s = depths[t]!; s > 0; s--)
      node = li[4 * node + 3]! + 1 - +(x[li[4 * node + 2]!]! <= th[2 * node]!);
    add(node);
  }
  const scale = 1 / nTrees;
  for (let q = 0; q < k; q++) out[q]! *= scale;
  return out;
}

const compiled = new WeakMap<TreeEnsemble, CompiledEnsemble>();

/** `predictEnsemble` with the packed layout; the packing is cached per model object (treat models as immutable). */
export function predictEnsembleFast(model: TreeEnsemble, x: ArrayLike<number>, n: number): Float64Array {
  let c = compiled.get(model);
  if (!c) {
    c = compileEnsemble(model);
    compiled.set(model, c);
  }
  // The one-row walk averages leaf vectors and ignores missing-value directions: boosted ensembles
  // (summed scores, then a transform) and trees with learned directions take the general path.
  return n === 1 && !c.boost && c.missingLeft === null ? predictCompiledRow(c, x) : predictCompiled(c, x, n);
}
