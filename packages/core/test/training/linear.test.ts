import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DataTable } from '../../src/domain/table.js';
import { createLinearModel, isLinearModel } from '../../src/formats/linear.js';
import { loadNativeModel, toNativeModelFile } from '../../src/formats/native/native-model.js';
import { exportLinearWithParity } from '../../src/formats/onnx/parity.js';
import { exportLinearToOnnx } from '../../src/formats/onnx/export-linear.js';
import { createOnnxPredictor } from '../../src/formats/onnx/session.js';
import { fitModel } from '../../src/training/fit.js';
import { linearTrainer } from '../../src/training/trainers/linear.js';
import { tableFromCsv, tableFromRows, targetOf } from './helpers.js';

const fixture = (name: string): DataTable =>
  tableFromCsv(
    readFileSync(fileURLToPath(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url)), 'utf8'),
  );

async function fitLinear(table: DataTable, params: Record<string, unknown> = {}, target = targetOf(table)) {
  const fit = await fitModel({ table, target, trainer: linearTrainer, params, split: { seed: 3 } });
  if (!isLinearModel(fit.model)) throw new Error('expected a linear model');
  return { fit, linear: fit.model.linear };
}

/** A table with a categorical feature whose effect is known: y = 2 x + {a: 0, b: 5, c: -3} (+ missing). */
function mixedTable(n = 240): DataTable {
  const shift: Record<string, number> = { a: 0, b: 5, c: -3 };
  return tableFromRows(
    Array.from({ length: n }, (_, i) => {
      const color = i % 17 === 0 ? null : (['a', 'b', 'c'] as const)[i % 3]!;
      const x = ((i * 37) % 101) / 10;
      return { x, color, y: 2 * x + (color ? shift[color]! : 1) + 0.01 * Math.sin(i) };
    }),
  );
}

describe('linear trainer', () => {
  it('ordinary least squares recovers the coefficients of a linear target, the categories one-hot encoded', async () => {
    const { fit, linear } = await fitLinear(mixedTable());
    expect(linear.link).toBe('identity');
    expect(linear.inputs.map((i) => i.type)).toEqual(['numeric', 'onehot']);
    const xInput = linear.inputs[0]!;
    if (xInput.type !== 'numeric') throw new Error('x is numeric');
    // Standardised scale: the raw slope 2 is coef / scale.
    expect(linear.coef[0]![0]! / xInput.scale).toBeCloseTo(2, 2);
    // One-hot columns a, b, c, __missing__: differences between categories are what is identified.
    const [a, b, c, missing] = linear.coef[0]!.slice(1);
    expect(b! - a!).toBeCloseTo(5, 1);
    expect(c! - a!).toBeCloseTo(-3, 1);
    expect(missing! - a!).toBeCloseTo(1, 1);
    expect(fit.metrics.r2).toBeGreaterThan(0.999);
    expect(fit.manifest.trainer).toEqual({
      name: 'linear',
      params: { maxIter: 1000, tol: 1e-8, fitIntercept: true },
    });
  });

  it('ridge shrinks the coefficients as alpha grows; alpha with a class target and C with a numeric one are refused', async () => {
    const table = fixture('diabetes');
    const norm = (coef: number[]) => Math.hypot(...coef);
    const ols = (await fitLinear(table)).linear;
    const ridge = (await fitLinear(table, { alpha: 50 })).linear;
    expect(norm(ridge.coef[0]!)).toBeLessThan(norm(ols.coef[0]!));
    await expect(fitLinear(table, { C: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('"C" applies to classification'),
    });
    await expect(fitLinear(fixture('iris'), { alpha: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('"alpha" applies to regression'),
    });
    await expect(fitLinear(table, { n_estimators: 3 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('unknown param "n_estimators" for linear (known: alpha, C,'),
    });
  });

  it('logistic regression: one row for two classes, one row per class for more; the native file reads back equal', async () => {
    const binary = await fitLinear(fixture('breast_cancer'));
    expect(binary.linear.link).toBe('logistic');
    expect(binary.linear.coef).toHaveLength(1);
    expect(binary.linear.solver?.converged).toBe(true);
    expect(binary.fit.metrics.accuracy).toBeGreaterThan(0.93);
    const multi = await fitLinear(fixture('iris'), { C: 0.5 });
    expect(multi.linear.link).toBe('softmax');
    expect(multi.linear.coef).toHaveLength(3);
    // Smaller C, stronger penalty, smaller weights.
    const strong = await fitLinear(fixture('iris'), { C: 0.01 });
    const size = (c: number[][]) => Math.hypot(...c.flat());
    expect(size(strong.linear.coef)).toBeLessThan(size(multi.linear.coef));

    const file = JSON.parse(JSON.stringify(toNativeModelFile(multi.fit.model)));
    const loaded = loadNativeModel(file);
    const { x, nRows } = multi.fit.testSet;
    expect(Array.from(loaded.predictProba!(x, nRows))).toEqual(
      Array.from(multi.fit.model.predictProba!(x, nRows)),
    );
    expect(() => createLinearModel({ ...multi.linear, coef: multi.linear.coef.map(() => [1]) })).toThrow(
      /design width/,
    );
  });
});

describe('linear ONNX export parity on the shared datasets', () => {
  for (const name of ['iris', 'wine', 'breast_cancer', 'diabetes']) {
    it(name, async () => {
      const { fit, linear } = await fitLinear(fixture(name));
      const { x, y, nRows } = fit.testSet;
      // Throws INTEGRITY when a label differs (near-ties excluded) or a value is off by more than allowed.
      const { report } = await exportLinearWithParity(linear, {
        ...(fit.manifest.classes ? { classes: fit.manifest.classes } : {}),
        x,
        y,
        nRows,
      });
      expect(report.rows).toBe(nRows);
      if (linear.task === 'regression') expect(report.maxAbsDiff!).toBeLessThan(1e-3);
      else expect(report.mismatches).toBe(0);
    });
  }

  it('categorical inputs go through OneHotEncoder; the label output and the probabilities agree with the native model', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => {
      const shape = (['round', 'square', 'star'] as const)[i % 3]!;
      const v = ((i * 53) % 97) / 9;
      return {
        shape: i % 23 === 0 ? null : shape,
        v,
        kind: v + (shape === 'star' ? 4 : 0) > 6 ? 'hi' : 'lo',
      };
    });
    const { fit, linear } = await fitLinear(tableFromRows(rows), {}, 'kind');
    expect(linear.inputs.map((i) => i.type)).toEqual(['onehot', 'numeric']);
    const { bytes } = exportLinearToOnnx(linear, { classes: ['hi', 'lo'] });
    const predictor = await createOnnxPredictor(bytes, { classes: ['hi', 'lo'], useLabelOutput: true });
    try {
      const { x, nRows } = fit.testSet;
      const native = fit.model.predictProba!(x, nRows);
      const onnx = await predictor.predictClassification(Float32Array.from(x), nRows, 2);
      expect(Array.from(onnx.labelIndex)).toEqual(Array.from(fit.model.predict(x, nRows)));
      for (let i = 0; i < native.length; i++) expect(onnx.proba![i]!).toBeCloseTo(native[i]!, 5);
    } finally {
      await predictor.release();
    }
  });
});
