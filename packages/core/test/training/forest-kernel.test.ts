import { describe, expect, it } from 'vitest';
import type { FlatTree } from '../../src/formats/tree-ensemble.js';
import { binFeatures } from '../../src/training/native/binning.js';
import { treeDataOf } from '../../src/training/native/forest.js';
import { markTouched, partitionRows, scanReg2, subtractHist } from '../../src/training/native/hist-kernel.js';
import type { BestSplit } from '../../src/training/native/hist-kernel.js';
import { growTree } from '../../src/training/native/hist-tree.js';
import { resolveTreeSetup } from '../../src/training/native/params.js';
import type { NativeTreeParams } from '../../src/training/native/params.js';
import { createWorkspace } from '../../src/training/native/tree-workspace.js';
import type { TreeData } from '../../src/training/native/tree-workspace.js';
import { createKernel } from '../../src/training/native/wasm-kernel.js';
import { createRandom } from '../../src/training/random.js';
import { friedman, threeClasses } from '../native-trees/helpers.js';

/** Regression data, or with `nClasses` 2 or 3 classes (2: classes 1 and 2 merged). */
function treeData(nRows: number, nFeatures: number, seed: number, nClasses = 0): TreeData {
  const classes = nClasses > 0;
  const d = classes ? threeClasses(nRows, nFeatures, seed) : friedman(nRows, nFeatures, seed);
  const binned = binFeatures(d.x, nRows, nFeatures);
  return treeDataOf(binned, nRows, nFeatures, {
    y: classes ? new Float64Array(0) : d.y,
    cls: Int32Array.from(classes ? d.y : [], (v) => Math.min(v, nClasses - 1)),
    nClasses,
  });
}

const plain = (t: FlatTree) => ({
  feature: Array.from(t.feature),
  threshold: Array.from(t.threshold),
  left: Array.from(t.left),
  value: Array.from(t.value),
});

describe('the random forest on the WebAssembly kernel', () => {
  it.each<[string, NativeTreeParams]>([
    ['all features, bootstrap', { maxDepth: 12 }],
    ['sampled features, no bootstrap', { maxFeatures: 3, bootstrap: false }],
    ['row counts kept (minSamplesLeaf 3)', { minSamplesLeaf: 3, maxDepth: 9 }],
  ])('grows the same trees as the JavaScript learner: %s', (_, params) => {
    const d = treeData(6000, 7, 4);
    const { config } = resolveTreeSetup(params, 'regression', d.nRows, d.nFeatures, false);
    const wasm = createWorkspace(d, true);
    const js = createWorkspace(d, false);
    expect(wasm.kernel).not.toBeNull();
    expect(js.kernel).toBeNull();
    for (const seed of [1, 2, 3]) {
      const a = growTree(d, config, wasm, seed);
      const b = growTree(d, config, js, seed);
      expect(a.feature.length).toBeGreaterThan(100);
      expect(plain(a)).toEqual(plain(b));
    }
  });

  it.each<[string, number, NativeTreeParams]>([
    ['3 classes, gini, sampled features', 3, { maxDepth: 12 }],
    [
      '2 classes (stride 2, as regression), entropy, all features',
      2,
      { criterion: 'entropy', maxFeatures: 'all' },
    ],
  ])('classification moves rows in the kernel and grows the same trees: %s', (_, nClasses, params) => {
    const d = treeData(5000, 6, 7, nClasses);
    const { config } = resolveTreeSetup(params, 'classification', d.nRows, d.nFeatures, false);
    const wasm = createWorkspace(d, true);
    const js = createWorkspace(d, false);
    expect(wasm.kernel).not.toBeNull();
    for (const seed of [4, 5]) {
      const a = growTree(d, config, wasm, seed);
      expect(a.feature.length).toBeGreaterThan(50);
      expect(plain(a)).toEqual(plain(growTree(d, config, js, seed)));
    }
  });

  it('partition moves rows like partitionRows: stably, bins, [w*y, w] and row numbers together', () => {
    const n = 2000;
    const nw = 3;
    const random = createRandom(8);
    const words = new Uint32Array(n * nw);
    const wyw = new Float64Array(2 * n);
    for (let i = 0; i < words.length; i++) words[i] = Math.floor(random.next() * 2 ** 32);
    for (let i = 0; i < wyw.length; i++) wyw[i] = random.next();
    const idx = Uint32Array.from({ length: n }, (_, i) => i * 7);
    // The arrays of both partitions, at these byte offsets of the kernel's memory.
    const at = { words: 0, tw: n * nw * 4, wyw: 2 * n * nw * 4, tg: 2 * n * nw * 4 + 16 * n, idx: 0, ti: 0 };
    at.idx = at.tg + 16 * n;
    at.ti = at.idx + 4 * n;
    const kernel = createKernel(at.ti + 4 * n);
    expect(kernel).not.toBeNull();
    const mem = kernel!.buffer;
    const kw = new Uint32Array(mem, at.words, n * nw);
    const kg = new Float64Array(mem, at.wyw, 2 * n);
    const ki = new Uint32Array(mem, at.idx, n);
    kw.set(words);
    kg.set(wyw);
    ki.set(idx);
    const [start, end, f, bin] = [150, 1700, 6, 97];
    const mid = kernel!.partition(at.words, at.wyw, at.idx, at.tw, at.tg, at.ti, start, end, nw, f, bin);
    const right = end - mid;
    kw.set(new Uint32Array(mem, at.tw, right * nw), mid * nw);
    kg.set(new Float64Array(mem, at.tg, 2 * right), 2 * mid);
    ki.set(new Uint32Array(mem, at.ti, right), mid);

    const bins = new Uint8Array(words.buffer);
    const want = partitionRows(
      bins,
      words,
      new Uint32Array(n * nw),
      nw,
      wyw,
      new Float64Array(2 * n),
      idx,
      new Uint32Array(n),
      start,
      end,
      f,
      bin,
    );
    expect(mid).toBe(want);
    expect(mid).toBeGreaterThan(start);
    expect(mid).toBeLessThan(end);
    expect(Array.from(kw)).toEqual(Array.from(words));
    expect(Array.from(kg)).toEqual(Array.from(wyw));
    expect(Array.from(ki)).toEqual(Array.from(idx));
  });

  it('scan finds the split scanReg2 finds, dense or from the mask (clearing it and the bins it read)', () => {
    const random = createRandom(11);
    const kernel = createKernel(65536);
    expect(kernel).not.toBeNull();
    const mem = kernel!.buffer;
    const [hAt, maskAt, outAt] = [0, 8192, 8192 + 64];
    const h = new Float64Array(mem, hAt, 512);
    const mask = new Int32Array(mem, maskAt, 8);
    const outF64 = new Float64Array(mem, outAt, 3);
    const outI32 = new Int32Array(mem, outAt + 24, 3);
    for (const sparse of [false, true]) {
      for (let trial = 0; trial < 20; trial++) {
        h.fill(0);
        const bits = new Int32Array(8);
        let W = 0;
        let S = 0;
        for (let b = 0; b < 200; b++) {
          if (random.next() < 0.4) continue;
          const w = 1 + Math.floor(random.next() * 4);
          const s = (random.next() - 0.3) * 10 * w;
          h[2 * b] = s;
          h[2 * b + 1] = w;
          W += w;
          S += s;
          bits[b >> 5]! |= 1 << (b & 31);
        }
        const initial = trial % 3 === 0 ? Infinity : -Infinity;
        const want: BestSplit = {
          proxy: initial,
          feature: -1,
          bin: 0,
          next: 0,
          leftW: 0,
          leftS: 0,
          leftCounts: new Float64Array(1),
        };
        const jsH = h.slice();
        const jsMask = bits.slice();
        const wantVaries = scanReg2(want, 0, jsH, 0, 200, sparse ? jsMask : null, W, S);
        mask.fill(0);
        if (sparse) mask.set(bits);
        outF64[0] = initial;
        outI32[0] = -1;
        kernel!.scan(hAt, 200, sparse ? maskAt : -1, W, S, outAt);
        expect(outI32[2] !== 0).toBe(wantVaries);
        if (want.feature < 0) expect(outI32[0]).toBe(-1);
        else {
          expect([outF64[0], outI32[0], outI32[1], outF64[1], outF64[2]]).toEqual([
            want.proxy,
            want.bin,
            want.next,
            want.leftW,
            want.leftS,
          ]);
        }
        expect(Array.from(h)).toEqual(Array.from(jsH));
        if (sparse) {
          expect(Array.from(mask)).toEqual(Array.from(jsMask));
          expect(mask.every((v) => v === 0) && h.every((v) => v === 0)).toBe(true);
        }
      }
    }
  });

  it('mark sets the bits markTouched sets, for every feature of the rows words', () => {
    const [n, nw, rowStride] = [700, 3, 12];
    const random = createRandom(12);
    const kernel = createKernel(n * rowStride + rowStride * 32);
    expect(kernel).not.toBeNull();
    const bins = new Uint8Array(kernel!.buffer, 0, n * rowStride);
    for (let i = 0; i < bins.length; i++) bins[i] = Math.floor(random.next() * 256);
    const mask = new Int32Array(kernel!.buffer, n * rowStride, rowStride * 8);
    const [start, end] = [40, 333];
    kernel!.mark(0, start, end, nw, mask.byteOffset);
    const want = new Int32Array(rowStride * 8);
    const every = Int32Array.from({ length: rowStride }, (_, f) => f);
    markTouched(want, every, rowStride, rowStride, bins, start, end);
    expect(want.some((v) => v !== 0)).toBe(true);
    expect(Array.from(mask)).toEqual(Array.from(want));
  });

  it('sub subtracts like subtractHist, over the bytes asked only', () => {
    const random = createRandom(13);
    const kernel = createKernel(2 * 4096);
    expect(kernel).not.toBeNull();
    const h = new Float64Array(kernel!.buffer, 0, 512);
    const hs = new Float64Array(kernel!.buffer, 4096, 512);
    for (let i = 0; i < 512; i++) {
      h[i] = (random.next() - 0.5) * 1e3;
      hs[i] = (random.next() - 0.5) * 1e3;
    }
    const want = h.slice();
    subtractHist(want, hs, 32, 200);
    kernel!.sub(32 * 8, 4096 + 32 * 8, 200 * 8);
    expect(Array.from(h)).toEqual(Array.from(want));
  });
});
