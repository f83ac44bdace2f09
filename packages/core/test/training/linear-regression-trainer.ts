import { z } from 'zod';
import type { NativeModel, Trainer } from '../../src/training/trainer.js';

/**
 * An example user trainer: ordinary least squares with an intercept, solved from the normal
 * equations (X'X + ridge I) w = X'y with a tiny ridge so collinear features still solve.
 */
export const linearParamsSchema = z.object({ ridge: z.number().nonnegative().default(1e-8) }).strict();
export type LinearParams = z.output<typeof linearParamsSchema>;

interface LinearJson {
  weights: number[];
  intercept: number;
}

function linearModel(json: LinearJson): NativeModel {
  const { weights, intercept } = json;
  return {
    kind: 'linear-regression',
    toJSON: () => ({ weights: [...weights], intercept }),
    predict(x, nRows) {
      const p = weights.length;
      const out = new Float64Array(nRows);
      for (let i = 0; i < nRows; i++) {
        let s = intercept;
        for (let j = 0; j < p; j++) s += weights[j]! * x[i * p + j]!;
        out[i] = s;
      }
      return out;
    },
  };
}

/** Solves A w = b (A is p x p, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: Float64Array, p: number): Float64Array {
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r * p + c]!) > Math.abs(a[pivot * p + c]!)) pivot = r;
    for (let k = 0; k < p; k++) [a[c * p + k], a[pivot * p + k]] = [a[pivot * p + k]!, a[c * p + k]!];
    [b[c], b[pivot]] = [b[pivot]!, b[c]!];
    for (let r = c + 1; r < p; r++) {
      const f = a[r * p + c]! / a[c * p + c]!;
      for (let k = c; k < p; k++) a[r * p + k]! -= f * a[c * p + k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const w = new Float64Array(p);
  for (let c = p - 1; c >= 0; c--) {
    let s = b[c]!;
    for (let k = c + 1; k < p; k++) s -= a[c * p + k]! * w[k]!;
    w[c] = s / a[c * p + c]!;
  }
  return w;
}

export const linearRegressionTrainer: Trainer<LinearParams> = {
  name: 'linear-regression',
  tasks: ['regression'],
  paramsSchema: linearParamsSchema,
  fit({ x, y, nRows, nFeatures, params }) {
    const p = nFeatures + 1; // column 0 is the intercept
    const a = new Float64Array(p * p);
    const b = new Float64Array(p);
    const row = new Float64Array(p);
    for (let i = 0; i < nRows; i++) {
      row[0] = 1;
      for (let j = 0; j < nFeatures; j++) row[j + 1] = x[i * nFeatures + j]!;
      for (let r = 0; r < p; r++) {
        b[r]! += row[r]! * y[i]!;
        for (let c = 0; c < p; c++) a[r * p + c]! += row[r]! * row[c]!;
      }
    }
    for (let r = 1; r < p; r++) a[r * p + r]! += params.ridge * nRows;
    const w = solve(a, b, p);
    return linearModel({ intercept: w[0]!, weights: Array.from(w.subarray(1)) });
  },
  load(json) {
    const parsed = z.object({ weights: z.array(z.number()), intercept: z.number() }).parse(json);
    return linearModel(parsed);
  },
};
