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

/**
 * Features considered per split: `'sqrt'`, `'log2'`, `'all'`, a fraction in (0, 1), an integer
 * count from 2, or `{ count: n }` for any count.
 *
 * `1` is refused: scikit-learn reads `max_features=1.0` as every feature and `max_features=1` as one
 * feature, and JavaScript cannot tell the two apart. Write `'all'` for every feature (scikit-learn's
 * `1.0`) or `{ count: 1 }` for one feature per split.
 */
export const maxFeaturesSchema = z.union([
  z.enum(['sqrt', 'log2', 'all']),
  z
    .number()
    .positive()
    .refine(
      (v) => v !== 1,
      "maxFeatures 1 is ambiguous: write 'all' for every feature (scikit-learn's max_features=1.0) or { count: 1 } for one feature per split",
    )
    .refine((v) => v < 1 || Number.isInteger(v), 'must be a fraction in (0, 1) or an integer count'),
  z.strictObject({ count: z.number().int().min(1) }),
]);

/**
 * Caps on the size of a tree model, refused with `INVALID_ARGUMENT` above them. Forests stop gaining
 * accuracy long before 5,000 trees (scikit-learn's default is 100), and 5,000 trees of depth 12 are
 * already a model file of hundreds of MB and an ONNX graph near protobuf's 2 GB limit. A depth of 64
 * allows 2^64 leaves, more than any table in memory has rows; deeper trees are chains of one-row
 * splits (leave `maxDepth` out, or `null` for `fitForest`, for trees bounded only by their rows).
 */
export const treeLimits = { nEstimators: 5000, maxDepth: 64 } as const;

/** `nEstimators` from 1 to {@link treeLimits}`.nEstimators`. */
export const nEstimatorsSchema = z
  .number()
  .int()
  .min(1)
  .max(treeLimits.nEstimators, `must be at most ${treeLimits.nEstimators} trees`);

/** `maxDepth` from 1 to {@link treeLimits}`.maxDepth`. */
export const maxDepthSchema = z
  .number()
  .int()
  .min(1)
  .max(treeLimits.maxDepth, `must be at most ${treeLimits.maxDepth} (leave it out for unlimited depth)`);

/**
 * Params of the native tree learner, with scikit-learn's meaning (`RandomForestClassifier` /
 * `RandomForestRegressor`, `DecisionTree*`). Unknown keys are rejected.
 *
 * - `nEstimators` (default 100, at most 5,000): trees in the forest (ignored by `fitTree`).
 * - `maxDepth` (default `null`, unlimited; at most 64 when given): levels of splits below the root.
 * - `maxFeatures`: features drawn at random at every node — `'sqrt'`, `'log2'`, `'all'`, a fraction in
 *   (0, 1), an integer count from 2 or `{ count: n }`. `1` is refused as ambiguous: scikit-learn's
 *   `1.0` is `'all'`, one feature is `{ count: 1 }` (see {@link maxFeaturesSchema}). Like scikit-learn, a node keeps
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
    nEstimators: nEstimatorsSchema.default(100),
    maxDepth: maxDepthSchema.nullable().default(null),
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

/** Features drawn per node (or per tree, for ml-random-forest) for `nFeatures` features. */
export function resolveMaxFeatures(
  maxFeatures: MaxFeatures,
  nFeatures: number,
  what = 'maxFeatures',
): number {
  if (maxFeatures === 'all') return nFeatures;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  const count = typeof maxFeatures === 'number' ? maxFeatures : maxFeatures.count;
  if (count < 1) return Math.max(1, Math.floor(count * nFeatures));
  if (count > nFeatures) {
    throw invalidArgument(`${what} ${count} is more than the ${nFeatures} features`, 'train');
  }
  return count;
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
