// Grows one gradient-boosting tree on binned data: histograms of gradients and hessians, the smaller
// child built and the larger one derived by subtraction, depth-wise (a stack) or leaf-wise (best gain first).
import {
  addGradRows,
  addGradRowsAll,
  addSplitLeaves,
  partitionBoost,
  scanGrad,
  subtractGrad,
} from './boost-kernel.js';
import type { GradSplit } from './boost-kernel.js';
import { createBoostKernel } from './boost-wasm.js';
import type { BoostKernel } from './boost-wasm.js';

/** The training rows binned, row-major (as typed arrays; see boosting.ts). */
export interface BoostData {
  nFeatures: number;
  /** Bytes per row of `rowBins`. */
  rowStride: number;
  rowBins: Uint8Array;
  /** The same bins column-major: feature f's are `colBins[f * nRows ..][0..nRows)`. */
  colBins: Uint8Array;
  nBins: Int32Array;
  /** Per feature, its missing-value bin (`nBins[f] - 1`) or -1. */
  missingBin: Int32Array;
}

export interface BoostTreeConfig {
  maxDepth: number;
  /** Leaf-wise growth up to this many leaves; 0: depth-wise. */
  maxLeaves: number;
  minSamplesLeaf: number;
  minChildWeight: number;
  lambda: number;
  minSplitGain: number;
  learningRate: number;
}

/** A tree in bin space: node 0 is the root, children come in pairs (`right = left + 1`). */
export interface BinTree {
  nNodes: number;
  /** -1 for a leaf. */
  feature: Int32Array;
  bin: Int32Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  /** Leaf values (learning rate applied); 0 at internal nodes. */
  value: Float64Array;
  /** The split's gain at internal nodes. */
  gain: Float64Array;
}

/** Reusable buffers of one fit. */
export interface BoostWorkspace {
  stride: number;
  histSize: number;
  hists: Float64Array[];
  /** Histograms in the kernel's memory (the first ones {@link BoostWorkspace.hists} takes): built and subtracted there. */
  slots: Float64Array[];
  free: number[];
  /** The training rows' bins, row-major, `rowStride` (a multiple of 4) bytes per row. */
  rowBins: Uint8Array;
  /** `rowBins` as 32-bit words (the same memory). */
  rowWords: Uint32Array;
  /** `[g, h]` per row, one array per score column. */
  gh: Float64Array[];
  idx: Uint32Array;
  tmp: Uint32Array;
  /** The training rows' bins, column-major (`nRows` bytes per feature): fill it for {@link BoostData.colBins}. */
  colBins: Uint8Array;
  /** The raw scores, `columns` per row: pass it to {@link growBoostTree} as `pred`. */
  pred: Float64Array;
  /** Where the kernel's `sums` answers. */
  sums: Float64Array;
  /** Where the kernel's `scan` answers. */
  scanned: Float64Array;
  best: GradSplit;
  /**
   * The WebAssembly kernels (see boost-wasm.ts), when available: `rowWords`, `gh`, `idx`, `tmp`,
   * `colBins`, `pred` and `slots` are views on their memory, whose first bytes are `scratch`, where
   * histograms held in JavaScript arrays are built.
   */
  kernel: {
    build: BoostKernel['build'];
    partition: BoostKernel['partition'];
    leaves: BoostKernel['leaves'];
    sums: BoostKernel['sums'];
    subtract: BoostKernel['subtract'];
    scan: BoostKernel['scan'];
    scratch: Float64Array;
  } | null;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

// Depth-wise growth holds at most about maxDepth + 2 histograms at once (one per level waiting on the
// stack): 16 covers the usual depths; deeper or leaf-wise trees take JavaScript arrays past them. Wide
// data gets fewer, so the slots stay within 64 MiB of the kernel's memory.
const HIST_SLOTS = 16;
const HIST_SLOT_BYTES = 2 ** 26;

/**
 * Buffers for a fit on `nRows` rows with `columns` score columns. With `wasm` (and WebAssembly SIMD
 * at hand) the rows' bins, gradients and index live in the kernel's memory.
 */
export function createBoostWorkspace(
  nRows: number,
  nFeatures: number,
  rowStride: number,
  columns: number,
  counted: boolean,
  wasm: boolean,
): BoostWorkspace {
  const stride = counted ? 3 : 2;
  const histBytes = rowStride * 256 * 16;
  const nSlots = counted ? 0 : Math.min(HIST_SLOTS, Math.floor(HIST_SLOT_BYTES / histBytes));
  const binsAt = histBytes * (1 + nSlots);
  const ghAt = align16(binsAt + nRows * rowStride);
  const idxAt = ghAt + columns * nRows * 16;
  const tmpAt = idxAt + nRows * 4;
  const colAt = tmpAt + nRows * 4;
  const predAt = Math.ceil((colAt + nRows * nFeatures) / 8) * 8;
  const sumsAt = predAt + columns * nRows * 8;
  const scannedAt = sumsAt + 16;
  const kernel = wasm ? createBoostKernel(scannedAt + 32) : null;
  const buffer = kernel ? kernel.buffer : null;
  const rowWords = buffer
    ? new Uint32Array(buffer, binsAt, (nRows * rowStride) / 4)
    : new Uint32Array((nRows * rowStride) / 4);
  return {
    stride,
    histSize: nFeatures * 256 * stride,
    hists: [],
    free: [],
    slots: buffer
      ? Array.from({ length: nSlots }, (_, i) => new Float64Array(buffer, histBytes * (1 + i), histBytes / 8))
      : [],
    rowBins: new Uint8Array(rowWords.buffer, rowWords.byteOffset, nRows * rowStride),
    rowWords,
    gh: Array.from({ length: columns }, (_, k) =>
      buffer ? new Float64Array(buffer, ghAt + k * nRows * 16, 2 * nRows) : new Float64Array(2 * nRows),
    ),
    idx: buffer ? new Uint32Array(buffer, idxAt, nRows) : new Uint32Array(nRows),
    tmp: buffer ? new Uint32Array(buffer, tmpAt, nRows) : new Uint32Array(nRows),
    colBins: buffer ? new Uint8Array(buffer, colAt, nRows * nFeatures) : new Uint8Array(nRows * nFeatures),
    pred: buffer ? new Float64Array(buffer, predAt, columns * nRows) : new Float64Array(columns * nRows),
    sums: buffer ? new Float64Array(buffer, sumsAt, 2) : new Float64Array(2),
    scanned: buffer ? new Float64Array(buffer, scannedAt, 4) : new Float64Array(4),
    best: { gain: 0, feature: -1, bin: 0, missingLeft: 0, gl: 0, hl: 0 },
    kernel: kernel
      ? {
          build: kernel.build,
          partition: kernel.partition,
          leaves: kernel.leaves,
          sums: kernel.sums,
          subtract: kernel.subtract,
          scan: kernel.scan,
          scratch: new Float64Array(kernel.buffer, 0, histBytes / 8),
        }
      : null,
  };
}

function acquire(ws: BoostWorkspace): number {
  const id = ws.free.pop();
  if (id !== undefined) return id;
  const n = ws.hists.length;
  ws.hists.push(n < ws.slots.length ? ws.slots[n]! : new Float64Array(ws.histSize));
  return n;
}

interface Pending {
  node: number;
  start: number;
  end: number;
  depth: number;
  G: number;
  H: number;
  hist: number;
  gain: number;
  feature: number;
  bin: number;
  missingLeft: number;
  gl: number;
  hl: number;
}

/**
 * Grows one tree on the rows `ws.idx[0..m)` (they are reordered) with gradients `gh` (`[g, h]` per
 * row), over the features `list[0..nl)` (`all`: the list is every feature in order). Adds each leaf's
 * value to `pred[r * predStride + predCol]` of the rows that reach it.
 */
export function growBoostTree(
  d: BoostData,
  c: BoostTreeConfig,
  ws: BoostWorkspace,
  gh: Float64Array,
  m: number,
  list: Int32Array,
  nl: number,
  all: boolean,
  pred: Float64Array,
  predStride: number,
  predCol: number,
): BinTree {
  const { rowBins, rowStride: rs, nBins, missingBin } = d;
  const stride = ws.stride;
  const idx = ws.idx;
  const lambda = c.lambda;
  const minH = c.minChildWeight;
  const minC = c.minSamplesLeaf;
  const leafWise = c.maxLeaves > 0;
  const capLeaves = leafWise ? c.maxLeaves : m;
  const cap = Math.min(
    2 * capLeaves - 1,
    2 * m - 1,
    c.maxDepth >= 30 ? 0x7fffffff : 2 ** (c.maxDepth + 1) - 1,
  );
  let size = Math.min(cap, 1024);
  let tree: BinTree = {
    nNodes: 1,
    feature: new Int32Array(size).fill(-1),
    bin: new Int32Array(size),
    missingLeft: new Uint8Array(size),
    left: new Int32Array(size).fill(-1),
    value: new Float64Array(size),
    gain: new Float64Array(size),
  };
  const grow = (needed: number): void => {
    if (needed <= size) return;
    while (size < needed) size *= 2;
    const t = tree;
    const fit = <T extends Int32Array | Uint8Array | Float64Array>(a: T, fill: number): T => {
      const b = new (a.constructor as { new (n: number): T })(size).fill(fill) as T;
      b.set(a);
      return b;
    };
    tree = {
      nNodes: t.nNodes,
      feature: fit(t.feature, -1),
      bin: fit(t.bin, 0),
      missingLeft: fit(t.missingLeft, 0),
      left: fit(t.left, -1),
      value: fit(t.value, 0),
      gain: fit(t.gain, 0),
    };
  };

  const kernel =
    all && stride === 2 && ws.kernel !== null && gh.buffer === rowBins.buffer && idx.buffer === rowBins.buffer
      ? ws.kernel
      : null;
  const build = (hist: number, start: number, end: number): void => {
    const h = ws.hists[hist]!;
    if (kernel !== null) {
      if (h.buffer === rowBins.buffer) {
        h.fill(0);
        kernel.build(h.byteOffset, rowBins.byteOffset, gh.byteOffset, idx.byteOffset, start, end, rs >> 2);
        return;
      }
      // Built in the kernel's scratch (the row padding's features included), then copied out.
      const scratch = kernel.scratch;
      scratch.fill(0);
      kernel.build(0, rowBins.byteOffset, gh.byteOffset, idx.byteOffset, start, end, rs >> 2);
      h.set(scratch.subarray(0, nl * 512));
      return;
    }
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const off = f * 256 * stride;
      h.fill(0, off, off + nBins[f]! * stride);
    }
    if (all && stride === 2) addGradRowsAll(h, nl, rs, rowBins, idx, start, end, gh);
    else addGradRows(h, stride, list, nl, rs, rowBins, idx, start, end, gh);
  };
  const nRows = d.colBins.length / d.nFeatures;
  const column = (f: number): Uint8Array => d.colBins.subarray(f * nRows, (f + 1) * nRows);
  const rowsKernel =
    ws.kernel !== null && idx.buffer === ws.tmp.buffer && idx.buffer === d.colBins.buffer ? ws.kernel : null;
  const partition = rowsKernel !== null ? rowsKernel.partition : null;
  const leafUpdate = rowsKernel !== null && pred.buffer === idx.buffer ? rowsKernel.leaves : null;
  const canSplit = (count: number, H: number, depth: number): boolean =>
    depth < c.maxDepth && count >= 2 * minC && count >= 2 && H >= 2 * minH;
  const evaluate = (p: Pending): void => {
    const best = ws.best;
    best.gain = Math.max(c.minSplitGain, 0);
    best.feature = -1;
    const h = ws.hists[p.hist]!;
    const parentScore = (p.G * p.G) / (p.H + lambda);
    const count = p.end - p.start;
    const scan = kernel !== null && h.buffer === rowBins.buffer ? kernel.scan : null;
    const out = ws.scanned;
    for (let j = 0; j < nl; j++) {
      const f = list[j]!;
      const nb = nBins[f]!;
      if (nb <= 1) continue;
      const mb = missingBin[f]!;
      const nr = mb >= 0 ? nb - 1 : nb;
      if (scan !== null && (mb < 0 || h[f * 512 + 2 * mb + 1] === 0)) {
        // No missing values at this node: scanGrad's plain case, in the kernel.
        scan(h.byteOffset + f * 4096, nr, p.G, p.H, lambda, parentScore, minH, best.gain, out.byteOffset);
        if (out[1]! >= 0) {
          best.gain = out[0]!;
          best.feature = f;
          best.bin = out[1]!;
          best.missingLeft = 0;
          best.gl = out[2]!;
          best.hl = out[3]!;
        }
        continue;
      }
      scanGrad(
        best,
        f,
        h,
        f * 256 * stride,
        stride,
        nr,
        mb,
        p.G,
        p.H,
        count,
        lambda,
        parentScore,
        minH,
        minC,
      );
    }
    p.gain = best.feature >= 0 ? best.gain : -Infinity;
    p.feature = best.feature;
    p.bin = best.bin;
    p.missingLeft = best.missingLeft;
    p.gl = best.gl;
    p.hl = best.hl;
  };
  const finishLeaf = (p: Pending): void => {
    const v = (-p.G / (p.H + lambda)) * c.learningRate;
    tree.value[p.node] = v;
    for (let i = p.start; i < p.end; i++) pred[idx[i]! * predStride + predCol]! += v;
    if (p.hist >= 0) ws.free.push(p.hist);
  };

  let G = 0;
  let H = 0;
  if (rowsKernel !== null && gh.buffer === idx.buffer) {
    rowsKernel.sums(idx.byteOffset, gh.byteOffset, 0, m, ws.sums.byteOffset);
    G = ws.sums[0]!;
    H = ws.sums[1]!;
  } else {
    for (let i = 0; i < m; i++) {
      const r = idx[i]!;
      G += gh[2 * r]!;
      H += gh[2 * r + 1]!;
    }
  }
  const root: Pending = {
    node: 0,
    start: 0,
    end: m,
    depth: 0,
    G,
    H,
    hist: -1,
    gain: -Infinity,
    feature: -1,
    bin: 0,
    missingLeft: 0,
    gl: 0,
    hl: 0,
  };
  const pending: Pending[] = [];
  const leafPair = new Float64Array(2);
  if (canSplit(m, H, 0) && capLeaves > 1) {
    root.hist = acquire(ws);
    build(root.hist, 0, m);
    evaluate(root);
  }
  pending.push(root);
  let leaves = 1;
  while (pending.length > 0) {
    let at = pending.length - 1;
    if (leafWise) {
      for (let i = 0; i < pending.length - 1; i++) if (pending[i]!.gain > pending[at]!.gain) at = i;
    }
    const p = pending[at]!;
    pending[at] = pending[pending.length - 1]!;
    pending.pop();
    if (p.feature < 0 || leaves >= capLeaves) {
      finishLeaf(p);
      continue;
    }
    const f = p.feature;
    const mb = missingBin[f]!;
    grow(tree.nNodes + 2);
    const lid = tree.nNodes;
    tree.nNodes += 2;
    tree.feature[p.node] = f;
    tree.bin[p.node] = p.bin;
    tree.missingLeft[p.node] = p.missingLeft;
    tree.left[p.node] = lid;
    tree.gain[p.node] = p.gain;
    leaves++;
    const depth = p.depth + 1;
    if (depth >= c.maxDepth || leaves >= capLeaves) {
      // Both children are leaves: their values go to the rows in one pass, no partition needed.
      const vl = (-p.gl / (p.hl + lambda)) * c.learningRate;
      const vr = (-(p.G - p.gl) / (p.H - p.hl + lambda)) * c.learningRate;
      tree.value[lid] = vl;
      tree.value[lid + 1] = vr;
      if (leafUpdate !== null) {
        const col = column(f).byteOffset;
        const at = pred.byteOffset + predCol * 8;
        leafUpdate(idx.byteOffset, p.start, p.end, col, p.bin, mb, p.missingLeft, at, predStride * 8, vr, vl);
      } else {
        leafPair[0] = vr;
        leafPair[1] = vl;
        addSplitLeaves(
          idx,
          p.start,
          p.end,
          column(f),
          p.bin,
          mb,
          p.missingLeft,
          leafPair,
          pred,
          predStride,
          predCol,
        );
      }
      if (p.hist >= 0) ws.free.push(p.hist);
      continue;
    }
    const mid =
      partition !== null
        ? partition(
            idx.byteOffset,
            ws.tmp.byteOffset,
            p.start,
            p.end,
            column(f).byteOffset,
            p.bin,
            mb,
            p.missingLeft,
          )
        : partitionBoost(idx, ws.tmp, p.start, p.end, column(f), p.bin, mb, p.missingLeft);
    const l: Pending = {
      node: lid,
      start: p.start,
      end: mid,
      depth,
      G: p.gl,
      H: p.hl,
      hist: -1,
      gain: -Infinity,
      feature: -1,
      bin: 0,
      missingLeft: 0,
      gl: 0,
      hl: 0,
    };
    const r: Pending = { ...l, node: lid + 1, start: mid, end: p.end, G: p.G - p.gl, H: p.H - p.hl };
    const more = leaves < capLeaves;
    const needL = more && canSplit(mid - p.start, l.H, depth);
    const needR = more && canSplit(p.end - mid, r.H, depth);
    const smallLeft = mid - p.start <= p.end - mid;
    const small = smallLeft ? l : r;
    const big = smallLeft ? r : l;
    const needSmall = smallLeft ? needL : needR;
    const needBig = smallLeft ? needR : needL;
    if (needBig) {
      // The parent's buffer becomes the larger child's: parent minus the smaller sibling.
      const hs = acquire(ws);
      build(hs, small.start, small.end);
      const hp = ws.hists[p.hist]!;
      const hsArr = ws.hists[hs]!;
      if (kernel !== null && hp.buffer === rowBins.buffer && hsArr.buffer === rowBins.buffer) {
        // Every feature's 256 bins: past a feature's bins both hold zeros.
        kernel.subtract(hp.byteOffset, hsArr.byteOffset, nl * 4096);
      } else {
        for (let j = 0; j < nl; j++) {
          const ff = list[j]!;
          subtractGrad(hp, hsArr, ff * 256 * stride, nBins[ff]! * stride);
        }
      }
      big.hist = p.hist;
      if (needSmall) small.hist = hs;
      else ws.free.push(hs);
    } else if (needSmall) {
      small.hist = p.hist;
      build(small.hist, small.start, small.end);
    } else if (p.hist >= 0) ws.free.push(p.hist);
    if (needL) evaluate(l);
    if (needR) evaluate(r);
    pending.push(l, r);
  }
  return tree;
}

/** The leaf that the binned row `rowBins[base..]` reaches. */
export function binTreeLeaf(t: BinTree, rowBins: Uint8Array, base: number, missingBin: Int32Array): number {
  let node = 0;
  let f = t.feature[0]!;
  while (f >= 0) {
    const b = rowBins[base + f]!;
    const goLeft = b === missingBin[f] ? t.missingLeft[node] === 1 : b <= t.bin[node]!;
    node = t.left[node]! + (goLeft ? 0 : 1);
    f = t.feature[node]!;
  }
  return node;
}
