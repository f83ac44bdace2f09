import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { splitThreshold } from '../../src/training/native/hist-kernel.js';
import { binFeatures, MAX_BINS } from '../../src/training/native/index.js';
import { createRandom } from '../../src/training/random.js';

function column(n: number, value: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => value(i));
}

describe('binFeatures', () => {
  it.each([4, 16, 256])(
    'a training value is <= threshold b exactly when its bin is <= b (maxBins %i)',
    (maxBins) => {
      const random = createRandom(3);
      const n = 3000;
      const nFeatures = 3;
      const x = new Float64Array(n * nFeatures);
      for (let r = 0; r < n; r++) {
        x[r * 3] = random.next() * 100;
        x[r * 3 + 1] = Math.round(random.next() * 20) / 4; // repeated values
        x[r * 3 + 2] = random.next() < 0.9 ? 0 : random.next(); // one heavy value
      }
      const b = binFeatures(x, n, nFeatures, { maxBins });
      for (let f = 0; f < nFeatures; f++) {
        expect(b.nBins[f]).toBeLessThanOrEqual(maxBins);
        for (let t = 0; t < b.nBins[f]! - 1; t++) {
          const threshold = b.thresholds[f * MAX_BINS + t]!;
          for (let r = 0; r < n; r++) {
            const below = x[r * nFeatures + f]! <= threshold;
            if (below !== b.bins[f * n + r]! <= t) throw new Error(`feature ${f} row ${r} bin edge ${t}`);
          }
        }
      }
    },
  );

  it('a feature with few distinct values gets one bin per value, split at midpoints', () => {
    const x = Float64Array.from([5, 0, 1, 2, 5, 7, 1]);
    const b = binFeatures(x, 7, 1);
    expect(b.nBins[0]).toBe(5);
    expect(Array.from(b.thresholds.subarray(0, 4))).toEqual([0.5, 1.5, 3.5, 6]);
    expect(Array.from(b.bins)).toEqual([3, 0, 1, 2, 3, 4, 1]);
    expect(Array.from(b.binMin.subarray(0, 5))).toEqual([0, 1, 2, 5, 7]);
    expect(Array.from(b.binMax.subarray(0, 5))).toEqual([0, 1, 2, 5, 7]);
  });

  it('a constant feature gets a single bin', () => {
    const b = binFeatures(
      column(50, () => 4.2),
      50,
      1,
    );
    expect(b.nBins[0]).toBe(1);
    expect(b.bins.every((v) => v === 0)).toBe(true);
  });

  it('quantile bins of a continuous feature hold about the same number of rows', () => {
    const random = createRandom(9);
    const n = 16_000;
    const b = binFeatures(
      column(n, () => random.next() ** 3),
      n,
      1,
      { maxBins: 16 },
    );
    expect(b.nBins[0]).toBe(16);
    const counts = new Array<number>(16).fill(0);
    for (const bin of b.bins) counts[bin]!++;
    for (const c of counts) expect(Math.abs(c - n / 16)).toBeLessThan(n / 16 / 10);
  });

  it('edges placed from a row sample still separate every distinct value of a low-cardinality feature', () => {
    // 40 common values and one that occurs once: a 100-row sample almost surely misses it.
    const n = 5000;
    const x = column(n, (i) => (i === 1234 ? 17.5 : (i % 40) * 2));
    const b = binFeatures(x, n, 1, { sampleSize: 100 });
    expect(b.nBins[0]).toBe(41);
    for (let t = 0; t < 41; t++) expect(b.binMin[t]).toBe(b.binMax[t]);
  });

  it('a threshold between adjacent doubles stays below the larger one', () => {
    const a = 1;
    const next = 1 + Number.EPSILON;
    const b = binFeatures(Float64Array.from([a, next, a]), 3, 1);
    expect(b.nBins[0]).toBe(2);
    const t = b.thresholds[0]!;
    expect(a <= t && !(next <= t)).toBe(true);
  });

  it('infinities are ordinary values', () => {
    const b = binFeatures(Float64Array.from([-Infinity, 0, Infinity, 0]), 4, 1);
    expect(Array.from(b.bins)).toEqual([0, 1, 2, 1]);
  });

  it('a large column is ordered like a comparison sort: negatives, -0 and 0, infinities, subnormals', () => {
    // Past a few thousand rows the values are radix-sorted by their bits.
    const random = createRandom(5);
    const pool = [
      -Infinity,
      -1e300,
      -2.5,
      -1,
      -Number.MIN_VALUE,
      -0,
      0,
      Number.MIN_VALUE,
      1e-310,
      0.5,
      3,
      Infinity,
    ];
    for (let i = 0; i < 180; i++) pool.push((random.next() - 0.5) * 10 ** Math.floor(random.next() * 12 - 6));
    const n = 5000;
    const x = column(n, (i) => pool[i % pool.length]!);
    const b = binFeatures(x, n, 1);
    const distinct = Array.from(new Set(pool)).sort((p, q) => p - q);
    expect(b.nBins[0]).toBe(distinct.length);
    const expected = distinct.slice(1).map((v, i) => splitThreshold(distinct[i]!, v));
    expect(Array.from(b.thresholds.subarray(0, distinct.length - 1))).toEqual(expected);
    expect(b.bins[x.indexOf(-0)]).toBe(b.bins[x.indexOf(0)]);
  });

  it('quantile bins of a large column with negative values are ordered and even', () => {
    const random = createRandom(6);
    const n = 10_000;
    const x = column(n, () => (random.next() - 0.7) * 1000);
    const b = binFeatures(x, n, 1);
    expect(b.nBins[0]).toBe(256);
    const sizes = new Int32Array(256);
    for (let r = 0; r < n; r++) sizes[b.bins[r]!]!++;
    for (let t = 0; t < 256; t++) {
      expect(sizes[t]).toBeGreaterThanOrEqual(Math.floor(n / 256));
      expect(sizes[t]).toBeLessThanOrEqual(Math.ceil(n / 256) + 1);
      if (t < 255) expect(b.binMax[t]!).toBeLessThan(b.binMin[t + 1]!);
    }
  });

  it('NaN is rejected with INVALID_ARGUMENT naming the row and feature', () => {
    const x = Float64Array.from([1, 2, 3, Number.NaN]);
    try {
      binFeatures(x, 2, 2);
      expect.unreachable();
    } catch (e) {
      expect(isRegistryError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toMatch(/feature 1 is NaN at row 1/);
    }
  });
});
