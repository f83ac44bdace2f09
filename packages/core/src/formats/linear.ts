import { z } from 'zod';
import { parseInput } from '../domain/parse.js';
import { RegistryError, invalidArgument } from '../errors.js';
import type { NativeModel, Task } from './model.js';
import { argmaxRows } from './tree-ensemble.js';

/**
 * The linear model format (`kind: 'linear'`), written by the `linear` trainer and loadable without it.
 *
 * A row of encoded features (see `FeatureSpec`) becomes the design row `z` in two blocks:
 * 1. every numeric input (number, integer, datetime, boolean) standardised, `(x - mean) / scale`,
 *    in input order;
 * 2. then every categorical input one-hot encoded over its codes `0..codes-1` (the last code is the
 *    `__missing__` one), in input order. A code outside that range gives all zeros.
 *
 * Scores are `coef · z + intercept`, one row of `coef` per output. `link`:
 * - `identity` (regression, one output): the prediction is the score;
 * - `logistic` (two classes, one output): `p(class 1) = 1 / (1 + exp(-score))`;
 * - `softmax` (three or more classes, one output per class): `p = softmax(scores)`.
 * The label is the argmax of the probabilities (lowest class index on ties).
 */
export const LINEAR_KIND = 'linear';

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const linearInputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('numeric'), mean: finite, scale: finite.refine((v) => v > 0, 'must be > 0') }),
  z.object({ type: z.literal('onehot'), codes: z.number().int().min(1) }),
]);
export type LinearInput = z.infer<typeof linearInputSchema>;

export const linearModelJsonSchema = z
  .object({
    version: z.literal(1),
    task: z.enum(['classification', 'regression']),
    link: z.enum(['identity', 'logistic', 'softmax']),
    /** One entry per model input feature, in input order. */
    inputs: z.array(linearInputSchema).min(1),
    /** `nOutputs` rows of `width` coefficients, in design-row order (numeric block, then one-hot blocks). */
    coef: z.array(z.array(finite)).min(1),
    intercept: z.array(finite).min(1),
    /** How the coefficients were found (informative). */
    solver: z
      .object({
        method: z.enum(['cholesky', 'eigen', 'lbfgs']),
        iterations: z.number().int().nonnegative(),
        converged: z.boolean(),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const width = designWidth(m.inputs);
    const outputs = m.coef.length;
    if (m.intercept.length !== outputs)
      ctx.addIssue({ code: 'custom', message: 'one intercept per coef row' });
    if (m.coef.some((row) => row.length !== width)) {
      ctx.addIssue({
        code: 'custom',
        message: `every coef row must hold ${width} values (the design width)`,
      });
    }
    const expected = m.link === 'identity' || m.link === 'logistic' ? 1 : undefined;
    if (expected !== undefined && outputs !== expected) {
      ctx.addIssue({ code: 'custom', message: `link "${m.link}" has one coef row` });
    }
    if (m.link === 'softmax' && outputs < 3)
      ctx.addIssue({ code: 'custom', message: 'softmax needs 3+ rows' });
    if ((m.task === 'regression') !== (m.link === 'identity')) {
      ctx.addIssue({
        code: 'custom',
        message: 'regression uses the identity link, classification the others',
      });
    }
  });
export type LinearModelJson = z.infer<typeof linearModelJsonSchema>;

/** Columns of the design row. */
export function designWidth(inputs: readonly LinearInput[]): number {
  let width = 0;
  for (const input of inputs) width += input.type === 'numeric' ? 1 : input.codes;
  return width;
}

/** Where each input lands in the design row: a column (numeric) or the first column of its block. */
export function designOffsets(inputs: readonly LinearInput[]): Int32Array {
  const offsets = new Int32Array(inputs.length);
  let at = 0;
  inputs.forEach((input, j) => {
    if (input.type === 'numeric') offsets[j] = at++;
  });
  inputs.forEach((input, j) => {
    if (input.type === 'onehot') {
      offsets[j] = at;
      at += input.codes;
    }
  });
  return offsets;
}

/** The design matrix (`nRows × designWidth`, row-major) of encoded rows. */
export function designMatrix(inputs: readonly LinearInput[], x: Float64Array, nRows: number): Float64Array {
  const nFeatures = inputs.length;
  const width = designWidth(inputs);
  const offsets = designOffsets(inputs);
  const z = new Float64Array(nRows * width);
  for (let r = 0; r < nRows; r++) {
    const row = r * nFeatures;
    const out = r * width;
    for (let j = 0; j < nFeatures; j++) {
      const input = inputs[j]!;
      const v = x[row + j]!;
      if (input.type === 'numeric') z[out + offsets[j]!] = (v - input.mean) / input.scale;
      else if (Number.isInteger(v) && v >= 0 && v < input.codes) z[out + offsets[j]! + v] = 1;
    }
  }
  return z;
}

/** Scores (`nRows × coef.length`) of design rows. */
export function linearScores(model: LinearModelJson, z: Float64Array, nRows: number): Float64Array {
  const k = model.coef.length;
  const width = z.length / Math.max(1, nRows);
  const out = new Float64Array(nRows * k);
  for (let c = 0; c < k; c++) {
    const w = model.coef[c]!;
    const b = model.intercept[c]!;
    for (let r = 0; r < nRows; r++) {
      let s = b;
      const o = r * width;
      for (let j = 0; j < width; j++) s += w[j]! * z[o + j]!;
      out[r * k + c] = s;
    }
  }
  return out;
}

/** Class probabilities (`nRows × nClasses`) from scores, by the model's link. */
export function linearProbabilities(
  link: 'logistic' | 'softmax',
  scores: Float64Array,
  nRows: number,
): Float64Array {
  if (link === 'logistic') {
    const p = new Float64Array(nRows * 2);
    for (let r = 0; r < nRows; r++) {
      const s = scores[r]!;
      const p1 = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
      p[r * 2] = 1 - p1;
      p[r * 2 + 1] = p1;
    }
    return p;
  }
  const k = scores.length / Math.max(1, nRows);
  const p = new Float64Array(scores.length);
  for (let r = 0; r < nRows; r++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, scores[r * k + c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(scores[r * k + c]! - max);
      p[r * k + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) p[r * k + c]! /= sum;
  }
  return p;
}

/** A native model backed by {@link LinearModelJson}: loadable without its trainer and exportable to ONNX. */
export interface LinearModel extends NativeModel {
  readonly kind: typeof LINEAR_KIND;
  readonly linear: LinearModelJson;
  readonly task: Task;
  toJSON(): LinearModelJson;
}

export function isLinearModel(model: NativeModel): model is LinearModel {
  return model.kind === LINEAR_KIND && 'linear' in model;
}

/** Wraps a parsed linear model description as a native model (see {@link LINEAR_KIND} for the maths). */
export function createLinearModel(json: unknown): LinearModel {
  const linear = parseInput(linearModelJsonSchema, json, {
    what: 'linear model',
    where: 'native-model',
  });
  const nFeatures = linear.inputs.length;
  const nClasses = linear.link === 'logistic' ? 2 : linear.coef.length;
  const check = (x: Float64Array, nRows: number): void => {
    if (x.length !== nRows * nFeatures) {
      throw invalidArgument(`expected ${nRows} x ${nFeatures} input values, got ${x.length}`, 'predict');
    }
  };
  const scores = (x: Float64Array, nRows: number): Float64Array =>
    linearScores(linear, designMatrix(linear.inputs, x, nRows), nRows);
  const proba = (x: Float64Array, nRows: number): Float64Array => {
    if (linear.link === 'identity') {
      throw new RegistryError('UNSUPPORTED', 'predictProba is only available for classifiers', {
        where: 'predict',
      });
    }
    check(x, nRows);
    return linearProbabilities(linear.link, scores(x, nRows), nRows);
  };
  return {
    kind: LINEAR_KIND,
    linear,
    task: linear.task,
    toJSON: () => linear,
    predict(x, nRows) {
      check(x, nRows);
      if (linear.link === 'identity') return scores(x, nRows);
      return Float64Array.from(argmaxRows(proba(x, nRows), nClasses));
    },
    predictProba: proba,
  };
}
