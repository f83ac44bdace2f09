// The hot loops of the histogram learner (run on the calling thread and in forest-worker.ts).
//
// Histograms hold all features, feature f at offset f * 256 * stride; per bin:
//   regression      [sum w*y, sum w] (+ rows)
//   classification  [w of class 0 .. w of class K-1] (+ rows)
// The row count is kept only when minSamplesLeaf > 1 needs it; a bin is empty when its weight is 0
// (in-bag rows weigh at least 1, and integer weights sum and subtract exactly).

/** The best split found so far at a node; `feature < 0` when none. Left = bins `<= bin`; `next` is the first non-empty bin to the right. */
export interface BestSplit {
  proxy: number;
  feature: number;
  bin: number;
  next: number;
  leftW: number;
  leftS: number;
  leftCounts: Float64Array;
}

/**
 * Adds the rows at positions `a..b` to the regression histograms of the features `list[0..nl)`, row
 * by row: `bins[i * rs + f]` is the bin of feature f at position i, `wyw[2i], wyw[2i+1]` its `w*y`
 * and `w`. `stride` 3 also counts rows.
 */
export function addRegRows(
  h: Float64Array,
  stride: number,
  list: Int32Array,
  nl: number,
  rs: number,
  bins: Uint8Array,
  a: number,
  b: number,
  wyw: Float64Array,
): void {
  if (stride === 2) {
    for (let i = a; i < b; i++) {
      const rb = i * rs;
      const v = wyw[2 * i]!;
      const w = wyw[2 * i + 1]!;
      for (let j = 0; j < nl; j++) {
        const f = list[j]!;
        const o = f * 512 + bins[rb + f]! * 2;
        h[o]! += v;
        h[o + 1]! += w;
      }
    }
  } else {
    for (let i = a; i < b; i++) {
      const rb = i * rs;
      const v = wyw[2 * i]!;
      const w = wyw[2 * i + 1]!;
      for (let j = 0; j < nl; j++) {
        const f = list[j]!;
        const o = f * 768 + bins[rb + f]! * 3;
        h[o]! += v;
        h[o + 1]! += w;
        h[o + 2]! += 1;
      }
    }
  }
}

/**
 * Like {@link addRegRows} for classification: per bin the weight of each of the `k` classes
 * (`stride > k`: and rows); `idx[i]` is the row at position i, for its class and weight.
 */
export function addClsRows(
  h: Float64Array,
  stride: number,
  k: number,
  list: Int32Array,
  nl: number,
  rs: number,
  bins: Uint8Array,
  idx: Uint32Array,
  a: number,
  b: number,
  cls: Int32Array,
  weights: Float64Array,
): void {
  const featureSize = 256 * stride;
  const counted = stride > k;
  for (let i = a; i < b; i++) {
    const r = idx[i]!;
    const rb = i * rs;
    const c = cls[r]!;
    const w = weights[r]!;
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const o = f * featureSize + bins[rb + f]! * stride;
      h[o + c]! += w;
      if (counted) h[o + k]! += 1;
    }
  }
}

/** Marks the bins the rows at positions `a..b` fall in, for the features `list[0..nl)`, in `mask` (8 words per feature). */
export function markTouched(
  mask: Int32Array,
  list: Int32Array,
  nl: number,
  rs: number,
  bins: Uint8Array,
  a: number,
  b: number,
): void {
  for (let i = a; i < b; i++) {
    const rb = i * rs;
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const bin = bins[rb + f]!;
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

/**
 * Squared error: maximizes `S_L^2/W_L + S_R^2/W_R` over the bins `list[0..count)` (or `0..count` when
 * `!useList`). With a row count in the layout (`stride` 3), both sides keep `minLeaf` rows. Returns
 * true when the feature is not constant in the node. The listed bins are of the sparse scratch and
 * are zeroed again as they are read.
 */
export function scanReg(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  stride: number,
  count: number,
  list: Int32Array,
  useList: boolean,
  W: number,
  S: number,
  m: number,
  minLeaf: number,
): boolean {
  const counted = stride === 3;
  let wl = 0;
  let sl = 0;
  let ml = 0;
  let prev = -1;
  let varies = false;
  for (let i = 0; i < count; i++) {
    const b = useList ? list[i]! : i;
    const o = off + b * stride;
    const wb = h[o + 1]!;
    if (wb === 0) continue;
    if (prev >= 0) {
      varies = true;
      if (!counted || (ml >= minLeaf && m - ml >= minLeaf)) {
        const sr = S - sl;
        const proxy = (sl * sl) / wl + (sr * sr) / (W - wl);
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.bin = prev;
          best.next = b;
          best.leftW = wl;
          best.leftS = sl;
        }
      }
    }
    sl += h[o]!;
    wl += wb;
    if (counted) ml += h[o + 2]!;
    if (useList) {
      h[o] = 0;
      h[o + 1] = 0;
      if (counted) h[o + 2] = 0;
    }
    prev = b;
  }
  return varies;
}

/**
 * {@link scanReg} for the layout without row counts (`stride` 2), over feature `f`'s `nb` bins of a
 * dense histogram or, with `mask`, over the sparse scratch's bins marked in it (read in ascending
 * order straight from the mask words, which it clears, zeroing each bin as it reads it).
 */
export function scanReg2(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  nb: number,
  mask: Int32Array | null,
  W: number,
  S: number,
): boolean {
  let wl = 0;
  let sl = 0;
  let prev = -1;
  let varies = false;
  let bestProxy = best.proxy;
  let bestBin = -1;
  let bestNext = 0;
  let bestW = 0;
  let bestS = 0;
  if (mask === null) {
    for (let b = 0; b < nb; b++) {
      const o = off + 2 * b;
      const wb = h[o + 1]!;
      if (wb === 0) continue;
      if (prev >= 0) {
        varies = true;
        const sr = S - sl;
        const proxy = (sl * sl) / wl + (sr * sr) / (W - wl);
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestBin = prev;
          bestNext = b;
          bestW = wl;
          bestS = sl;
        }
      }
      sl += h[o]!;
      wl += wb;
      prev = b;
    }
  } else {
    for (let j = 0; j < 8; j++) {
      let v = mask[(f << 3) | j]!;
      if (v === 0) continue;
      mask[(f << 3) | j] = 0;
      while (v !== 0) {
        const low = v & -v;
        v ^= low;
        const b = (j << 5) | (31 - Math.clz32(low));
        const o = off + 2 * b;
        const sb = h[o]!;
        const wb = h[o + 1]!;
        h[o] = 0;
        h[o + 1] = 0;
        if (wb === 0) continue;
        if (prev >= 0) {
          varies = true;
          const sr = S - sl;
          const proxy = (sl * sl) / wl + (sr * sr) / (W - wl);
          if (proxy > bestProxy) {
            bestProxy = proxy;
            bestBin = prev;
            bestNext = b;
            bestW = wl;
            bestS = sl;
          }
        }
        sl += sb;
        wl += wb;
        prev = b;
      }
    }
  }
  if (bestBin >= 0) {
    best.proxy = bestProxy;
    best.feature = f;
    best.bin = bestBin;
    best.next = bestNext;
    best.leftW = bestW;
    best.leftS = bestS;
  }
  return varies;
}

/**
 * Gini (`entropy` false): maximizes `sum_k L_k^2/W_L + sum_k R_k^2/W_R`. Entropy: maximizes
 * `-(W_L H_L + W_R H_R)` = `sum c log c` over both sides minus `W log W` of each. `tot[0..k)` are the
 * node's class weights; `prefix` is scratch. Like {@link scanReg}, zeroes the listed bins it reads.
 */
export function scanClasses(
  best: BestSplit,
  f: number,
  h: Float64Array,
  off: number,
  stride: number,
  count: number,
  list: Int32Array,
  useList: boolean,
  k: number,
  entropy: boolean,
  tot: Float64Array,
  W: number,
  m: number,
  minLeaf: number,
  prefix: Float64Array,
): boolean {
  const counted = stride > k;
  prefix.fill(0, 0, k);
  let wl = 0;
  let ml = 0;
  let prev = -1;
  let varies = false;
  for (let i = 0; i < count; i++) {
    const b = useList ? list[i]! : i;
    const o = off + b * stride;
    let wb = 0;
    for (let c = 0; c < k; c++) wb += h[o + c]!;
    if (wb === 0) continue;
    if (prev >= 0) {
      varies = true;
      if (!counted || (ml >= minLeaf && m - ml >= minLeaf)) {
        const wr = W - wl;
        let proxy = 0;
        if (entropy) {
          proxy = -wl * Math.log(wl) - wr * Math.log(wr);
          for (let c = 0; c < k; c++) {
            const pl = prefix[c]!;
            const pr = tot[c]! - pl;
            if (pl > 0) proxy += pl * Math.log(pl);
            if (pr > 0) proxy += pr * Math.log(pr);
          }
        } else {
          let sqL = 0;
          let sqR = 0;
          for (let c = 0; c < k; c++) {
            const pl = prefix[c]!;
            const pr = tot[c]! - pl;
            sqL += pl * pl;
            sqR += pr * pr;
          }
          proxy = sqL / wl + sqR / wr;
        }
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.bin = prev;
          best.next = b;
          best.leftW = wl;
          for (let c = 0; c < k; c++) best.leftCounts[c] = prefix[c]!;
        }
      }
    }
    for (let c = 0; c < k; c++) prefix[c]! += h[o + c]!;
    wl += wb;
    if (counted) ml += h[o + k]!;
    if (useList) for (let j = o; j < o + stride; j++) h[j] = 0;
    prev = b;
  }
  return varies;
}

/**
 * Stable in-place partition of the positions `start..end`: rows whose bin of feature `f` is `<= bin`
 * first. Each row's `nw` words of bins (`words`, the same memory as `bins`), its `[w*y, w]` (when
 * `wyw` is not empty) and its row number move together; the rows going right wait in the `tmp*`
 * arrays. Returns the boundary.
 */
export function partitionRows(
  bins: Uint8Array,
  words: Uint32Array,
  tmpWords: Uint32Array,
  nw: number,
  wyw: Float64Array,
  tmpWyw: Float64Array,
  idx: Uint32Array,
  tmp: Uint32Array,
  start: number,
  end: number,
  f: number,
  bin: number,
): number {
  const rs = nw * 4;
  const reg = wyw.length > 0;
  let l = start;
  let k = 0;
  for (let i = start; i < end; i++) {
    const from = i * nw;
    if (bins[i * rs + f]! <= bin) {
      if (l !== i) {
        const to = l * nw;
        for (let j = 0; j < nw; j++) words[to + j] = words[from + j]!;
        if (reg) {
          wyw[2 * l] = wyw[2 * i]!;
          wyw[2 * l + 1] = wyw[2 * i + 1]!;
        }
        idx[l] = idx[i]!;
      }
      l++;
    } else {
      const to = k * nw;
      for (let j = 0; j < nw; j++) tmpWords[to + j] = words[from + j]!;
      if (reg) {
        tmpWyw[2 * k] = wyw[2 * i]!;
        tmpWyw[2 * k + 1] = wyw[2 * i + 1]!;
      }
      tmp[k++] = idx[i]!;
    }
  }
  words.set(tmpWords.subarray(0, k * nw), l * nw);
  if (reg) wyw.set(tmpWyw.subarray(0, 2 * k), 2 * l);
  idx.set(tmp.subarray(0, k), l);
  return l;
}

/** The number of positions `start..end` whose bin of feature `f` is `<= bin`: a partition's boundary without moving rows. */
export function countLeft(
  bins: Uint8Array,
  rs: number,
  start: number,
  end: number,
  f: number,
  bin: number,
): number {
  let l = start;
  for (let i = start; i < end; i++) if (bins[i * rs + f]! <= bin) l++;
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
