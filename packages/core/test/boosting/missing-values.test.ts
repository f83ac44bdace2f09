import { describe, expect, it } from 'vitest';
import { paritySample } from '../../src/registry/train-compute.js';
import { openMemoryRegistry } from '../registry/helpers.js';

/**
 * A regression dataset where missingness carries the answer: y is 0 for x0 < 400 and 10 for
 * x0 >= 600, and a missing x0 means y = 0. Most present x0 values are high, so the training median
 * of x0 (about 760) lies on the y = 10 side: a median fill would predict 10 for a missing x0, while
 * a learned default direction sends it with the low values (about 0). x1 is noise.
 */
function missingDataset(nRows: number): { csv: string; medianX0: number } {
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const lines = ['x0,x1,y'];
  const present: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const x1 = Math.round(next() * 1000) / 10;
    if (r % 4 === 0) {
      lines.push(`,${x1},0`);
      continue;
    }
    const high = next() < 0.7;
    const x0 = Math.round((high ? 600 + next() * 400 : next() * 400) * 10) / 10;
    present.push(x0);
    lines.push(`${x0},${x1},${high ? 10 : 0}`);
  }
  present.sort((a, b) => a - b);
  return { csv: lines.join('\n') + '\n', medianX0: present[present.length >> 1]! };
}

describe('gradient-boosting with missing numeric cells through registry.train', () => {
  it('keeps missing cells as NaN, follows the learned direction in native, ONNX, LoadedModel and registry.predict', async () => {
    const registry = await openMemoryRegistry();
    // 6,000 rows: 1,200 test rows, all in the parity check; 300 of them have a missing x0.
    const { csv, medianX0 } = missingDataset(6000);
    await registry.datasets.upload('gaps.csv', Buffer.from(csv));
    const params = { nEstimators: 40, maxDepth: 3, learningRate: 0.3 };
    const result = await registry.train({
      experiment: 'gaps',
      dataset: 'gaps',
      target: 'y',
      task: 'regression',
      model: { type: 'gradient-boosting', params },
      split: { testSize: 0.2, seed: 7 },
      register: { name: 'gaps_gb' },
    });
    // With the learned direction the missing rows are predicted right, so the fit is near perfect.
    expect(result.metrics.r2).toBeGreaterThan(0.99);
    const parity = JSON.parse(result.run.tags['modelreg.onnx.parity']!) as {
      rows: number;
      maxAbsDiff: number;
      allowed: number;
    };
    expect(parity.rows).toBe(1200);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(parity.allowed);

    const native = await registry.load('models:/gaps_gb/1', { format: 'native' });
    const onnx = await registry.load('models:/gaps_gb/1');
    expect(onnx.format).toBe('onnx');
    // No median is recorded or used: missing x0 and x1 stay NaN.
    expect(native.manifest.features).toEqual([
      { name: 'x0', type: 'number', fill: null },
      { name: 'x1', type: 'number', fill: null },
    ]);

    const missingRow = { x0: null, x1: 50 };
    const medianRow = { x0: medianX0, x1: 50 };
    const rows = [missingRow, medianRow, { x0: 100, x1: 20 }, { x0: 900, x1: 80 }];
    const fromNative = (await native.predict(rows)) as number[];
    const fromOnnx = (await onnx.predict(rows)) as number[];
    const fromRegistry = (await registry.predict('models:/gaps_gb/1', rows)) as number[];
    // The missing row follows the learned direction (with the low values), not the median's side.
    expect(fromNative[0]!).toBeLessThan(1);
    expect(fromNative[1]!).toBeGreaterThan(9);
    expect(fromNative[2]!).toBeLessThan(1);
    expect(fromNative[3]!).toBeGreaterThan(9);
    for (let i = 0; i < rows.length; i++) {
      expect(fromOnnx[i]!).toBeCloseTo(fromNative[i]!, 4);
      expect(fromRegistry[i]!).toBeCloseTo(fromNative[i]!, 4);
    }
    // Every form of a missing value gives the same answer: null, NaN, a missing marker, an empty CSV cell, a matrix null.
    const forms = [
      ...((await native.predict([
        { x0: Number.NaN, x1: 50 },
        { x0: 'NA', x1: '50' },
      ])) as number[]),
      ...((await native.predict({ csv: 'x0,x1\n,50\n' })) as number[]),
      ...((await native.predict([[null, 50]])) as number[]),
      ...((await onnx.predict([[Number.NaN, 50]])) as number[]),
    ];
    for (const v of forms) expect(v).toBeCloseTo(fromNative[0]!, 4);

    // Median filling (random-forest, unchanged) records the median and imputes it.
    await registry.train({
      experiment: 'gaps',
      dataset: 'gaps',
      target: 'y',
      task: 'regression',
      model: { type: 'random-forest', params: { nEstimators: 10, maxDepth: 4 } },
      split: { testSize: 0.2, seed: 7 },
      register: { name: 'gaps_rf' },
    });
    const forestModel = await registry.load('models:/gaps_rf/1', { format: 'native' });
    const fill = forestModel.manifest.features[0]!.fill;
    expect(typeof fill).toBe('number');
    expect(fill!).toBeGreaterThan(600);
    // The forest sees a missing x0 as the median itself: the same answer as x0 = fill, batch or single row.
    const forestRows = [missingRow, { x0: fill, x1: 50 }];
    const [asMissing, asFill] = (await forestModel.predict(forestRows)) as number[];
    expect(asMissing).toBe(asFill);
    expect((await forestModel.predict([missingRow]))[0]).toBe(asFill);
  });
});

describe('paritySample', () => {
  it('keeps rows with missing cells in a sample of a large test split', () => {
    // 10,000 rows x 2 features; every 50th row (200 rows) has a NaN.
    const n = 10_000;
    const x = new Float64Array(2 * n);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      x[2 * r] = r % 50 === 0 ? Number.NaN : r;
      x[2 * r + 1] = -r;
      y[r] = r;
    }
    const sample = paritySample(x, y, n, 2, 1000);
    expect(sample.nRows).toBe(1000);
    let missing = 0;
    for (let i = 0; i < sample.nRows; i++) {
      const r = sample.y[i]!;
      expect(sample.x[2 * i + 1]).toBe(-r);
      if (Number.isNaN(sample.x[2 * i]!)) missing++;
      if (i > 0) expect(r).toBeGreaterThan(sample.y[i - 1]!);
    }
    // All 200 missing rows (fewer than half the sample), the rest evenly from the complete rows.
    expect(missing).toBe(200);
    // Without missing values the sample is the evenly spaced one.
    const full = Float64Array.from(x, (v, j) => (Number.isNaN(v) ? j : v));
    const even = paritySample(full, y, n, 2, 1000);
    expect(Array.from(even.y.subarray(0, 3))).toEqual([0, 10, 20]);
  });
});
