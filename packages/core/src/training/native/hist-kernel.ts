// Kernel code: the hot loops of the histogram learner. Serialized into the worker source (see
// worker-source.ts), so no imports and no module-level values.
//
// Histograms hold all features, feature f at offset f * 256 * stride; per bin:
//   regression      [sum w*y, sum w, rows]                  (stride 3)
//   classification  [w of class 0 .. w of class K-1, rows] (stride K + 1)

/** The best split found so far at a node; `feature < 0` when none. Left = bins `<= bin`; `next` is the first non-empty bin to the right. */
export interface BestSplit {
  proxy: number;
  feature: number;
  bin: number;
  next: number;
  leftW: number;
  leftS: number;
  leftM: number;
  leftCounts: Float64Array;
}

/**
 * Adds rows `idx[a..b)` to the regression histograms (at `f * 768`) of the features `list[0..nl)`,
 * row by row (`rowBins` is row-major, `wyw` holds `[w*y, w]` per row), and marks each touched bin in
 * `mask` (8 words per feature).
 */
export function buildRegRows(
  h: Float64Array,
  list: Int32Array,
  nl: number,
  F: number,
  rowBins: Uint8Array,
  idx: Uint32Array,
  a: number,
  b: number,
  wyw: Float64Array,
  mask: Int32Array,
): void {
  for (let i = a; i < b; i++) {
    const r = idx[i]!;
    const rb = r * F;
    const v = wyw[2 * r]!;
    const w = wyw[2 * r + 1]!;
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const bin = rowBins[rb + f]!;
      const o = f * 768 + bin * 3;
      h[o]! += v;
      h[o + 1]! += w;
      h[o + 2]! += 1;
      mask[(f << 3) | (bin >> 5)]! |= 1 << (bin & 31);
    }
  }
}

/** Like {@link buildRegRows} for classification: per bin, the weight of each of the `k` classes and the rows. */
export function buildClsRows(
  h: Float64Array,
  list: Int32Array,
  nl: number,
  F: number,
  k: number,
  rowBins: Uint8Array,
  idx: Uint32Array,
  a: number,
  b: number,
  cls: Int32Array,
  weights: Float64Array,
  mask: Int32Array,
): void {
  const stride = k + 1;
  const featureSize = 256 * stride;
  for (let i = a; i < b; i++) {
    const r = idx[i]!;
    const rb = r * F;
    const c = cls[r]!;
    const w = weights[r]!;
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const bin = rowBins[rb + f]!;
      const o = f * featureSize + bin * stride;
      h[o + c]! += w;
      h[o + k]! += 1;
      mask[(f << 3) | (bin >> 5)]! |= 1 << (bin & 31);
    }
  }
}

/** `h[off..off+len) -= hs[off..off+len)`: the larger child's histogram from its parent's and its sibling's. */
export function subtractHist(h: Float64Array, hs: Float64Array, off: number, len: number): void {
  for (let i = off, end = off + len; i < end; i++) h[i]! -= hs[i]!;
}

/** Lists feature `f`'s touched bins from `mask` in ascending order into `touched`, zeroing its mask words. */
export function extractTouched(mask: Int32Array, f: number, touched: Int32Array): number {
  let nt = 0;
  for (let j = 0; j < 8; j++) {
    let v = mask[(f << 3) | j]!;
    if (v === 0) continue;
    mask[(f << 3) | j] = 0;
    while (v !== 0) {
      const low = v & -v;
      touched[nt++] = (j << 5) | (31 - Math.clz32(low));
      v ^= low;
    }
  }
  return nt;
}

/** Zeroes the bins `touched[0..nt)` of the histogram at `off` again. */
export function clearTouched(
  h: Float64Array,
  off: number,
  touched: Int32Array,
  nt: number,
  stride: number,
): void {
  for (let i = 0; i < nt; i++) {
    const o = off + touched[i]! * stride;
    for (let j = o, end = o + stride; j < end; j++) h[j] = 0;
  }
}

/**
 * Squared error: maximizes `S_L^2/W_L + S_R^2/W_R` over the bins `list[0..count)` (or `0..count` when
 * `!useList`). Returns true when the feature is not constant in the node.
 */
export function scanReg(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  count: number,
  list: Int32Array,
  useList: boolean,
  W: number,
  S: number,
  m: number,
  minLeaf: number,
): boolean {
  let wl = 0;
  let sl = 0;
  let ml = 0;
  let prev = -1;
  let varies = false;
  for (let i = 0; i < count; i++) {
    const b = useList ? list[i]! : i;
    const o = off + b * 3;
    const cb = h[o + 2]!;
    if (cb === 0) continue;
    if (prev >= 0) {
      varies = true;
      if (m - ml < minLeaf) break;
      if (ml >= minLeaf) {
        const sr = S - sl;
        const proxy = (sl * sl) / wl + (sr * sr) / (W - wl);
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.bin = prev;
          best.next = b;
          best.leftW = wl;
          best.leftS = sl;
          best.leftM = ml;
        }
      }
    }
    sl += h[o]!;
    wl += h[o + 1]!;
    ml += cb;
    prev = b;
  }
  return varies;
}

/** Gini: maximizes `sum_k L_k^2/W_L + sum_k R_k^2/W_R`; `tot[totOff..+k)` are the node's class weights. */
export function scanGini(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  count: number,
  list: Int32Array,
  useList: boolean,
  k: number,
  tot: Float64Array,
  W: number,
  m: number,
  minLeaf: number,
  prefix: Float64Array,
): boolean {
  const stride = k + 1;
  prefix.fill(0, 0, k);
  let wl = 0;
  let ml = 0;
  let prev = -1;
  let varies = false;
  for (let i = 0; i < count; i++) {
    const b = useList ? list[i]! : i;
    const o = off + b * stride;
    const cb = h[o + k]!;
    if (cb === 0) continue;
    if (prev >= 0) {
      varies = true;
      if (m - ml < minLeaf) break;
      if (ml >= minLeaf) {
        let sqL = 0;
        let sqR = 0;
        for (let c = 0; c < k; c++) {
          const pl = prefix[c]!;
          const pr = tot[c]! - pl;
          sqL += pl * pl;
          sqR += pr * pr;
        }
        const proxy = sqL / wl + sqR / (W - wl);
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.bin = prev;
          best.next = b;
          best.leftW = wl;
          best.leftM = ml;
          for (let c = 0; c < k; c++) best.leftCounts[c] = prefix[c]!;
        }
      }
    }
    for (let c = 0; c < k; c++) {
      const v = h[o + c]!;
      prefix[c]! += v;
      wl += v;
    }
    ml += cb;
    prev = b;
  }
  return varies;
}

/** Entropy: maximizes `-(W_L H_L + W_R H_R)`, i.e. `sum c log c` over both sides minus `W log W` of each. */
export function scanEntropy(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  count: number,
  list: Int32Array,
  useList: boolean,
  k: number,
  tot: Float64Array,
  W: number,
  m: number,
  minLeaf: number,
  prefix: Float64Array,
): boolean {
  const stride = k + 1;
  prefix.fill(0, 0, k);
  let wl = 0;
  let ml = 0;
  let prev = -1;
  let varies = false;
  for (let i = 0; i < count; i++) {
    const b = useList ? list[i]! : i;
    const o = off + b * stride;
    const cb = h[o + k]!;
    if (cb === 0) continue;
    if (prev >= 0) {
      varies = true;
      if (m - ml < minLeaf) break;
      if (ml >= minLeaf) {
        const wr = W - wl;
        let proxy = -wl * Math.log(wl) - wr * Math.log(wr);
        for (let c = 0; c < k; c++) {
          const pl = prefix[c]!;
          const pr = tot[c]! - pl;
          if (pl > 0) proxy += pl * Math.log(pl);
          if (pr > 0) proxy += pr * Math.log(pr);
        }
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.bin = prev;
          best.next = b;
          best.leftW = wl;
          best.leftM = ml;
          for (let c = 0; c < k; c++) best.leftCounts[c] = prefix[c]!;
        }
      }
    }
    for (let c = 0; c < k; c++) {
      const v = h[o + c]!;
      prefix[c]! += v;
      wl += v;
    }
    ml += cb;
    prev = b;
  }
  return varies;
}

/** Stable in-place partition of `idx[start..end)`: rows whose bin of feature `f` is `<= bin` first. Returns the boundary. */
export function partitionRows(
  idx: Uint32Array,
  tmp: Uint32Array,
  start: number,
  end: number,
  rowBins: Uint8Array,
  F: number,
  f: number,
  bin: number,
): number {
  let l = start;
  let k = 0;
  for (let i = start; i < end; i++) {
    const r = idx[i]!;
    if (rowBins[r * F + f]! <= bin) idx[l++] = r;
    else tmp[k++] = r;
  }
  for (let j = 0; j < k; j++) idx[l + j] = tmp[j]!;
  return l;
}

export function isPureTarget(y: Float64Array, idx: Uint32Array, a: number, b: number): boolean {
  const y0 = y[idx[a]!]!;
  for (let i = a + 1; i < b; i++) if (y[idx[i]!] !== y0) return false;
  return true;
}

/** A threshold `t` with `a <= t < b` (scikit-learn's midpoint rule). */
export function splitThreshold(a: number, b: number): number {
  const t = a / 2 + b / 2;
  return t >= b || t < a || t === Infinity || t === -Infinity ? a : t;
}
