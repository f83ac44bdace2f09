// Grows one tree on binned data (on the calling thread and in forest-worker.ts).
import type { FlatTree } from '../../formats/tree-ensemble.js';
import {
  addClsRows,
  addRegRows,
  countLeft,
  extractTouched,
  isPureTarget,
  markTouched,
  partitionRows,
  scanClasses,
  scanReg,
  scanReg2,
  splitThreshold,
  subtractHist,
} from './hist-kernel.js';
import { randBelow } from './rng.js';
import { acquireHist, drawCandidates, pushSlot, reserveNodes } from './tree-workspace.js';
import type { TreeConfig, TreeData, TreeWorkspace } from './tree-workspace.js';

/**
 * Builds the histograms of features `ws.list[0..nl)` for the rows at positions `start..end` in one
 * row-wise pass: into the dense buffer `hist` (zeroed first, then marked built) or, when `hist < 0`,
 * into the sparse scratch, with the touched bins marked in `ws.mask` until the feature is evaluated.
 */
function buildFeatures(
  ws: TreeWorkspace,
  d: TreeData,
  hist: number,
  nl: number,
  start: number,
  end: number,
): void {
  const K = d.nClasses;
  const stride = ws.stride;
  const list = ws.list;
  const h = hist >= 0 ? ws.hists[hist]! : ws.sparse;
  const rs = d.rowStride;
  const kernel = ws.kernel;
  // The kernel adds (and marks) every feature of the rows, constant ones and padding too: used when
  // all varying features are wanted. The same adds in the same order as addRegRows, so the same sums.
  const at =
    kernel !== null && K === 0 && stride === 2 && nl === ws.nVarying
      ? hist >= 0
        ? (kernel.histAt[hist] ?? -1)
        : kernel.sparseAt
      : -1;
  if (hist >= 0) {
    if (at >= 0) h.fill(0);
    else {
      for (let j = 0; j < nl; j++) {
        const off = list[j]! * 256 * stride;
        h.fill(0, off, off + d.nBins[list[j]!]! * stride);
      }
    }
  }
  if (at >= 0 && kernel !== null)
    kernel.build(at, kernel.binsAt, kernel.wywAt, kernel.iotaAt, start, end, ws.nw);
  else if (K > 0) addClsRows(h, stride, K, list, nl, rs, ws.bins, ws.idx, start, end, d.cls, ws.w);
  else addRegRows(h, stride, list, nl, rs, ws.bins, start, end, ws.wyw);
  if (hist >= 0) {
    const valid = ws.valid[hist]!;
    for (let j = 0; j < nl; j++) valid[list[j]!] = 1;
  } else if (at >= 0 && kernel !== null) {
    kernel.mark(kernel.binsAt, start, end, ws.nw, kernel.maskAt);
  } else {
    markTouched(ws.mask, list, nl, rs, ws.bins, start, end);
  }
}

/** Finds feature `f`'s best split (into `ws.best`) from its built histogram; true when `f` varies in the node. */
function evaluateFeature(
  ws: TreeWorkspace,
  d: TreeData,
  c: TreeConfig,
  f: number,
  hist: number,
  start: number,
  end: number,
  W: number,
  S: number,
): boolean {
  const K = d.nClasses;
  const stride = ws.stride;
  const m = end - start;
  const off = f * 256 * stride;
  const sparse = hist < 0;
  const h = sparse ? ws.sparse : ws.hists[hist]!;
  if (K === 0 && stride === 2) {
    const k = ws.kernel;
    const at = k === null ? undefined : sparse ? k.sparseAt : k.histAt[hist];
    if (k === null || at === undefined) {
      return scanReg2(ws.best, f, h, off, d.nBins[f]!, sparse ? ws.mask : null, W, S);
    }
    const best = ws.best;
    k.outF64[0] = best.proxy;
    k.outI32[0] = -1;
    k.scan(at + off * 8, d.nBins[f]!, sparse ? k.maskAt + f * 32 : -1, W, S, k.outAt);
    if (k.outI32[0]! >= 0) {
      best.proxy = k.outF64[0]!;
      best.feature = f;
      best.bin = k.outI32[0]!;
      best.next = k.outI32[1]!;
      best.leftW = k.outF64[1]!;
      best.leftS = k.outF64[2]!;
    }
    return k.outI32[2] !== 0;
  }
  const count = sparse ? extractTouched(ws.mask, f, ws.touched) : d.nBins[f]!;
  const minLeaf = c.minSamplesLeaf;
  const varies =
    K > 0
      ? scanClasses(
          ws.best,
          f,
          h,
          off,
          stride,
          count,
          ws.touched,
          sparse,
          K,
          c.criterion === 2,
          ws.nodeCounts,
          W,
          m,
          minLeaf,
          ws.prefix,
        )
      : scanReg(ws.best, f, h, off, stride, count, ws.touched, sparse, W, S, m, minLeaf);
  return varies;
}

/**
 * After a split, the larger child takes over the parent's buffer: for each feature it will use, its
 * histogram becomes parent minus the smaller sibling's, when that is cheaper than building it.
 */
function passHistograms(
  ws: TreeWorkspace,
  d: TreeData,
  hist: number,
  bigSlot: number,
  smallSlot: number,
  sampleFeatures: boolean,
  mtry: number,
  threshold: number,
): void {
  const bigM = ws.stEnd[bigSlot]! - ws.stStart[bigSlot]!;
  const smallM = ws.stEnd[smallSlot]! - ws.stStart[smallSlot]!;
  ws.stHist[bigSlot] = -1;
  ws.stHist[smallSlot] = -1;
  if (hist < 0) return;
  if (bigM < threshold) {
    ws.free.push(hist);
    return;
  }
  const F = d.nFeatures;
  const stride = ws.stride;
  const valid = ws.valid[hist]!;
  const mark = ws.mark;
  const smallDense = smallM >= threshold;
  if (sampleFeatures) {
    for (let j = 0; j < mtry; j++) mark[ws.stPerm[bigSlot * F + j]!]! |= 1;
    for (let j = 0; j < mtry; j++) mark[ws.stPerm[smallSlot * F + j]!]! |= 2;
  }
  let nl = 0;
  for (let f = 0; f < F; f++) {
    if (valid[f] === 0) continue;
    // Subtracting costs the bins plus building the sibling's histogram (unless it builds it anyway);
    // building the larger child's directly costs its rows.
    const smallBuilds = smallDense && (!sampleFeatures || (mark[f]! & 2) !== 0);
    if ((sampleFeatures && (mark[f]! & 1) === 0) || d.nBins[f]! + (smallBuilds ? 0 : smallM) >= bigM)
      valid[f] = 0;
    else ws.list[nl++] = f;
  }
  if (sampleFeatures) mark.fill(0);
  ws.stHist[bigSlot] = hist;
  if (nl === 0 && !smallDense) return;
  const hs = acquireHist(ws);
  if (nl > 0) {
    buildFeatures(ws, d, hs, nl, ws.stStart[smallSlot]!, ws.stEnd[smallSlot]!);
    const h = ws.hists[hist]!;
    const hsArr = ws.hists[hs]!;
    // A bin's [w*y, w] as one f64x2 in the kernel (stride 2), the same differences.
    const hAt = stride === 2 ? ws.kernel?.histAt[hist] : undefined;
    const hsAt = ws.kernel?.histAt[hs];
    for (let j = 0; j < nl; j++) {
      const f = ws.list[j]!;
      const off = f * 256 * stride;
      if (hAt !== undefined && hsAt !== undefined)
        ws.kernel!.sub(hAt + off * 8, hsAt + off * 8, d.nBins[f]! * stride * 8);
      else subtractHist(h, hsArr, off, d.nBins[f]! * stride);
    }
  }
  if (smallDense) ws.stHist[smallSlot] = hs;
  else ws.free.push(hs);
}

/** Moves the rows at positions `start..end` whose bin of `f` is `<= bin` first (stably); returns the boundary. */
function splitRows(ws: TreeWorkspace, start: number, end: number, f: number, bin: number): number {
  const k = ws.kernel;
  const nw = ws.nw;
  if (k === null) {
    return partitionRows(
      ws.bins,
      ws.words,
      ws.tmpWords,
      nw,
      ws.wyw,
      ws.tmpWyw,
      ws.idx,
      ws.tmp,
      start,
      end,
      f,
      bin,
    );
  }
  const mid = k.partition(
    k.binsAt,
    k.wywAt,
    k.idxAt,
    k.tmpWordsAt,
    k.tmpWywAt,
    k.tmpAt,
    start,
    end,
    nw,
    f,
    bin,
  );
  const right = end - mid;
  ws.words.set(ws.tmpWords.subarray(0, right * nw), mid * nw);
  if (ws.wyw.length > 0) ws.wyw.set(ws.tmpWyw.subarray(0, 2 * right), 2 * mid);
  ws.idx.set(ws.tmp.subarray(0, right), mid);
  return mid;
}

/** Grows one tree (depth first, explicit stack) and returns it in the flat IR with `leq` thresholds. */
export function growTree(d: TreeData, c: TreeConfig, ws: TreeWorkspace, seed: number): FlatTree {
  const n = d.nRows;
  const F = d.nFeatures;
  const K = d.nClasses;
  const isCls = K > 0;
  const k1 = Math.max(K, 1);
  const mtry = Math.min(F, Math.max(1, c.maxFeatures));
  const sampleFeatures = mtry < F;
  const T = c.sparseThreshold;
  const rng = ws.rng;
  rng[0] = seed;
  ws.stride = (isCls ? K : 2) + (c.minSamplesLeaf > 1 ? 1 : 0);
  // A tree depends only on its seed, not on the trees this workspace grew before.
  for (let f = 0; f < F; f++) ws.perm[f] = f;
  const w = ws.w;
  const idx = ws.idx;
  const nw = ws.nw;
  const words = ws.words;
  const rowWords = ws.rowWords;
  if (c.bootstrap) {
    w.fill(0);
    for (let i = 0; i < n; i++) w[randBelow(rng, n)]! += 1;
  } else w.fill(1);
  let m = 0;
  let rootW = 0;
  let rootS = 0;
  ws.stCounts.fill(0, 0, k1);
  for (let r = 0; r < n; r++) {
    const wr = w[r]!;
    if (wr === 0) continue;
    for (let j = 0; j < nw; j++) words[m * nw + j] = rowWords[r * nw + j]!;
    rootW += wr;
    if (isCls) ws.stCounts[d.cls[r]!]! += wr;
    else {
      ws.wyw[2 * m] = wr * d.y[r]!;
      ws.wyw[2 * m + 1] = wr;
      rootS += wr * d.y[r]!;
    }
    idx[m++] = r;
  }
  ws.sp = 0;
  ws.nNodes = 1;
  const root = pushSlot(ws, F, k1);
  ws.stNode[root] = 0;
  ws.stStart[root] = 0;
  ws.stEnd[root] = m;
  ws.stDepth[root] = 0;
  ws.stHist[root] = -1;
  ws.stW[root] = rootW;
  ws.stS[root] = rootS;
  if (sampleFeatures) drawCandidates(ws, root, F, mtry);

  const best = ws.best;
  const nodeCounts = ws.nodeCounts;
  while (ws.sp > 0) {
    const slot = --ws.sp;
    const id = ws.stNode[slot]!;
    const start = ws.stStart[slot]!;
    const end = ws.stEnd[slot]!;
    const depth = ws.stDepth[slot]!;
    const W = ws.stW[slot]!;
    const S = ws.stS[slot]!;
    let hist = ws.stHist[slot]!;
    const mNode = end - start;
    let pure = false;
    if (isCls) {
      for (let k = 0; k < K; k++) {
        const v = ws.stCounts[slot * K + k]!;
        nodeCounts[k] = v;
        ws.value[id * K + k] = v / W;
        if (v === W) pure = true;
      }
    } else {
      ws.value[id] = S / W;
    }
    let leaf = pure || depth >= c.maxDepth || mNode < c.minSamplesSplit || mNode < 2 * c.minSamplesLeaf;
    if (!leaf && !isCls) leaf = isPureTarget(d.y, idx, start, end);
    best.feature = -1;
    if (!leaf) {
      if (mNode >= T && hist < 0) hist = acquireHist(ws);
      // Sparse nodes build every feature they evaluate; dense ones only those not built (or derived) yet.
      const dense = hist >= 0;
      const valid = dense ? ws.valid[hist]! : ws.mark;
      best.proxy = -Infinity;
      const pb = slot * F;
      let nl = 0;
      for (let j = 0; j < mtry; j++) {
        const f = sampleFeatures ? ws.stPerm[pb + j]! : j;
        if (d.nBins[f]! > 1 && (!dense || valid[f] === 0)) ws.list[nl++] = f;
      }
      if (nl > 0) buildFeatures(ws, d, hist, nl, start, end);
      let visited = 0;
      let varying = 0;
      for (let j = 0; j < F; j++) {
        if (visited >= mtry && varying > 0) break;
        let f = j;
        if (sampleFeatures) {
          if (j >= mtry) {
            // Every candidate so far was constant in this node: draw one more (scikit-learn does too).
            const k = j + randBelow(rng, F - j);
            const t = ws.stPerm[pb + j]!;
            ws.stPerm[pb + j] = ws.stPerm[pb + k]!;
            ws.stPerm[pb + k] = t;
          }
          f = ws.stPerm[pb + j]!;
        }
        visited++;
        if (d.nBins[f]! <= 1) continue;
        if (j >= mtry && (!dense || valid[f] === 0)) {
          ws.list[0] = f;
          buildFeatures(ws, d, hist, 1, start, end);
        }
        if (evaluateFeature(ws, d, c, f, hist, start, end, W, S)) varying++;
      }
    }
    if (best.feature < 0) {
      ws.feature[id] = -1;
      ws.threshold[id] = 0;
      ws.left[id] = -1;
      ws.right[id] = -1;
      if (hist >= 0) ws.free.push(hist);
      continue;
    }
    const f = best.feature;
    // Children at the depth limit are leaves that never read their rows: they need only their count.
    const mid =
      depth + 1 >= c.maxDepth
        ? countLeft(ws.bins, d.rowStride, start, end, f, best.bin)
        : splitRows(ws, start, end, f, best.bin);
    reserveNodes(ws, ws.nNodes + 2, k1);
    const lid = ws.nNodes;
    ws.nNodes += 2;
    ws.feature[id] = f;
    // Internal nodes carry no value (predictions read leaves only), so files and IR agree exactly.
    ws.value.fill(0, id * k1, id * k1 + k1);
    ws.threshold[id] = splitThreshold(d.binMax[f * 256 + best.bin]!, d.binMin[f * 256 + best.next]!);
    ws.left[id] = lid;
    ws.right[id] = lid + 1;

    // Push the larger child first so the smaller one is grown first: few histograms stay pending.
    const smallLeft = mid - start <= end - mid;
    const bigSlot = pushSlot(ws, F, k1);
    const smallSlot = pushSlot(ws, F, k1);
    const ls = smallLeft ? smallSlot : bigSlot;
    const rs = smallLeft ? bigSlot : smallSlot;
    ws.stNode[ls] = lid;
    ws.stStart[ls] = start;
    ws.stEnd[ls] = mid;
    ws.stW[ls] = best.leftW;
    ws.stS[ls] = best.leftS;
    ws.stNode[rs] = lid + 1;
    ws.stStart[rs] = mid;
    ws.stEnd[rs] = end;
    ws.stW[rs] = W - best.leftW;
    ws.stS[rs] = S - best.leftS;
    ws.stDepth[ls] = depth + 1;
    ws.stDepth[rs] = depth + 1;
    if (isCls) {
      for (let k = 0; k < K; k++) {
        const lc = best.leftCounts[k]!;
        ws.stCounts[ls * K + k] = lc;
        ws.stCounts[rs * K + k] = nodeCounts[k]! - lc;
      }
    }
    if (sampleFeatures) {
      drawCandidates(ws, ls, F, mtry);
      drawCandidates(ws, rs, F, mtry);
    }
    passHistograms(ws, d, hist, bigSlot, smallSlot, sampleFeatures, mtry, T);
  }
  const nn = ws.nNodes;
  return {
    feature: ws.feature.slice(0, nn),
    threshold: ws.threshold.slice(0, nn),
    left: ws.left.slice(0, nn),
    right: ws.right.slice(0, nn),
    value: ws.value.slice(0, nn * k1),
  };
}
