import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isTreeEnsembleModel } from '../../src/formats/native/native-model.js';
import { exportWithParity, REGRESSION_TOLERANCE } from '../../src/formats/onnx/parity.js';
import type { ParityReport } from '../../src/formats/onnx/parity.js';
import { fitModel } from '../../src/training/fit.js';
import type { Trainer } from '../../src/training/trainer.js';
import { decisionTreeTrainer, randomForestTrainer } from '../../src/training/trainers/index.js';
import type { DataTable } from '../../src/domain/table.js';
import { friedman } from '../native-trees/helpers.js';
import { tableFromCsv, tableFromRows, targetOf } from '../training/helpers.js';
import { rowsNearThresholds } from './fixtures.js';

const fixture = (name: string): DataTable =>
  tableFromCsv(
    readFileSync(fileURLToPath(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url)), 'utf8'),
  );

function syntheticRegression(): DataTable {
  const d = friedman(1200, 6, 21);
  return tableFromRows(
    Array.from({ length: d.nRows }, (_, r) => ({
      ...Object.fromEntries(Array.from({ length: 6 }, (_, f) => [`x${f}`, d.x[r * 6 + f]!])),
      y: d.y[r]!,
    })),
  );
}

const datasets: Record<string, () => DataTable> = {
  iris: () => fixture('iris'),
  wine: () => fixture('wine'),
  breast_cancer: () => fixture('breast_cancer'),
  diabetes: () => fixture('diabetes'),
  friedman_1200x6: syntheticRegression,
};

const engines: [Trainer, Record<string, unknown>][] = [
  [randomForestTrainer, { engine: 'native', nEstimators: 25 }],
  [randomForestTrainer, { engine: 'ml-random-forest', nEstimators: 15 }],
  [decisionTreeTrainer, { engine: 'native' }],
  [decisionTreeTrainer, { engine: 'ml-cart' }],
];

const summary: string[] = [];
afterAll(() => console.log(`ONNX vs native (test rows + 400 rows near thresholds):\n${summary.join('\n')}`));

describe('ONNX export parity on real and synthetic datasets, every engine', () => {
  for (const [name, load] of Object.entries(datasets)) {
    for (const [trainer, params] of engines) {
      it(`${name}: ${trainer.name} (${String(params.engine)})`, async () => {
        const table = load();
        const fit = await fitModel({ table, target: targetOf(table), trainer, params, split: { seed: 11 } });
        if (!isTreeEnsembleModel(fit.model)) throw new Error('expected a tree ensemble');
        const ensemble = fit.model.ensemble;
        const near = rowsNearThresholds(ensemble, 400, 5);
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
        if (ensemble.task === 'regression') {
          let min = Infinity;
          let max = -Infinity;
          for (const v of fit.testSet.y) [min, max] = [Math.min(min, v), Math.max(max, v)];
          expect(report.maxAbsDiff!).toBeLessThanOrEqual(
            REGRESSION_TOLERANCE * Math.max(max - min, Math.abs(max)),
          );
        } else {
          expect(report.mismatches).toBe(0);
          expect(report.nearTies!).toBeLessThan(nRows / 4);
        }
        summary.push(`  ${name} ${trainer.name}/${String(params.engine)}: ${reportLine(report)}`);
      });
    }
  }
});

function reportLine(report: ParityReport): string {
  return report.maxAbsDiff !== undefined
    ? `${report.rows} rows, max |diff| ${report.maxAbsDiff.toExponential(2)} (allowed ${report.allowed!.toExponential(2)})`
    : `${report.rows} rows, ${report.mismatches} label mismatches, ${report.nearTies} near-ties not compared`;
}
