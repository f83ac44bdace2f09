// The learner's data, config and reusable buffers (shared with forest-worker.ts).
import type { BestSplit } from './hist-kernel.js';
import { randBelow } from './rng.js';

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

/** Buffers reused across the trees one thread grows; `st*` is the explicit stack of pending nodes. */
export interface TreeWorkspace {
  rng: Uint32Array;
  /** Bootstrap count of each row (0 = out of bag). */
  w: Float64Array;
  /** Regression: `[w * y, w]` per row. */
  wyw: Float64Array;
  /** The in-bag rows; each pending node owns the range `start..end` of it. */
  idx: Uint32Array;
  tmp: Uint32Array;
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

export function createWorkspace(d: TreeData): TreeWorkspace {
  const n = d.nRows;
  const F = d.nFeatures;
  const K = d.nClasses;
  const maxStride = (K > 0 ? K : 2) + 1;
  const k1 = Math.max(K, 1);
  const perm = new Int32Array(F);
  for (let f = 0; f < F; f++) perm[f] = f;
  const stCap = 64;
  const cap = 256;
  return {
    rng: new Uint32Array(1),
    w: new Float64Array(n),
    wyw: new Float64Array(K > 0 ? 0 : 2 * n),
    idx: new Uint32Array(n),
    tmp: new Uint32Array(n),
    perm,
    list: new Int32Array(F),
    mark: new Uint8Array(F),
    stride: maxStride,
    histSize: F * 256 * maxStride,
    hists: [],
    valid: [],
    free: [],
    sparse: new Float64Array(F * 256 * maxStride),
    mask: new Int32Array(F * 8),
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
  ws.hists.push(new Float64Array(ws.histSize));
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
