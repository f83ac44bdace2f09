import { describe, expect, it } from 'vitest';
import { predictEnsemble } from '../../src/formats/tree-ensemble.js';
import type { TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { fitForest } from '../../src/training/native/index.js';
import { predictEnsembleFast, previousDouble } from '../../src/formats/native/fast-predict.js';
import { friedman, threeClasses } from './helpers.js';

/** Rows that hit thresholds exactly, plus infinities and NaN, plus ordinary rows. */
function probeRows(model: TreeEnsemble, base: Float64Array, nBase: number): { x: Float64Array; n: number } {
  const F = model.nFeatures;
  const rows: number[] = Array.from(base.subarray(0, nBase * F));
  const t = model.trees[0]!;
  for (let i = 0; i < t.feature.length; i++) {
    const f = t.feature[i]!;
    if (f < 0) continue;
    for (const v of [t.threshold[i]!, previousDouble(t.threshold[i]!), Infinity, -Infinity, Number.NaN]) {
      const row = Array.from(base.subarray(0, F));
      row[f] = v;
      rows.push(...row);
    }
  }
  return { x: Float64Array.from(rows), n: rows.length / F };
}

function expectSameBits(a: Float64Array, b: Float64Array): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) throw new Error(`value ${i}: ${a[i]} vs ${b[i]}`);
}

describe('predictEnsembleFast', () => {
  it('gives predictEnsemble values bit for bit, for regression and classification, leq and lt', async () => {
    const reg = friedman(600, 5, 1);
    const cls = threeClasses(600, 5, 1);
    const models = [
      await fitForest({ ...reg, task: 'regression', params: { nEstimators: 7, maxDepth: 6 }, seed: 2 }),
      await fitForest({ ...cls, task: 'classification', params: { nEstimators: 5 }, seed: 2 }),
    ];
    for (const model of models) {
      for (const mode of ['leq', 'lt'] as const) {
        const m = { ...model, mode };
        const { x, n } = probeRows(m, reg.x, 103);
        const all = predictEnsemble(m, x, n);
        expectSameBits(predictEnsembleFast(m, x, n), all);
        // One row at a time (the single-row walk, four trees at once): the same bits.
        const k = m.nOutputs;
        const F = m.nFeatures;
        for (let i = 0; i < n; i++)
          expectSameBits(
            predictEnsembleFast(m, x.subarray(i * F, (i + 1) * F), 1),
            all.subarray(i * k, (i + 1) * k),
          );
      }
    }
  });

  it('handles a tree that is a single leaf', () => {
    const model: TreeEnsemble = {
      task: 'regression',
      nFeatures: 1,
      nOutputs: 1,
      mode: 'leq',
      trees: [
        {
          feature: Int32Array.of(-1),
          threshold: Float64Array.of(0),
          left: Int32Array.of(-1),
          right: Int32Array.of(-1),
          value: Float64Array.of(2.5),
        },
      ],
    };
    expect(Array.from(predictEnsembleFast(model, Float64Array.of(1, 2, 3), 3))).toEqual([2.5, 2.5, 2.5]);
  });

  it('previousDouble turns a strict test into a non-strict one', () => {
    for (const t of [1, -1, 0, -0, 0.1, 1e-320, -1e308, Infinity, Number.MAX_VALUE, -Number.MIN_VALUE]) {
      const p = previousDouble(t);
      for (const x of [t, p, -Infinity, Infinity, 0, -0, Number.NaN, 1, -1, 0.1, 1e-320]) {
        expect(x <= p).toBe(x < t);
      }
    }
    expect(Number.isNaN(previousDouble(-Infinity))).toBe(true);
  });
});
