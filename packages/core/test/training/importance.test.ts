import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitModel } from '../../src/training/fit.js';
import { permutationImportance } from '../../src/training/importance.js';
import { randomForestTrainer } from '../../src/training/trainers/index.js';
import { tableFromCsv, tableFromRows } from './helpers.js';

describe('feature importance', () => {
  it('a forest stores impurity-decrease gain and permutation importance on the test split in MODEL.json', async () => {
    const table = tableFromCsv(
      readFileSync(fileURLToPath(new URL('../fixtures/datasets/iris.csv', import.meta.url)), 'utf8'),
    );
    const fit = await fitModel({
      table,
      target: 'species',
      trainer: randomForestTrainer,
      params: { nEstimators: 8 },
      split: { seed: 5 },
    });
    const { gain, permutation } = fit.manifest.importance!;
    expect(gain!.method).toBe('impurity-decrease');
    const values = gain!.values;
    expect(Object.values(values).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(values.petal_length_cm! + values.petal_width_cm!).toBeGreaterThan(0.5);
    expect(permutation).toMatchObject({ metric: 'accuracy', rows: 30, repeats: 3 });
    expect(permutation!.baseline).toBe(fit.metrics.accuracy);
  });

  it('permutation importance needs only a predict function: a feature the model ignores scores 0', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ a: (i * 7) % 13, b: (i * 5) % 11 }));
    const table = tableFromRows(rows);
    const x = Float64Array.from(rows.flatMap((r) => [r.a, r.b]));
    const y = Float64Array.from(rows, (r) => 3 * r.a);
    const result = permutationImportance({
      predict: (m, n) => Float64Array.from({ length: n }, (_, i) => 3 * m[i * 2]!),
      x,
      y,
      nRows: table.rowCount,
      nFeatures: 2,
      task: 'regression',
      seed: 1,
    });
    expect(result.baseline).toBe(1);
    expect(result.mean[0]!).toBeGreaterThan(1);
    expect(result.mean[1]).toBe(0);
    expect(result.std[1]).toBe(0);
  });
});
