import { describe, expect, it } from 'vitest';
import type { FlatTree } from '../../src/formats/tree-ensemble.js';
import { binFeatures } from '../../src/training/native/binning.js';
import { partitionRows } from '../../src/training/native/hist-kernel.js';
import { growTree } from '../../src/training/native/hist-tree.js';
import { resolveTreeSetup } from '../../src/training/native/params.js';
import type { NativeTreeParams } from '../../src/training/native/params.js';
import { createWorkspace } from '../../src/training/native/tree-workspace.js';
import type { TreeData } from '../../src/training/native/tree-workspace.js';
import { createKernel } from '../../src/training/native/wasm-kernel.js';
import { createRandom } from '../../src/training/random.js';
import { friedman } from '../native-trees/helpers.js';

function regressionData(nRows: number, nFeatures: number, seed: number): TreeData {
  const d = friedman(nRows, nFeatures, seed);
  const binned = binFeatures(d.x, nRows, nFeatures);
  const rowStride = Math.ceil(nFeatures / 4) * 4;
  const rowBins = new Uint8Array(nRows * rowStride);
  for (let f = 0; f < nFeatures; f++) {
    for (let r = 0; r < nRows; r++) rowBins[r * rowStride + f] = binned.bins[f * nRows + r]!;
  }
  return {
    nRows,
    nFeatures,
    rowStride,
    rowBins,
    nBins: binned.nBins,
    binMin: binned.binMin,
    binMax: binned.binMax,
    y: d.y,
    cls: new Int32Array(0),
    nClasses: 0,
  };
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
    const d = regressionData(6000, 7, 4);
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
});
