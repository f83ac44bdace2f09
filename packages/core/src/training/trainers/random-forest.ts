import { z } from 'zod';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { throwIfAborted } from '../../errors.js';
import { createTreeEnsembleModel } from '../../formats/native/native-model.js';
import type { TreeEnsembleModel } from '../../formats/native/native-model.js';
import { treeEnsembleFromJson } from '../../formats/native/tree-ensemble-json.js';
import { fitForest } from '../native/forest.js';
import { availableParallelism } from 'node:os';
import {
  maxDepthSchema,
  maxFeaturesSchema,
  nativeTreeParamsSchema,
  nEstimatorsSchema,
  resolveMaxFeatures,
} from '../native/params.js';
import { createRandom } from '../random.js';
import type { FitInput, Trainer } from '../trainer.js';
import { callLibrary, definedOnly, toRows, yieldToEventLoop } from './common.js';
import { engineParamsObject, withDefaultEngine } from './engine-params.js';
import { forestsToEnsemble } from './to-ensemble.js';

/** Trees trained per library call; abort and progress are checked between chunks. */
export const FOREST_CHUNK_SIZE = 10;

const nativeShape = {
  engine: z.literal('native'),
  nEstimators: nEstimatorsSchema.default(100),
  maxDepth: maxDepthSchema.optional(),
  maxFeatures: maxFeaturesSchema.optional(),
  minSamplesSplit: nativeTreeParamsSchema.shape.minSamplesSplit,
  minSamplesLeaf: nativeTreeParamsSchema.shape.minSamplesLeaf,
  criterion: nativeTreeParamsSchema.shape.criterion,
  bootstrap: z.boolean().default(true),
  maxBins: nativeTreeParamsSchema.shape.maxBins,
  workers: z
    .number()
    .int()
    .min(1)
    .max(
      availableParallelism(),
      `must be at most ${availableParallelism()}, the available parallelism of this machine`,
    )
    .optional(),
};

const libraryShape = {
  engine: z.literal('ml-random-forest'),
  nEstimators: nEstimatorsSchema.default(100),
  maxDepth: maxDepthSchema.optional(),
  maxFeatures: maxFeaturesSchema.default(0.7),
  minSamplesSplit: z.number().int().min(2).default(4),
  bootstrap: z.boolean().default(true),
};

const shapes = (): Record<string, z.ZodRawShape> => ({
  native: nativeShape,
  'ml-random-forest': libraryShape,
});

/**
 * Params of the `random-forest` trainer. `engine` picks the learner and with it the param set; a param
 * of the other engine, or an unknown one, is `INVALID_ARGUMENT` naming it.
 *
 * `engine: 'native'` (default) — the built-in histogram learner ({@link fitForest}), scikit-learn's
 * `RandomForestClassifier` / `RandomForestRegressor` semantics:
 * - `nEstimators` (default 100, at most 5,000): number of trees.
 * - `maxDepth` (default unlimited, at most 64 when given): levels of splits below the root.
 * - `maxFeatures`: features drawn at every split — `'sqrt'`, `'log2'`, `'all'`, a fraction in (0, 1),
 *   an integer count from 2 or `{ count: n }`. `1` is refused as ambiguous: scikit-learn's
 *   `max_features=1.0` is `'all'` here, one feature per split is `{ count: 1 }`. Absent: `'sqrt'` for classification, `'all'` for regression (scikit-learn's
 *   defaults; not written into the params).
 * - `minSamplesSplit` (default 2) and `minSamplesLeaf` (default 1): counts, or fractions of the rows.
 * - `criterion`: `'gini'` or `'entropy'` for classification, `'squared_error'` for regression.
 *   Absent: `'gini'` / `'squared_error'`.
 * - `bootstrap` (default true): each tree sees n rows drawn with replacement.
 * - `maxBins` (default 256): quantile bins per feature.
 * - `workers` (default 1, at most `os.availableParallelism()`): worker threads growing trees in
 *   parallel; the model does not depend on it.
 *
 * `engine: 'ml-random-forest'` — ml-random-forest 2.x:
 * - `nEstimators` (default 100), `maxDepth` (default unlimited), `bootstrap` (default true): as above.
 * - `maxFeatures` (default 0.7): ml-random-forest draws the subset once per tree (not per split as
 *   scikit-learn does), which is why the default is larger than scikit-learn's `sqrt`.
 * - `minSamplesSplit` (default 4): a node with fewer rows becomes a leaf (ml-cart `minNumSamples` =
 *   `minSamplesSplit - 1`; the library has no min-samples-per-leaf).
 *
 * Both engines are deterministic by seed, report progress (native after every tree, the library after
 * every {@link FOREST_CHUNK_SIZE} trees) and stop on abort at the next such point.
 */
export const randomForestParamsSchema = z.preprocess(
  withDefaultEngine('native'),
  z.discriminatedUnion('engine', [
    engineParamsObject('random-forest', 'native', nativeShape, shapes),
    engineParamsObject('random-forest', 'ml-random-forest', libraryShape, shapes),
  ]),
);
export type RandomForestParams = z.output<typeof randomForestParamsSchema>;
export type NativeForestParams = Extract<RandomForestParams, { engine: 'native' }>;
/** Params of the `ml-random-forest` engine (`engine` itself may be left out). */
export type LibraryForestParams = Omit<Extract<RandomForestParams, { engine: 'ml-random-forest' }>, 'engine'>;

/** How many features each tree sees. */
export function resolveLibraryMaxFeatures(
  maxFeatures: LibraryForestParams['maxFeatures'],
  nFeatures: number,
): number {
  return resolveMaxFeatures(maxFeatures, nFeatures, 'random-forest maxFeatures');
}

export type LibraryForest = RandomForestClassifier | RandomForestRegression;

/**
 * Trains the library forests: chunk `c` of up to {@link FOREST_CHUNK_SIZE} trees is one
 * ml-random-forest model seeded with `seed` for the first chunk and with the `c`-th draw of
 * `createRandom(seed)` after that, so a forest of at most 10 trees is exactly the library's forest
 * for that seed. Features are drawn without replacement.
 */
export async function trainLibraryForests(input: FitInput<LibraryForestParams>): Promise<LibraryForest[]> {
  const { x, nRows, nFeatures, y, task, params, seed, signal, onProgress } = input;
  const count = resolveLibraryMaxFeatures(params.maxFeatures, nFeatures);
  // The library reads 1 as the fraction 1.0 and floors fractions: pass k + 0.5 of n to get exactly k.
  const maxFeatures = count === nFeatures ? 1 : (count + 0.5) / nFeatures;
  const rows = toRows(x, nRows, nFeatures);
  const labels = Array.from(y);
  const seeds = createRandom(seed);
  const forests: LibraryForest[] = [];
  for (let done = 0; done < params.nEstimators;) {
    throwIfAborted(signal, 'train');
    const size = Math.min(FOREST_CHUNK_SIZE, params.nEstimators - done);
    const options = {
      nEstimators: size,
      seed: done === 0 ? seed : seeds.nextUint32(),
      maxFeatures,
      replacement: false,
      useSampleBagging: params.bootstrap,
      noOOB: true,
      treeOptions: definedOnly({ maxDepth: params.maxDepth, minNumSamples: params.minSamplesSplit - 1 }),
    };
    const forest = callLibrary(
      `ml-random-forest training (${nRows} rows x ${nFeatures} features)`,
      signal,
      () => {
        const f =
          task === 'classification'
            ? new RandomForestClassifier(options)
            : new RandomForestRegression({ ...options, selectionMethod: 'mean' });
        f.train(rows, labels);
        return f;
      },
    );
    forests.push(forest);
    done += size;
    onProgress?.({
      fraction: done / params.nEstimators,
      message: `trained ${done}/${params.nEstimators} trees`,
    });
    if (done < params.nEstimators) await yieldToEventLoop();
  }
  throwIfAborted(signal, 'train');
  return forests;
}

/** Fits with the native learner; the trainer's params map one to one onto {@link fitForest}'s. */
async function fitNativeForest(input: FitInput<NativeForestParams>): Promise<TreeEnsembleModel> {
  const { engine: _engine, workers, maxDepth, ...params } = input.params;
  const ensemble = await fitForest({
    x: input.x,
    nRows: input.nRows,
    nFeatures: input.nFeatures,
    y: input.y,
    task: input.task,
    ...(input.nClasses !== undefined ? { nClasses: input.nClasses } : {}),
    params: { ...params, maxDepth: maxDepth ?? null },
    seed: input.seed,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  return createTreeEnsembleModel(ensemble);
}

/**
 * The built-in `random-forest` trainer; its native model is the tree-ensemble IR. See
 * {@link randomForestParamsSchema} for the engines and their params.
 */
export const randomForestTrainer: Trainer<RandomForestParams> = {
  name: 'random-forest',
  tasks: ['classification', 'regression'],
  paramsSchema: randomForestParamsSchema,
  async fit(input): Promise<TreeEnsembleModel> {
    const { params } = input;
    if (params.engine === 'native') return fitNativeForest({ ...input, params });
    const forests = await trainLibraryForests({ ...input, params });
    return createTreeEnsembleModel(forestsToEnsemble(forests, input.task, input.nFeatures, input.nClasses));
  },
  load: (json) => createTreeEnsembleModel(treeEnsembleFromJson(json)),
};
