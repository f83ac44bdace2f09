import { z } from 'zod';
import { maxDepthSchema, nEstimatorsSchema } from './params.js';

/**
 * Params of the native gradient-boosting learner (XGBoost `tree_method=hist` / scikit-learn
 * `HistGradientBoosting*` semantics). Unknown keys are rejected.
 *
 * - `objective`: `'squared_error'` (regression), `'logistic'` (two classes), `'softmax'` (any number of
 *   classes). Absent: by task and class count.
 * - `nEstimators` (default 100, at most 5,000): boosting rounds; a softmax round grows one tree per class.
 * - `learningRate` (default 0.1): shrinkage of every tree's leaf values.
 * - `maxDepth` (default 6; `null`: unlimited): levels of splits below the root.
 * - `maxLeafNodes`: when set, trees grow leaf-wise (best gain first, LightGBM's and scikit-learn's
 *   policy) up to this many leaves; otherwise depth-wise (XGBoost's default).
 * - `minSamplesLeaf` (default 1): rows each child keeps at least.
 * - `minChildWeight` (default 1): hessian each child keeps at least (XGBoost's `min_child_weight`).
 * - `l2Regularization` (default 1): L2 penalty on leaf values (XGBoost's `lambda`).
 * - `minSplitGain` (default 0): a split must gain more than this (XGBoost's `gamma`).
 * - `subsample` (default 1): fraction of rows drawn (without replacement) for each round.
 * - `colsampleByTree` (default 1): fraction of features drawn for each tree.
 * - `maxBins` (default 256): quantile bins per feature (one of them for missing values when a
 *   feature has some).
 * - `earlyStopping` (default false): hold out `validationFraction` (default 0.1) of the training rows
 *   and stop when the validation loss has not improved for `nIterNoChange` (default 10) rounds; the
 *   model keeps the rounds up to the best one.
 */
export const boostingParamsSchema = z.strictObject({
  objective: z.enum(['squared_error', 'logistic', 'softmax']).optional(),
  nEstimators: nEstimatorsSchema.default(100),
  learningRate: z.number().positive().max(1).default(0.1),
  maxDepth: maxDepthSchema.nullable().default(6),
  maxLeafNodes: z.number().int().min(2).max(65536).optional(),
  minSamplesLeaf: z.number().int().min(1).default(1),
  minChildWeight: z.number().min(0).default(1),
  l2Regularization: z.number().min(0).default(1),
  minSplitGain: z.number().min(0).default(0),
  subsample: z.number().gt(0).max(1).default(1),
  colsampleByTree: z.number().gt(0).max(1).default(1),
  maxBins: z.number().int().min(2).max(256).default(256),
  earlyStopping: z.boolean().default(false),
  validationFraction: z.number().gt(0).lt(1).default(0.1),
  nIterNoChange: z.number().int().min(1).default(10),
});
export type BoostingParams = z.input<typeof boostingParamsSchema>;
export type ResolvedBoostingParams = z.output<typeof boostingParamsSchema>;
