import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTreeEnsembleModel } from '../../src/formats/native/native-model.js';
import { exportWithParity } from '../../src/formats/onnx/parity.js';
import { createOnnxPredictor } from '../../src/formats/onnx/session.js';
import { predictEnsemble } from '../../src/formats/tree-ensemble.js';
import { fitModel } from '../../src/training/fit.js';
import { fitBoosting } from '../../src/training/native/boosting.js';
import { gradientBoostingTrainer } from '../../src/training/trainers/index.js';
import type { DataTable } from '../../src/domain/table.js';
import { tableFromCsv, targetOf } from '../training/helpers.js';
import { rowsNearThresholds } from './fixtures.js';

const fixture = (name: string): DataTable =>
  tableFromCsv(
    readFileSync(fileURLToPath(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url)), 'utf8'),
  );

// iris and wine: softmax (3 classes); breast_cancer: logistic, and softmax over its 2 classes; diabetes: squared error.
const cases: [string, Record<string, unknown>][] = [
  ['iris', {}],
  ['wine', {}],
  ['breast_cancer', {}],
  ['breast_cancer', { objective: 'softmax' }],
  ['diabetes', {}],
];

describe('ONNX export parity of gradient boosting on the shared datasets', () => {
  for (const [name, extra] of cases) {
    it(`${name} ${JSON.stringify(extra)}`, async () => {
      const table = fixture(name);
      const params = { nEstimators: 12, maxDepth: 4, ...extra };
      const fit = await fitModel({
        table,
        target: targetOf(table),
        trainer: gradientBoostingTrainer,
        params,
        split: { seed: 11 },
      });
      if (!isTreeEnsembleModel(fit.model)) throw new Error('expected a tree ensemble');
      const ensemble = fit.model.ensemble;
      expect(ensemble.boost).toBeDefined();
      const near = rowsNearThresholds(ensemble, 200, 5);
      const x = new Float64Array(fit.testSet.x.length + near.length);
      x.set(fit.testSet.x);
      x.set(near, fit.testSet.x.length);
      const nRows = x.length / ensemble.nFeatures;
      // Throws INTEGRITY when a label differs (near-ties excluded) or a value is off by more than allowed.
      const { report } = await exportWithParity(ensemble, {
        ...(fit.manifest.classes ? { classes: fit.manifest.classes } : {}),
        x,
        nRows,
        y: fit.testSet.y,
      });
      expect(report.rows).toBe(nRows);
      if (ensemble.task === 'classification') expect(report.mismatches).toBe(0);
    });
  }

  it('probabilities match too (logistic and softmax), and missing values take the learned direction', async () => {
    const n = 600;
    const x = new Float64Array(n * 3);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const a = ((r * 7919) % 1000) / 1000;
      const b = ((r * 104729) % 997) / 997;
      x[3 * r] = r % 4 === 0 ? NaN : a;
      x[3 * r + 1] = b;
      x[3 * r + 2] = r % 7 === 0 ? NaN : (r % 13) / 13;
      y[r] = r % 4 === 0 ? 2 : a + 0.3 * b > 0.6 ? 1 : 0;
    }
    for (const [k, labels] of [
      [2, y.map((v) => (v === 2 ? 0 : v))],
      [3, y],
    ] as const) {
      const { ensemble } = await fitBoosting({
        x,
        nRows: n,
        nFeatures: 3,
        y: labels,
        task: 'classification',
        nClasses: k,
        params: { nEstimators: 10, maxDepth: 3 },
      });
      expect(ensemble.trees.some((t) => t.missingLeft?.includes(1))).toBe(true);
      const { bytes } = await exportWithParity(ensemble, { x, nRows: n, y: labels });
      const predictor = await createOnnxPredictor(bytes);
      try {
        const x32 = Float32Array.from(x);
        const { proba: probabilities } = await predictor.predictClassification(x32, n, 3);
        const native = predictEnsemble(ensemble, x32, n);
        let maxDiff = 0;
        for (let i = 0; i < native.length; i++)
          maxDiff = Math.max(maxDiff, Math.abs(native[i]! - probabilities![i]!));
        expect(maxDiff).toBeLessThan(1e-5);
      } finally {
        await predictor.release();
      }
    }
  });
});
