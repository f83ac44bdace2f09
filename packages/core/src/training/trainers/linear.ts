import { z } from 'zod';
import { invalidArgument, throwIfAborted } from '../../errors.js';
import { createLinearModel, designMatrix, designWidth, LINEAR_KIND } from '../../formats/linear.js';
import type { LinearInput, LinearModel, LinearModelJson } from '../../formats/linear.js';
import type { FitInput, Trainer } from '../trainer.js';
import { leastSquares, logisticRegression } from './linear-solve.js';

const shape = {
  alpha: z.number().min(0).optional(),
  C: z.number().positive().optional(),
  maxIter: z.number().int().min(1).max(100_000).default(1000),
  tol: z.number().positive().default(1e-8),
  fitIntercept: z.boolean().default(true),
};

/**
 * Params of the `linear` trainer. Regression is least squares, classification L2-penalised logistic
 * regression; both on standardised numeric features and one-hot encoded categories (see
 * `LINEAR_KIND` in formats/linear.ts):
 * - `alpha` (regression, default 0): ridge strength, scikit-learn's `Ridge(alpha)`; 0 is ordinary
 *   least squares (`LinearRegression`; a rank-deficient system gets the minimum-norm solution).
 * - `C` (classification, default 1): inverse regularisation strength as scikit-learn defines it, the
 *   objective being `C · Σ log-loss + ½ ||W||²`. Two classes fit one weight row (logistic), more one
 *   row per class (multinomial, softmax).
 * - `maxIter` (default 1000) and `tol` (default 1e-8): L-BFGS stops once the largest gradient
 *   component of `Σ log-loss + ||W||² / (2C)` is at most `tol` (scikit-learn's `tol` has that meaning
 *   with a default of 1e-4, looser than this).
 * - `fitIntercept` (default true): the intercept is never penalised.
 * `alpha` with a classification target, or `C` with a regression one, is `INVALID_ARGUMENT`.
 */
export const linearParamsSchema = z.strictObject(shape, {
  error: (issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys
          .map((key) => `unknown param "${key}" for linear (known: ${Object.keys(shape).join(', ')})`)
          .join('; ')
      : undefined,
});
export type LinearParams = z.output<typeof linearParamsSchema>;

/**
 * The model's input transforms fitted on the training rows: numeric features standardised with
 * their mean and population standard deviation (1 for a constant column, as scikit-learn's
 * `StandardScaler`), categorical ones one-hot over their codes (categories plus `__missing__`).
 */
export function fitLinearInputs(
  input: Pick<FitInput, 'x' | 'nRows' | 'nFeatures' | 'features'>,
): LinearInput[] {
  const { x, nRows, nFeatures, features } = input;
  const inputs: LinearInput[] = [];
  for (let j = 0; j < nFeatures; j++) {
    const spec = features?.[j];
    if (spec?.type === 'categorical') {
      inputs.push({ type: 'onehot', codes: spec.categories.length + 1 });
      continue;
    }
    let mean = 0;
    for (let i = 0; i < nRows; i++) mean += x[i * nFeatures + j]!;
    mean /= Math.max(1, nRows);
    let variance = 0;
    for (let i = 0; i < nRows; i++) variance += (x[i * nFeatures + j]! - mean) ** 2;
    variance /= Math.max(1, nRows);
    const scale = Math.sqrt(variance);
    inputs.push({ type: 'numeric', mean, scale: scale > 0 && Number.isFinite(scale) ? scale : 1 });
  }
  return inputs;
}

function rows(flat: Float64Array, outputs: number, width: number): number[][] {
  return Array.from({ length: outputs }, (_, k) => Array.from(flat.subarray(k * width, (k + 1) * width)));
}

/** The built-in `linear` trainer; its native model is the linear format (`kind: 'linear'`). */
export const linearTrainer: Trainer<LinearParams> = {
  name: LINEAR_KIND,
  tasks: ['classification', 'regression'],
  paramsSchema: linearParamsSchema,
  fit(input): LinearModel {
    const { params, task, nRows, signal } = input;
    throwIfAborted(signal, 'train');
    if (task === 'classification' && params.alpha !== undefined) {
      throw invalidArgument('param "alpha" applies to regression; use "C" for classification', 'train');
    }
    if (task === 'regression' && params.C !== undefined) {
      throw invalidArgument('param "C" applies to classification; use "alpha" for regression', 'train');
    }
    const inputs = fitLinearInputs(input);
    const width = designWidth(inputs);
    const z = designMatrix(inputs, input.x, nRows);
    let json: LinearModelJson;
    if (task === 'regression') {
      const fit = leastSquares(z, input.y, nRows, width, params.alpha ?? 0, params.fitIntercept);
      json = {
        version: 1,
        task,
        link: 'identity',
        inputs,
        coef: rows(fit.coef, 1, width),
        intercept: Array.from(fit.intercept),
        solver: { method: fit.method, iterations: fit.iterations, converged: fit.converged },
      };
    } else {
      const classes = input.nClasses ?? 2;
      const fit = logisticRegression(z, input.y, nRows, width, classes, {
        C: params.C ?? 1,
        maxIter: params.maxIter,
        tol: params.tol,
        fitIntercept: params.fitIntercept,
        onIteration: (i) => {
          if (i % 10 === 0) throwIfAborted(signal, 'train');
        },
      });
      const outputs = fit.intercept.length;
      json = {
        version: 1,
        task,
        link: classes === 2 ? 'logistic' : 'softmax',
        inputs,
        coef: rows(fit.coef, outputs, width),
        intercept: Array.from(fit.intercept),
        solver: { method: fit.method, iterations: fit.iterations, converged: fit.converged },
      };
      input.onProgress?.({
        fraction: 1,
        message: `L-BFGS ${fit.converged ? 'converged' : 'stopped at maxIter'} after ${fit.iterations} iterations`,
      });
    }
    return createLinearModel(json);
  },
  load: (json) => createLinearModel(json),
};
