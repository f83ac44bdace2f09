import { invalidArgument } from '../errors.js';

/** Probabilities are clipped to [EPS, 1 - EPS] in log loss, as scikit-learn does. */
export const LOG_LOSS_EPS = 1e-15;

function checkLengths(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) {
    throw invalidArgument(`metric inputs differ in length (${yTrue.length} vs ${yPred.length})`, 'metrics');
  }
  if (yTrue.length === 0) throw invalidArgument('metrics need at least one row', 'metrics');
}

/** Coefficient of determination. A constant `yTrue` gives 1 for a perfect prediction, else 0 (as scikit-learn). */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i]!;
  mean /= yTrue.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    ssRes += (yTrue[i]! - yPred[i]!) ** 2;
    ssTot += (yTrue[i]! - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i]! - yPred[i]!) ** 2;
  return Math.sqrt(s / yTrue.length);
}

export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i]! - yPred[i]!);
  return s / yTrue.length;
}

/** Share of rows whose predicted class index equals the true one. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** `matrix[t][p]`: rows with true class `t` predicted as `p`, for class indices `0..nClasses-1`. */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  nClasses: number,
): number[][] {
  checkLengths(yTrue, yPred);
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const row = m[yTrue[i]!];
    const p = yPred[i]!;
    if (!row || p < 0 || p >= nClasses)
      throw invalidArgument(`class index out of range at row ${i}`, 'metrics');
    row[p]!++;
  }
  return m;
}

/**
 * Unweighted mean of the per-class F1 over the classes that occur in `yTrue` or `yPred` (as
 * scikit-learn's `f1_score(average='macro')`); a class with no true positives has F1 0.
 */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses: number): number {
  const m = confusionMatrix(yTrue, yPred, nClasses);
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < nClasses; c++) {
    const tp = m[c]![c]!;
    let actual = 0;
    let predicted = 0;
    for (let k = 0; k < nClasses; k++) {
      actual += m[c]![k]!;
      predicted += m[k]![c]!;
    }
    if (actual === 0 && predicted === 0) continue;
    counted++;
    sum += tp === 0 ? 0 : (2 * tp) / (actual + predicted);
  }
  return counted === 0 ? 0 : sum / counted;
}

/** Mean negative log-likelihood of the true class; `proba` is `n * nClasses` row-major. */
export function logLoss(yTrue: ArrayLike<number>, proba: ArrayLike<number>, nClasses: number): number {
  if (proba.length !== yTrue.length * nClasses) {
    throw invalidArgument(
      `log loss needs ${yTrue.length} x ${nClasses} probabilities, got ${proba.length}`,
      'metrics',
    );
  }
  if (yTrue.length === 0) throw invalidArgument('metrics need at least one row', 'metrics');
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = proba[i * nClasses + yTrue[i]!]!;
    s -= Math.log(Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
  }
  return s / yTrue.length;
}

/** The metrics `registry.train` logs: `r2`, `rmse`, `mae` for regression. */
export function regressionMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
): Record<string, number> {
  return { r2: r2Score(yTrue, yPred), rmse: rmse(yTrue, yPred), mae: mae(yTrue, yPred) };
}

/** `accuracy`, `f1_macro` and, when probabilities are given, `log_loss`. */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  nClasses: number,
  proba?: ArrayLike<number>,
): Record<string, number> {
  const metrics: Record<string, number> = {
    accuracy: accuracy(yTrue, yPred),
    f1_macro: macroF1(yTrue, yPred, nClasses),
  };
  if (proba) metrics.log_loss = logLoss(yTrue, proba, nClasses);
  return metrics;
}
