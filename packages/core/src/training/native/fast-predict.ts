import type { TreeEnsemble } from '../../formats/tree-ensemble.js';

/**
 * A tree ensemble packed for prediction: the nodes of all trees in one set of arrays, every test as
 * `x[f] <= threshold` (`lt` thresholds are moved to the next lower double, which is the same test).
 * Leaves point both children at themselves, so every row can take exactly `depths[t]` steps through
 * tree `t` without checking for leaves.
 */
export interface CompiledEnsemble {
  nFeatures: number;
  nOutputs: number;
  /** Per tree: the global index of its root and its depth (longest root-to-leaf path). */
  roots: Int32Array;
  depths: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  /** `children[2 * node]` is taken when `x[feature] <= threshold`, `children[2 * node + 1]` otherwise. */
  children: Int32Array;
  /** `nOutputs` values per node (read at leaves). */
  value: Float64Array;
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

export function compileEnsemble(model: TreeEnsemble): CompiledEnsemble {
  let total = 0;
  for (const t of model.trees) total += t.feature.length;
  const k = model.nOutputs;
  const leq = model.mode === 'leq';
  const c: CompiledEnsemble = {
    nFeatures: model.nFeatures,
    nOutputs: k,
    roots: new Int32Array(model.trees.length),
    depths: new Int32Array(model.trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    children: new Int32Array(2 * total),
    value: new Float64Array(total * k),
  };
  let base = 0;
  model.trees.forEach((t, ti) => {
    const n = t.feature.length;
    const depth = new Int32Array(n);
    let maxDepth = 0;
    for (let i = 0; i < n; i++) {
      const g = base + i;
      if (t.feature[i]! >= 0) {
        c.feature[g] = t.feature[i]!;
        c.threshold[g] = leq ? t.threshold[i]! : previousDouble(t.threshold[i]!);
        c.children[2 * g] = base + t.left[i]!;
        c.children[2 * g + 1] = base + t.right[i]!;
        // Children come after their parent in the IR, so depths fill in one forward pass.
        depth[t.left[i]!] = depth[i]! + 1;
        depth[t.right[i]!] = depth[i]! + 1;
      } else {
        c.children[2 * g] = g;
        c.children[2 * g + 1] = g;
        if (depth[i]! > maxDepth) maxDepth = depth[i]!;
      }
    }
    c.value.set(t.value.subarray(0, n * k), base * k);
    c.roots[ti] = base;
    c.depths[ti] = maxDepth;
    base += n;
  });
  return c;
}

const BLOCK = 256;

/**
 * The same values as `predictEnsemble` (mean of leaf vectors, bit for bit: trees are summed in the
 * same order). Works tree by tree over blocks of rows, so a tree's nodes stay in cache, and walks 8
 * rows at once with branch-free steps, so the CPU overlaps their independent loads.
 */
export function predictCompiled(c: CompiledEnsemble, x: ArrayLike<number>, n: number): Float64Array {
  const { nFeatures: F, nOutputs: k, roots, depths, feature: fe, threshold: th, children: ch, value } = c;
  const out = new Float64Array(n * k);
  const leaves = new Int32Array(8);
  const nTrees = roots.length;
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = Math.min(n, b0 + BLOCK);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t]!;
      const depth = depths[t]!;
      for (let r = b0; r < b1; r += 8) {
        const o = r * F;
        let a = root;
        let b = root;
        let c2 = root;
        let d = root;
        let e = root;
        let f = root;
        let g = root;
        let h = root;
        if (r + 8 <= b1) {
          for (let s = depth; s > 0; s--) {
            a = ch[2 * a + 1 - +(x[o + fe[a]!]! <= th[a]!)]!;
            b = ch[2 * b + 1 - +(x[o + F + fe[b]!]! <= th[b]!)]!;
            c2 = ch[2 * c2 + 1 - +(x[o + 2 * F + fe[c2]!]! <= th[c2]!)]!;
            d = ch[2 * d + 1 - +(x[o + 3 * F + fe[d]!]! <= th[d]!)]!;
            e = ch[2 * e + 1 - +(x[o + 4 * F + fe[e]!]! <= th[e]!)]!;
            f = ch[2 * f + 1 - +(x[o + 5 * F + fe[f]!]! <= th[f]!)]!;
            g = ch[2 * g + 1 - +(x[o + 6 * F + fe[g]!]! <= th[g]!)]!;
            h = ch[2 * h + 1 - +(x[o + 7 * F + fe[h]!]! <= th[h]!)]!;
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
            for (let s = depth; s > 0; s--)
              node = ch[2 * node + 1 - +(x[o + j * F + fe[node]!]! <= th[node]!)]!;
            leaves[j] = node;
          }
        }
        const m = Math.min(8, b1 - r);
        if (k === 1) for (let j = 0; j < m; j++) out[r + j]! += value[leaves[j]!]!;
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
  const scale = 1 / nTrees;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
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
  return predictCompiled(c, x, n);
}
