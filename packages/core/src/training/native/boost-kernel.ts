// The hot loops of gradient boosting on binned data (see boost-tree.ts).
//
// A histogram holds all features, feature f at offset f * 256 * stride; per bin [sum g, sum h] (stride
// 2) or [sum g, sum h, rows] (stride 3, only when minSamplesLeaf > 1 needs row counts).

/** The best split found so far at a node; `feature < 0` when none. Left = bins `<= bin` (and the missing bin when `missingLeft`). */
export interface GradSplit {
  gain: number;
  feature: number;
  bin: number;
  missingLeft: number;
  gl: number;
  hl: number;
}

/**
 * Adds rows `idx[a..b)` to the histograms of the features `list[0..nl)`, row by row:
 * `rowBins[r * rs + f]` is row r's bin of feature f, `gh[2r], gh[2r+1]` its gradient and hessian.
 */
export function addGradRows(
  h: Float64Array,
  stride: number,
  list: Int32Array,
  nl: number,
  rs: number,
  rowBins: Uint8Array,
  idx: Uint32Array,
  a: number,
  b: number,
  gh: Float64Array,
): void {
  if (stride === 2) {
    for (let i = a; i < b; i++) {
      const r = idx[i]!;
      const rb = r * rs;
      const g = gh[2 * r]!;
      const hh = gh[2 * r + 1]!;
      for (let j = 0; j < nl; j++) {
        const f = list[j]!;
        const o = (f << 9) + (rowBins[rb + f]! << 1);
        h[o]! += g;
        h[o + 1]! += hh;
      }
    }
  } else {
    for (let i = a; i < b; i++) {
      const r = idx[i]!;
      const rb = r * rs;
      const g = gh[2 * r]!;
      const hh = gh[2 * r + 1]!;
      for (let j = 0; j < nl; j++) {
        const f = list[j]!;
        const o = f * 768 + rowBins[rb + f]! * 3;
        h[o]! += g;
        h[o + 1]! += hh;
        h[o + 2]! += 1;
      }
    }
  }
}

/** {@link addGradRows} for every feature `0..nf-1` (no column sampling): one indirection less per value. */
export function addGradRowsAll(
  h: Float64Array,
  nf: number,
  rs: number,
  rowBins: Uint8Array,
  idx: Uint32Array,
  a: number,
  b: number,
  gh: Float64Array,
): void {
  for (let i = a; i < b; i++) {
    const r = idx[i]!;
    const rb = r * rs;
    const g = gh[2 * r]!;
    const hh = gh[2 * r + 1]!;
    for (let f = 0; f < nf; f++) {
      const o = (f << 9) + (rowBins[rb + f]! << 1);
      h[o]! += g;
      h[o + 1]! += hh;
    }
  }
}

/** `h[off..off+len) -= hs[off..off+len)`: the larger child's histogram from its parent's and its sibling's. */
export function subtractGrad(h: Float64Array, hs: Float64Array, off: number, len: number): void {
  for (let i = off, end = off + len; i < end; i++) h[i]! -= hs[i]!;
}

/**
 * Finds feature `f`'s best split into `best` (XGBoost's gain `(GL²/(HL+λ) + GR²/(HR+λ) - G²/(H+λ)) / 2`).
 * Bins `0..nr-1` are ordered values; `mb` (or -1) is the missing-value bin, tried on both sides.
 * Splits are only placed between non-empty bins, so both children have rows. `G, H, C` are the
 * node's totals; each child keeps hessian `minH` and (with counts, stride 3) `minC` rows.
 */
export function scanGrad(
  best: GradSplit,
  f: number,
  h: Float64Array,
  off: number,
  stride: number,
  nr: number,
  mb: number,
  G: number,
  H: number,
  C: number,
  lambda: number,
  parentScore: number,
  minH: number,
  minC: number,
): void {
  if (stride === 2 && (mb < 0 || h[off + 2 * mb + 1] === 0)) {
    scanGradPlain(best, f, h, off, nr, G, H, lambda, parentScore, minH);
    return;
  }
  const counted = stride === 3;
  let gm = 0;
  let hm = 0;
  let cm = 0;
  if (mb >= 0) {
    const o = off + mb * stride;
    gm = h[o]!;
    hm = h[o + 1]!;
    if (counted) cm = h[o + 2]!;
  }
  const hasMissing = hm > 0;
  let gl = 0;
  let hl = 0;
  let cl = 0;
  let prev = -1;
  for (let b = 0; b < nr; b++) {
    const o = off + b * stride;
    const hb = h[o + 1]!;
    if (hb === 0) continue;
    if (prev >= 0) {
      // Missing values right.
      let hr = H - hl;
      if (hl >= minH && hr >= minH && (!counted || (cl >= minC && C - cl >= minC))) {
        const gr = G - gl;
        const gain = 0.5 * ((gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore);
        if (gain > best.gain) {
          best.gain = gain;
          best.feature = f;
          best.bin = prev;
          best.missingLeft = 0;
          best.gl = gl;
          best.hl = hl;
        }
      }
      if (hasMissing) {
        const gL = gl + gm;
        const hL = hl + hm;
        const cL = cl + cm;
        hr = H - hL;
        if (hL >= minH && hr >= minH && (!counted || (cL >= minC && C - cL >= minC))) {
          const gr = G - gL;
          const gain = 0.5 * ((gL * gL) / (hL + lambda) + (gr * gr) / (hr + lambda) - parentScore);
          if (gain > best.gain) {
            best.gain = gain;
            best.feature = f;
            best.bin = prev;
            best.missingLeft = 1;
            best.gl = gL;
            best.hl = hL;
          }
        }
      }
    }
    gl += h[o]!;
    hl += hb;
    if (counted) cl += h[o + 2]!;
    prev = b;
  }
  // Every value left, the missing ones right.
  if (hasMissing && prev >= 0) {
    const hr = H - hl;
    if (hl >= minH && hr >= minH && (!counted || (cl >= minC && C - cl >= minC))) {
      const gr = G - gl;
      const gain = 0.5 * ((gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore);
      if (gain > best.gain) {
        best.gain = gain;
        best.feature = f;
        best.bin = prev;
        best.missingLeft = 0;
        best.gl = gl;
        best.hl = hl;
      }
    }
  }
}

/**
 * {@link scanGrad} without row counts or missing values at the node: the same candidates and sums,
 * so the same split, with the best kept in locals while scanning (this loop dominates split finding).
 */
function scanGradPlain(
  best: GradSplit,
  f: number,
  h: Float64Array,
  off: number,
  nr: number,
  G: number,
  H: number,
  lambda: number,
  parentScore: number,
  minH: number,
): void {
  let bestGain = best.gain;
  let bestBin = -1;
  let bestGl = 0;
  let bestHl = 0;
  let gl = 0;
  let hl = 0;
  let prev = -1;
  const end = off + 2 * nr;
  for (let o = off; o < end; o += 2) {
    const hb = h[o + 1]!;
    if (hb === 0) continue;
    const hr = H - hl;
    if (prev >= 0 && hl >= minH && hr >= minH) {
      const gr = G - gl;
      const gain = 0.5 * ((gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore);
      if (gain > bestGain) {
        bestGain = gain;
        bestBin = prev;
        bestGl = gl;
        bestHl = hl;
      }
    }
    gl += h[o]!;
    hl += hb;
    prev = (o - off) >> 1;
  }
  if (bestBin >= 0) {
    best.gain = bestGain;
    best.feature = f;
    best.bin = bestBin;
    best.missingLeft = 0;
    best.gl = bestGl;
    best.hl = bestHl;
  }
}

/**
 * Stable in-place partition of `idx[start..end)`: rows whose bin `col[r]` (the split feature's
 * column) is `<= bin` first; rows in the missing bin `mb` go left when `missingLeft` is 1. Returns
 * the boundary. The column, not the row-major bins: a node's rows are in ascending order, so this
 * reads one byte per row from mostly the same cache lines.
 */
export function partitionBoost(
  idx: Uint32Array,
  tmp: Uint32Array,
  start: number,
  end: number,
  col: Uint8Array,
  bin: number,
  mb: number,
  missingLeft: number,
): number {
  let l = start;
  let k = 0;
  // Branch-free: each row is written to both sides and only one cursor advances (l <= i, so
  // writing idx[l] never overwrites a row not yet read). The missing bin is above every split bin.
  for (let i = start; i < end; i++) {
    const r = idx[i]!;
    const b = col[r]!;
    const goLeft = +(b <= bin) | (+(b === mb) & missingLeft);
    idx[l] = r;
    tmp[k] = r;
    l += goLeft;
    k += 1 - goLeft;
  }
  idx.set(tmp.subarray(0, k), l);
  return l;
}

/**
 * For a split whose two children are leaves: adds `values[0]` (right) or `values[1]` (left) to
 * `pred[r * ps + pc]` of every row `idx[start..end)`, without partitioning them.
 */
export function addSplitLeaves(
  idx: Uint32Array,
  start: number,
  end: number,
  col: Uint8Array,
  bin: number,
  mb: number,
  missingLeft: number,
  values: Float64Array,
  pred: Float64Array,
  ps: number,
  pc: number,
): void {
  for (let i = start; i < end; i++) {
    const r = idx[i]!;
    const b = col[r]!;
    pred[r * ps + pc]! += values[+(b <= bin) | (+(b === mb) & missingLeft)]!;
  }
}
