import { describe, expect, it } from 'vitest';
import { binFeatures } from '../../src/training/native/binning.js';
import { addGradRowsAll, partitionBoost, scanGrad } from '../../src/training/native/boost-kernel.js';
import { createBoostWorkspace, growBoostTree } from '../../src/training/native/boost-tree.js';
import type { BinTree } from '../../src/training/native/boost-tree.js';
import { createBoostKernel } from '../../src/training/native/boost-wasm.js';
import { createKernel } from '../../src/training/native/wasm-kernel.js';
import { createRandom } from '../../src/training/random.js';
import { friedman } from '../native-trees/helpers.js';

describe('the WebAssembly histogram kernel', () => {
  it('adds the same bits as the JavaScript kernel, through the row index, padding included', () => {
    const n = 3000;
    const nFeatures = 7;
    const rowStride = 8;
    const random = createRandom(5);
    const histBytes = rowStride * 256 * 16;
    const kernel = createKernel(histBytes + n * rowStride + n * 16 + n * 4);
    expect(kernel).not.toBeNull();
    const bins = new Uint8Array(kernel!.buffer, histBytes, n * rowStride);
    const gh = new Float64Array(kernel!.buffer, histBytes + n * rowStride, 2 * n);
    const idx = new Uint32Array(kernel!.buffer, histBytes + n * rowStride + n * 16, n);
    for (let r = 0; r < n; r++) {
      for (let f = 0; f < nFeatures; f++) bins[r * rowStride + f] = Math.floor(random.next() * 256);
      gh[2 * r] = random.next() * 2 - 1;
      gh[2 * r + 1] = random.next();
    }
    // Every third row, from row 10: a node's rows in index order.
    let m = 0;
    for (let r = 10; r < n; r += 3) idx[m++] = r;
    kernel!.build(0, bins.byteOffset, gh.byteOffset, idx.byteOffset, 0, m, rowStride / 4);
    const want = new Float64Array(nFeatures * 512);
    addGradRowsAll(want, nFeatures, rowStride, bins, idx, 0, m, gh);
    const got = new Float64Array(kernel!.buffer, 0, nFeatures * 512);
    expect(Array.from(got)).toEqual(Array.from(want));
    // The padding's bytes are bin 0 of the features past the real ones.
    let padW = 0;
    for (let i = 0; i < m; i++) padW += gh[2 * idx[i]! + 1]!;
    expect(new Float64Array(kernel!.buffer, 0, rowStride * 512)[nFeatures * 512 + 1]).toBeCloseTo(padW, 9);
  });

  // Leaf-wise with 80 leaves holds more histograms at once than the kernel memory has: the rest are
  // JavaScript arrays, built through the scratch and subtracted in JavaScript.
  it.each([
    ['depth-wise', 5, 0],
    ['leaf-wise past the kernel memory histograms', 30, 80],
  ])('grows the same tree and scores as the JavaScript kernels, %s', (_, maxDepth, maxLeaves) => {
    const d = friedman(2000, 6, 9);
    const rowStride = 8;
    const binned = binFeatures(d.x, d.nRows, d.nFeatures, { missing: true });
    let mean = 0;
    for (const v of d.y) mean += v / d.nRows;
    const grown = [true, false].map((wasm) => {
      const ws = createBoostWorkspace(d.nRows, d.nFeatures, rowStride, 1, false, wasm);
      expect(ws.kernel !== null).toBe(wasm);
      for (let f = 0; f < d.nFeatures; f++) {
        for (let r = 0; r < d.nRows; r++) ws.rowBins[r * rowStride + f] = binned.bins[f * d.nRows + r]!;
      }
      ws.colBins.set(binned.bins);
      const gh = ws.gh[0]!;
      for (let r = 0; r < d.nRows; r++) {
        gh[2 * r] = mean - d.y[r]!;
        gh[2 * r + 1] = 1;
        ws.idx[r] = r;
      }
      const list = Int32Array.from({ length: d.nFeatures }, (_, f) => f);
      const pred = ws.pred;
      const data = {
        nFeatures: d.nFeatures,
        rowStride,
        rowBins: ws.rowBins,
        nBins: binned.nBins,
        colBins: ws.colBins,
        missingBin: binned.missingBin,
      };
      const config = {
        maxDepth,
        maxLeaves,
        minSamplesLeaf: 1,
        minChildWeight: 1,
        lambda: 1,
        minSplitGain: 0,
        learningRate: 0.3,
      };
      const tree = growBoostTree(data, config, ws, gh, d.nRows, list, d.nFeatures, true, pred, 1, 0);
      return { tree, pred };
    });
    const plain = (t: BinTree) => ({
      nNodes: t.nNodes,
      feature: Array.from(t.feature.subarray(0, t.nNodes)),
      bin: Array.from(t.bin.subarray(0, t.nNodes)),
      value: Array.from(t.value.subarray(0, t.nNodes)),
      gain: Array.from(t.gain.subarray(0, t.nNodes)),
    });
    expect(grown[0]!.tree.nNodes).toBeGreaterThan(31);
    if (maxLeaves > 0) expect(grown[0]!.tree.nNodes).toBe(2 * maxLeaves - 1);
    expect(plain(grown[0]!.tree)).toEqual(plain(grown[1]!.tree));
    expect(Array.from(grown[0]!.pred)).toEqual(Array.from(grown[1]!.pred));
  });

  it('partitions rows as the JavaScript partition does, missing bin to either side', () => {
    const n = 5000;
    const kernel = createBoostKernel(n * 13);
    expect(kernel).not.toBeNull();
    const idx = new Uint32Array(kernel!.buffer, 0, n);
    const tmp = new Uint32Array(kernel!.buffer, n * 4, n);
    const col = new Uint8Array(kernel!.buffer, n * 8, n);
    const random = createRandom(11);
    for (let r = 0; r < n; r++) col[r] = Math.floor(random.next() * 200);
    for (const [bin, mb, missingLeft] of [
      [57, -1, 0],
      [120, 199, 1],
      [120, 199, 0],
      [0, 199, 1],
    ] as const) {
      // Every other row of a slice in the middle, as a node's rows are.
      let m = 0;
      for (let r = 1; r < n; r += 2) idx[m++] = r;
      const want = Uint32Array.from(idx);
      const wantMid = partitionBoost(want, new Uint32Array(n), 100, m - 50, col, bin, mb, missingLeft);
      const mid = kernel!.partition(
        idx.byteOffset,
        tmp.byteOffset,
        100,
        m - 50,
        col.byteOffset,
        bin,
        mb,
        missingLeft,
      );
      expect(mid).toBe(wantMid);
      expect(mid).toBeGreaterThan(100);
      expect(mid).toBeLessThan(m - 50);
      expect(Array.from(idx)).toEqual(Array.from(want));
    }
  });

  it('finds the split scanGrad finds, with the same gain and sums, or none past a given best', () => {
    const kernel = createBoostKernel(4096 + 32);
    expect(kernel).not.toBeNull();
    const h = new Float64Array(kernel!.buffer, 0, 512);
    const out = new Float64Array(kernel!.buffer, 4096, 4);
    const random = createRandom(3);
    let G = 0;
    let H = 0;
    for (let b = 0; b < 200; b++) {
      // Some bins empty, as deep nodes have them.
      if (random.next() < 0.3) continue;
      h[2 * b] = random.next() * 4 - 1.5 + b / 100;
      h[2 * b + 1] = random.next() * 3;
      G += h[2 * b]!;
      H += h[2 * b + 1]!;
    }
    const parentScore = (G * G) / (H + 1);
    for (const start of [0, 5, 1e9]) {
      const want = { gain: start, feature: -1, bin: 0, missingLeft: 0, gl: 0, hl: 0 };
      scanGrad(want, 7, h, 0, 2, 200, -1, G, H, 0, 1, parentScore, 1, 1);
      kernel!.scan(0, 200, G, H, 1, parentScore, 1, start, out.byteOffset);
      if (start === 0) expect(want.feature).toBe(7);
      if (want.feature < 0) expect(out[1]).toBe(-1);
      else expect(Array.from(out)).toEqual([want.gain, want.bin, want.gl, want.hl]);
    }
    expect(out[1]).toBe(-1);
  });
});
