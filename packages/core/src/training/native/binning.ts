import { invalidArgument } from '../../errors.js';
import { splitThreshold } from './hist-kernel.js';
import { randBelow } from './rng.js';

/** Bins per feature the learner supports (bins are stored as bytes). */
export const MAX_BINS = 256;

/**
 * The training matrix quantized once per fit: every feature gets at most 256 bins. A split "bin <= b"
 * is exactly the raw test `x <= thresholds[f * 256 + b]` on every training value, so a tree grown on
 * bins is reproduced by the IR (`mode: 'leq'`) on raw values.
 */
export interface BinnedFeatures {
  nRows: number;
  nFeatures: number;
  /** The bin of each value, column-major: `bins[f * nRows + r]`. */
  bins: Uint8Array;
  /** Bins used by each feature; 1 means the feature is constant. */
  nBins: Int32Array;
  /** `thresholds[f * 256 + b]` for `b < nBins[f] - 1`: a training value is `<=` it exactly when its bin is `<= b`. */
  thresholds: Float64Array;
  /** Smallest training value in each bin, `[f * 256 + b]`. */
  binMin: Float64Array;
  /** Largest training value in each bin, `[f * 256 + b]`. */
  binMax: Float64Array;
  /**
   * With `missing: true`: per feature, the bin of its missing (NaN) values — the last one,
   * `nBins[f] - 1`, after the ordered bins — or -1 when the feature has none. Else empty.
   */
  missingBin: Int32Array;
}

export interface BinningOptions {
  /** At most this many bins per feature, 2..256 (default 256). Features with fewer distinct values get one bin per value. */
  maxBins?: number;
  /** Rows sampled (deterministically) to place quantile edges on large inputs (default 200,000). */
  sampleSize?: number;
  /** Allocate on SharedArrayBuffer so worker threads can read the bins without copying. */
  shared?: boolean;
  /**
   * Accept NaN as "missing": a feature with missing values gets one bin more for them (its ordered
   * values then get at most `maxBins - 1` bins). Default false: NaN is `INVALID_ARGUMENT`.
   */
  missing?: boolean;
}

function alloc<T extends Uint8Array | Int32Array | Float64Array>(
  Ctor: { new (n: number): T; new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  n: number,
  shared: boolean,
): T {
  return shared ? new Ctor(new SharedArrayBuffer(n * Ctor.BYTES_PER_ELEMENT)) : new Ctor(n);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Buffers of {@link sortValues}, for up to `size` values. */
interface SortScratch {
  size: number;
  keys: Uint32Array[];
  counts: Int32Array;
}

const sortScratch = (size: number): SortScratch => ({
  size,
  keys: Array.from({ length: 4 }, () => new Uint32Array(size)),
  counts: new Int32Array(6 * 2048),
});

/**
 * Sorts `a` (no NaN) ascending in place, as `Float64Array.prototype.sort` does (-0 before 0) but
 * several times faster on large columns: an LSD radix sort, 11 bits a pass, of the values' bits
 * mapped to unsigned integers in the same order (sign bit flipped, or every bit for negatives).
 */
function sortValues(a: Float64Array, scratch: SortScratch): void {
  const n = a.length;
  if (n < 2048 || n > scratch.size || !LITTLE_ENDIAN) {
    a.sort();
    return;
  }
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let [hi, lo, hi2, lo2] = scratch.keys as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  const counts = scratch.counts;
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    let h = u[2 * i + 1]!;
    let l = u[2 * i]!;
    if (h >= 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
    counts[l & 2047]!++;
    counts[2048 + ((l >>> 11) & 2047)]!++;
    counts[4096 + (l >>> 22)]!++;
    counts[6144 + (h & 2047)]!++;
    counts[8192 + ((h >>> 11) & 2047)]!++;
    counts[10240 + (h >>> 22)]!++;
  }
  for (let pass = 0; pass < 6; pass++) {
    const base = pass * 2048;
    const shift = (pass % 3) * 11;
    // A digit every value shares leaves the order as it is.
    let skip = false;
    let sum = 0;
    for (let k = 0; k < 2048; k++) {
      const c = counts[base + k]!;
      if (c === n) skip = true;
      counts[base + k] = sum;
      sum += c;
    }
    if (skip) continue;
    const digits = pass < 3 ? lo : hi;
    for (let i = 0; i < n; i++) {
      const p = counts[base + ((digits[i]! >>> shift) & 2047)]!++;
      hi2[p] = hi[i]!;
      lo2[p] = lo[i]!;
    }
    [hi, lo, hi2, lo2] = [hi2, lo2, hi, lo];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    if (h >= 0x80000000) {
      u[2 * i + 1] = h ^ 0x80000000;
      u[2 * i] = lo[i]!;
    } else {
      u[2 * i + 1] = ~h;
      u[2 * i] = ~lo[i]!;
    }
  }
}

/** Cut points between the distinct values of `sorted`: one bin per value when they fit, else quantile bins. */
function computeEdges(sorted: Float64Array, maxBins: number): { edges: Float64Array; exact: boolean } {
  const s = sorted.length;
  const values = new Float64Array(s);
  const counts = new Int32Array(s);
  let nd = 0;
  for (let i = 0; i < s; i++) {
    const v = sorted[i]!;
    if (nd > 0 && values[nd - 1] === v) counts[nd - 1]!++;
    else {
      values[nd] = v;
      counts[nd++] = 1;
    }
  }
  if (nd <= maxBins) {
    const edges = new Float64Array(Math.max(0, nd - 1));
    for (let i = 0; i + 1 < nd; i++) edges[i] = splitThreshold(values[i]!, values[i + 1]!);
    return { edges, exact: true };
  }
  const edges = new Float64Array(maxBins - 1);
  let nEdges = 0;
  let remaining = s;
  let binsLeft = maxBins;
  let acc = 0;
  for (let i = 0; i + 1 < nd && binsLeft > 1; i++) {
    acc += counts[i]!;
    // Cut once a bin holds its share of the remaining rows, or when every remaining value can get its own bin.
    if (acc >= remaining / binsLeft || nd - i <= binsLeft) {
      edges[nEdges++] = splitThreshold(values[i]!, values[i + 1]!);
      remaining -= acc;
      binsLeft--;
      acc = 0;
    }
  }
  return { edges: edges.slice(0, nEdges), exact: false };
}

/** Assigns bins by binary search over `edges`; returns false when an exact-mode bin received two distinct values. */
function assignBins(
  col: Float64Array,
  edges: Float64Array,
  out: BinnedFeatures,
  f: number,
  exact: boolean,
  missing: boolean,
): boolean {
  const n = col.length;
  const nt = edges.length;
  const base = f * n;
  const o = f * MAX_BINS;
  const { bins, binMin, binMax } = out;
  binMin.fill(Infinity, o, o + MAX_BINS);
  binMax.fill(-Infinity, o, o + MAX_BINS);
  // The bin is the number of edges below v: a branch-free binary search over edges padded with +Infinity.
  const padded = new Float64Array(MAX_BINS).fill(Infinity);
  padded.set(edges);
  let nMissing = 0;
  for (let r = 0; r < n; r++) {
    const v = col[r]!;
    if (v !== v) {
      bins[base + r] = nt + 1;
      nMissing++;
      continue;
    }
    let lo = 0;
    for (let step = MAX_BINS >> 1; step > 0; step >>= 1) lo += step * +(padded[lo + step - 1]! < v);
    bins[base + r] = lo;
    if (v < binMin[o + lo]!) binMin[o + lo] = v;
    if (v > binMax[o + lo]!) binMax[o + lo] = v;
  }
  if (exact) {
    for (let b = 0; b <= nt; b++) if (binMin[o + b] !== binMax[o + b]) return false;
  }
  out.nBins[f] = nt + 1 + (nMissing > 0 ? 1 : 0);
  if (missing) out.missingBin[f] = nMissing > 0 ? nt + 1 : -1;
  out.thresholds.fill(0, o, o + MAX_BINS);
  out.thresholds.set(edges, o);
  return true;
}

/**
 * Quantizes a row-major `nRows x nFeatures` matrix into at most `maxBins` bins per feature.
 * Rejects NaN (impute upstream) with `INVALID_ARGUMENT`; infinities are ordinary values.
 */
export function binFeatures(
  x: ArrayLike<number>,
  nRows: number,
  nFeatures: number,
  options: BinningOptions = {},
): BinnedFeatures {
  const maxBins = options.maxBins ?? MAX_BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw invalidArgument(`maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`, 'train');
  }
  if (x.length !== nRows * nFeatures) {
    throw invalidArgument(
      `x has ${x.length} values, expected nRows * nFeatures = ${nRows * nFeatures}`,
      'train',
    );
  }
  const shared = options.shared ?? false;
  const sampleSize = Math.max(1, options.sampleSize ?? 200_000);
  const out: BinnedFeatures = {
    nRows,
    nFeatures,
    bins: alloc(Uint8Array, nRows * nFeatures, shared),
    nBins: alloc(Int32Array, nFeatures, shared),
    thresholds: alloc(Float64Array, nFeatures * MAX_BINS, shared),
    binMin: alloc(Float64Array, nFeatures * MAX_BINS, shared),
    binMax: alloc(Float64Array, nFeatures * MAX_BINS, shared),
    missingBin: alloc(Int32Array, options.missing ? nFeatures : 0, shared),
  };
  const missing = options.missing ?? false;
  const col = new Float64Array(nRows);
  const present = new Float64Array(nRows);
  const rng = new Uint32Array([0x5eed]);
  const scratch = sortScratch(Math.min(nRows, sampleSize));
  for (let f = 0; f < nFeatures; f++) {
    let np = 0;
    for (let r = 0; r < nRows; r++) {
      const v = x[r * nFeatures + f]!;
      if (v !== v) {
        if (!missing) {
          throw invalidArgument(`feature ${f} is NaN at row ${r}; impute missing values first`, 'train', {
            row: r,
            feature: f,
          });
        }
      } else present[np++] = v;
      col[r] = v;
    }
    // The missing values, when any, take a bin of their own.
    const bins = np < nRows ? maxBins - 1 : maxBins;
    const sampled = np > sampleSize;
    const sample = sampled ? new Float64Array(sampleSize) : present.slice(0, np);
    if (sampled) for (let i = 0; i < sampleSize; i++) sample[i] = present[randBelow(rng, np)]!;
    sortValues(sample, scratch);
    const { edges, exact } = computeEdges(sample, Math.max(1, bins));
    if (!assignBins(col, edges, out, f, exact, missing)) {
      // The sample missed some of this feature's few distinct values: place edges from all rows.
      const all = present.slice(0, np).sort();
      const full = computeEdges(all, Math.max(1, bins));
      assignBins(col, full.edges, out, f, false, missing);
    }
  }
  return out;
}

/**
 * Bins rows `x` (row-major, `nFeatures` wide, NaN allowed) with the edges `binned` learned, into
 * `rowBins[r * rowStride + f]`: a value gets the bin a training value equal to it got. NaN gets the
 * feature's missing bin, or 255 (past every split: it goes right) when training had no missing value.
 */
export function binRowsLike(
  binned: BinnedFeatures,
  x: ArrayLike<number>,
  nRows: number,
  rowStride: number,
): Uint8Array {
  const F = binned.nFeatures;
  const out = new Uint8Array(nRows * rowStride);
  const { thresholds, nBins, missingBin } = binned;
  for (let f = 0; f < F; f++) {
    const mb = missingBin.length > 0 ? missingBin[f]! : -1;
    const nEdges = nBins[f]! - 1 - (mb >= 0 ? 1 : 0);
    const o = f * MAX_BINS;
    for (let r = 0; r < nRows; r++) {
      const v = x[r * F + f]!;
      if (v !== v) {
        out[r * rowStride + f] = mb >= 0 ? mb : MAX_BINS - 1;
        continue;
      }
      // The number of edges below v (edges ascend).
      let lo = 0;
      let hi = nEdges;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (thresholds[o + mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      out[r * rowStride + f] = lo;
    }
  }
  return out;
}
