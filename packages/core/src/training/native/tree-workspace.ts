// The learner's data, config and reusable buffers (shared with forest-worker.ts).
import type { BestSplit } from './hist-kernel.js';
import { randBelow } from './rng.js';
import { createKernel } from './wasm-kernel.js';
import type { Kernel } from './wasm-kernel.js';

/** The training data as plain typed arrays, shareable with worker threads. */
export interface TreeData {
  nRows: number;
  nFeatures: number;
  /** Bytes per row of `rowBins`: `nFeatures` rounded up to a multiple of 4. */
  rowStride: number;
  /** Row-major bins, `rowBins[r * rowStride + f]`: histograms are built row by row. */
  rowBins: Uint8Array;
  nBins: Int32Array;
  /** Smallest / largest training value per bin, `[f * 256 + b]`; thresholds are midpoints between them. */
  binMin: Float64Array;
  binMax: Float64Array;
  /** Regression targets (empty for classification). */
  y: Float64Array;
  /** Class index per row (empty for regression). */
  cls: Int32Array;
  /** Number of classes; 0 for regression. */
  nClasses: number;
}

/** Resolved per-tree parameters (all plain numbers so they cross to workers unchanged). */
export interface TreeConfig {
  /** 0 squared error, 1 gini, 2 entropy. */
  criterion: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features drawn per node, 1..nFeatures. */
  maxFeatures: number;
  /** 1: each tree sees a bootstrap sample (as integer row weights); 0: every row once. */
  bootstrap: number;
  /** Nodes with fewer rows use sparse histograms (only their non-empty bins) instead of dense ones. */
  sparseThreshold: number;
}

/**
 * The WebAssembly kernel (see wasm-kernel.ts) and where the forest's arrays sit in its memory (byte
 * offsets): `bins`, `wyw`, `idx`, their `tmp*` arrays and the sparse scratch always, the first dense
 * histograms of the pool (`histAt`), and `iota` (0, 1, 2, ...) as the kernel's row index, since the
 * rows of a node are already consecutive.
 */
export interface ForestKernel {
  build: Kernel['build'];
  partition: Kernel['partition'];
  scan: Kernel['scan'];
  mark: Kernel['mark'];
  sub: Kernel['sub'];
  /** `mask`'s offset, and `scan`'s result: f64 proxy, left w, left w*y, then i32 bin, next, varies. */
  maskAt: number;
  outAt: number;
  outF64: Float64Array;
  outI32: Int32Array;
  binsAt: number;
  wywAt: number;
  idxAt: number;
  tmpWordsAt: number;
  tmpWywAt: number;
  tmpAt: number;
  iotaAt: number;
  sparseAt: number;
  histAt: number[];
}

/**
 * Buffers reused across the trees one thread grows; `st*` is the explicit stack of pending nodes.
 * The in-bag rows are copied in position order (`bins`, `wyw`, `idx`) and moved together when a
 * node is split, so each pending node owns the positions `start..end` and its rows are read in
 * sequence, not scattered over the whole data.
 */
export interface TreeWorkspace {
  rng: Uint32Array;
  /** Bootstrap count of each row (0 = out of bag). */
  w: Float64Array;
  /** `d.rowBins` as 32-bit words (rows are whole words). */
  rowWords: Uint32Array;
  /** Words per row. */
  nw: number;
  /** The bins of the row at each position, `bins[i * rowStride + f]`. */
  bins: Uint8Array;
  /** `bins` as words. */
  words: Uint32Array;
  tmpWords: Uint32Array;
  /** Regression: `[w * y, w]` of the row at each position. */
  wyw: Float64Array;
  tmpWyw: Float64Array;
  /** The row number at each position. */
  idx: Uint32Array;
  tmp: Uint32Array;
  /** Features with more than one bin. */
  nVarying: number;
  kernel: ForestKernel | null;
  perm: Int32Array;
  list: Int32Array;
  mark: Uint8Array;
  /** Values per histogram bin in the current tree's layout (see hist-kernel.ts). */
  stride: number;
  histSize: number;
  hists: Float64Array[];
  valid: Uint8Array[];
  free: number[];
  sparse: Float64Array;
  mask: Int32Array;
  touched: Int32Array;
  prefix: Float64Array;
  nodeCounts: Float64Array;
  best: BestSplit;
  sp: number;
  stCap: number;
  stNode: Int32Array;
  stStart: Int32Array;
  stEnd: Int32Array;
  stDepth: Int32Array;
  stHist: Int32Array;
  stW: Float64Array;
  stS: Float64Array;
  stCounts: Float64Array;
  stPerm: Int32Array;
  nNodes: number;
  cap: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Buffers for growing trees on `d`; with `wasm` (and WebAssembly SIMD at hand), regression uses the kernel. */
export function createWorkspace(d: TreeData, wasm = true): TreeWorkspace {
  const n = d.nRows;
  const F = d.nFeatures;
  const K = d.nClasses;
  const rs = d.rowStride;
  const nw = rs >> 2;
  const maxStride = (K > 0 ? K : 2) + 1;
  const k1 = Math.max(K, 1);
  const perm = new Int32Array(F);
  for (let f = 0; f < F; f++) perm[f] = f;
  let nVarying = 0;
  for (let f = 0; f < F; f++) if (d.nBins[f]! > 1) nVarying++;
  const stCap = 64;
  const cap = 256;
  // The kernel adds every feature of a row's words (the padding too), so its histograms span rowStride features.
  const histSize = Math.max(F * 256 * maxStride, rs * 512);
  const histBytes = histSize * 8;
  // With smaller children grown first, about log2(n) dense histograms are pending at most; more live outside.
  const nHists = K > 0 ? 0 : Math.ceil(Math.log2(n + 1)) + 2;
  const binsAt = histBytes * (1 + nHists);
  const tmpWordsAt = binsAt + n * rs;
  const wywAt = align16(tmpWordsAt + n * rs);
  const tmpWywAt = wywAt + n * 16;
  const idxAt = tmpWywAt + n * 16;
  const tmpAt = idxAt + n * 4;
  const iotaAt = tmpAt + n * 4;
  const maskAt = align16(iotaAt + n * 4);
  // The kernel marks every feature of the rows' words, the padding too.
  const outAt = maskAt + rs * 32;
  // Classification uses the kernel to move rows only (its 16 bytes per row at wywAt unused).
  const kernel = wasm ? createKernel(outAt + 48) : null;
  const mem = kernel?.buffer;
  const words = mem ? new Uint32Array(mem, binsAt, n * nw) : new Uint32Array(n * nw);
  const u32 = (at: number, length: number): Uint32Array =>
    mem ? new Uint32Array(mem, at, length) : new Uint32Array(length);
  const f64 = (at: number, length: number): Float64Array =>
    mem ? new Float64Array(mem, at, length) : new Float64Array(length);
  if (mem) {
    const iota = new Uint32Array(mem, iotaAt, n);
    for (let i = 0; i < n; i++) iota[i] = i;
  }
  const rowBins = d.rowBins;
  const rowWords =
    rowBins.byteOffset % 4 === 0
      ? new Uint32Array(rowBins.buffer, rowBins.byteOffset, n * nw)
      : new Uint32Array(rowBins.slice().buffer, 0, n * nw);
  return {
    rng: new Uint32Array(1),
    w: new Float64Array(n),
    rowWords,
    nw,
    bins: new Uint8Array(words.buffer, words.byteOffset, n * rs),
    words,
    tmpWords: u32(tmpWordsAt, n * nw),
    wyw: f64(wywAt, K > 0 ? 0 : 2 * n),
    tmpWyw: f64(tmpWywAt, K > 0 ? 0 : 2 * n),
    idx: u32(idxAt, n),
    tmp: u32(tmpAt, n),
    nVarying,
    kernel:
      kernel && mem
        ? {
            build: kernel.build,
            partition: kernel.partition,
            scan: kernel.scan,
            mark: kernel.mark,
            sub: kernel.sub,
            maskAt,
            outAt,
            outF64: new Float64Array(mem, outAt, 3),
            outI32: new Int32Array(mem, outAt + 24, 3),
            binsAt,
            wywAt,
            idxAt,
            tmpWordsAt,
            tmpWywAt,
            tmpAt,
            iotaAt,
            sparseAt: 0,
            histAt: Array.from({ length: nHists }, (_, i) => histBytes * (1 + i)),
          }
        : null,
    perm,
    list: new Int32Array(F),
    mark: new Uint8Array(F),
    stride: maxStride,
    histSize,
    hists: [],
    valid: [],
    free: [],
    sparse: mem ? new Float64Array(mem, 0, histSize) : new Float64Array(histSize),
    mask: mem ? new Int32Array(mem, maskAt, rs * 8) : new Int32Array(F * 8),
    touched: new Int32Array(256),
    prefix: new Float64Array(k1),
    nodeCounts: new Float64Array(k1),
    best: {
      proxy: 0,
      feature: -1,
      bin: 0,
      next: 0,
      leftW: 0,
      leftS: 0,
      leftCounts: new Float64Array(k1),
    },
    sp: 0,
    stCap,
    stNode: new Int32Array(stCap),
    stStart: new Int32Array(stCap),
    stEnd: new Int32Array(stCap),
    stDepth: new Int32Array(stCap),
    stHist: new Int32Array(stCap),
    stW: new Float64Array(stCap),
    stS: new Float64Array(stCap),
    stCounts: new Float64Array(stCap * k1),
    stPerm: new Int32Array(stCap * F),
    nNodes: 0,
    cap,
    feature: new Int32Array(cap),
    threshold: new Float64Array(cap),
    left: new Int32Array(cap),
    right: new Int32Array(cap),
    value: new Float64Array(cap * k1),
  };
}

export function growTyped<T extends Int32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as { new (n: number): T })(size);
  b.set(a);
  return b;
}

/** Reserves a stack slot (growing the stack when full) and returns its index. */
export function pushSlot(ws: TreeWorkspace, F: number, k1: number): number {
  if (ws.sp === ws.stCap) {
    const c = ws.stCap * 2;
    ws.stNode = growTyped(ws.stNode, c);
    ws.stStart = growTyped(ws.stStart, c);
    ws.stEnd = growTyped(ws.stEnd, c);
    ws.stDepth = growTyped(ws.stDepth, c);
    ws.stHist = growTyped(ws.stHist, c);
    ws.stW = growTyped(ws.stW, c);
    ws.stS = growTyped(ws.stS, c);
    ws.stCounts = growTyped(ws.stCounts, c * k1);
    ws.stPerm = growTyped(ws.stPerm, c * F);
    ws.stCap = c;
  }
  return ws.sp++;
}

export function reserveNodes(ws: TreeWorkspace, needed: number, k1: number): void {
  if (needed <= ws.cap) return;
  let c = ws.cap * 2;
  while (c < needed) c *= 2;
  ws.feature = growTyped(ws.feature, c);
  ws.threshold = growTyped(ws.threshold, c);
  ws.left = growTyped(ws.left, c);
  ws.right = growTyped(ws.right, c);
  ws.value = growTyped(ws.value, c * k1);
  ws.cap = c;
}

/** A dense histogram buffer from the pool, with every feature marked not built. */
export function acquireHist(ws: TreeWorkspace): number {
  const id = ws.free.pop();
  if (id !== undefined) {
    ws.valid[id]!.fill(0);
    return id;
  }
  const at = ws.kernel?.histAt[ws.hists.length];
  const mem = ws.sparse.buffer;
  ws.hists.push(at !== undefined ? new Float64Array(mem, at, ws.histSize) : new Float64Array(ws.histSize));
  ws.valid.push(new Uint8Array(ws.mark.length));
  return ws.hists.length - 1;
}

/** Draws the first `mtry` candidate features of the node in `slot` (partial Fisher-Yates) and stores the order. */
export function drawCandidates(ws: TreeWorkspace, slot: number, F: number, mtry: number): void {
  const perm = ws.perm;
  for (let j = 0; j < mtry; j++) {
    const k = j + randBelow(ws.rng, F - j);
    const t = perm[j]!;
    perm[j] = perm[k]!;
    perm[k] = t;
  }
  ws.stPerm.set(perm, slot * F);
}
