import { z } from 'zod';
import { invalidArgument } from '../../errors.js';
import { parseArg } from '../../domain/names.js';
import type { Task } from '../trainer.js';
import type { TreeConfig } from './tree-workspace.js';

const countOrFraction = (what: string, minCount: number) =>
  z
    .number()
    .positive()
    .refine(
      (v) => (v < 1 && !Number.isInteger(v)) || (Number.isInteger(v) && v >= minCount),
      `${what} must be a fraction in (0, 1) or an integer >= ${minCount}`,
    );

/** Features considered per split: `'sqrt'`, `'log2'`, `'all'`, a fraction in (0, 1) or an integer count. */
export const maxFeaturesSchema = z.union([
  z.enum(['sqrt', 'log2', 'all']),
  z
    .number()
    .positive()
    .refine((v) => v < 1 || Number.isInteger(v), 'must be a fraction in (0, 1) or an integer count'),
]);

/**
 * Params of the native tree learner, with scikit-learn's meaning (`RandomForestClassifier` /
 * `RandomForestRegressor`, `DecisionTree*`). Unknown keys are rejected.
 *
 * - `nEstimators` (default 100): trees in the forest (ignored by `fitTree`).
 * - `maxDepth` (default `null`, unlimited): levels of splits below the root.
 * - `maxFeatures`: features drawn at random at every node — `'sqrt'`, `'log2'`, `'all'`, a fraction in
 *   (0, 1) or an integer count (so scikit-learn's `1.0` is `'all'`). Like scikit-learn, a node keeps
 *   drawing past the count until it has seen a feature that is not constant in it.
 *   Default: `'sqrt'` for classification forests, `'all'` for regression forests and single trees.
 * - `minSamplesSplit` (default 2): a node with fewer (distinct) rows is a leaf; a fraction means `ceil(f * n)`.
 * - `minSamplesLeaf` (default 1): each child keeps at least this many rows; a fraction means `ceil(f * n)`.
 * - `criterion`: `'gini'` (default) or `'entropy'` for classification, `'squared_error'` for regression.
 * - `bootstrap` (default true for forests, false for `fitTree`): each tree sees n rows drawn with replacement.
 * - `maxBins` (default 256): quantile bins per feature; features with fewer distinct values split exactly.
 */
export const nativeTreeParamsSchema = z
  .object({
    nEstimators: z.number().int().min(1).max(100_000).default(100),
    maxDepth: z.number().int().min(1).nullable().default(null),
    maxFeatures: maxFeaturesSchema.optional(),
    minSamplesSplit: countOrFraction('minSamplesSplit', 2).default(2),
    minSamplesLeaf: countOrFraction('minSamplesLeaf', 1).default(1),
    criterion: z.enum(['gini', 'entropy', 'squared_error']).optional(),
    bootstrap: z.boolean().optional(),
    maxBins: z.number().int().min(2).max(256).default(256),
  })
  .strict();
export type NativeTreeParams = z.input<typeof nativeTreeParamsSchema>;
export type ResolvedNativeTreeParams = z.output<typeof nativeTreeParamsSchema>;
export type MaxFeatures = NonNullable<ResolvedNativeTreeParams['maxFeatures']>;

/** Features drawn per node for `nFeatures` features. */
export function resolveMaxFeatures(maxFeatures: MaxFeatures, nFeatures: number): number {
  if (maxFeatures === 'all') return nFeatures;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (maxFeatures < 1) return Math.max(1, Math.floor(maxFeatures * nFeatures));
  if (maxFeatures > nFeatures) {
    throw invalidArgument(`maxFeatures ${maxFeatures} is more than the ${nFeatures} features`, 'train');
  }
  return maxFeatures;
}

const countOf = (v: number, n: number): number => (Number.isInteger(v) ? v : Math.ceil(v * n));

/** Nodes below this many rows use sparse histograms (only their touched bins), larger ones dense ones. */
export const SPARSE_THRESHOLD = 256;

export interface ResolvedTreeSetup {
  params: ResolvedNativeTreeParams & {
    maxFeatures: MaxFeatures;
    criterion: 'gini' | 'entropy' | 'squared_error';
    bootstrap: boolean;
  };
  config: TreeConfig;
}

/** Parses params and resolves task-dependent defaults; `single` selects the decision-tree defaults. */
export function resolveTreeSetup(
  raw: unknown,
  task: Task,
  nRows: number,
  nFeatures: number,
  single: boolean,
): ResolvedTreeSetup {
  const parsed = parseArg(nativeTreeParamsSchema, raw ?? {}, 'native tree params', 'train');
  const maxFeatures = parsed.maxFeatures ?? (task === 'classification' && !single ? 'sqrt' : 'all');
  const criterion = parsed.criterion ?? (task === 'classification' ? 'gini' : 'squared_error');
  if ((criterion === 'squared_error') !== (task === 'regression')) {
    throw invalidArgument(`criterion '${criterion}' does not fit the ${task} task`, 'train');
  }
  const bootstrap = parsed.bootstrap ?? !single;
  const params = {
    ...parsed,
    maxFeatures,
    criterion,
    bootstrap,
    nEstimators: single ? 1 : parsed.nEstimators,
  };
  const config: TreeConfig = {
    criterion: criterion === 'squared_error' ? 0 : criterion === 'gini' ? 1 : 2,
    maxDepth: parsed.maxDepth ?? 0x7fffffff,
    minSamplesSplit: Math.max(2, countOf(parsed.minSamplesSplit, nRows)),
    minSamplesLeaf: Math.max(1, countOf(parsed.minSamplesLeaf, nRows)),
    maxFeatures: resolveMaxFeatures(maxFeatures, nFeatures),
    bootstrap: bootstrap ? 1 : 0,
    sparseThreshold: SPARSE_THRESHOLD,
  };
  return { params, config };
}
