import { z } from 'zod';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { invalidArgument } from '../../errors.js';
import { createTreeEnsembleModel } from '../../formats/native/native-model.js';
import type { TreeEnsembleModel } from '../../formats/native/native-model.js';
import { treeEnsembleFromJson } from '../../formats/native/tree-ensemble-json.js';
import { createRandom } from '../random.js';
import type { FitInput, Trainer } from '../trainer.js';
import { callLibrary, definedOnly, toRows, yieldToEventLoop } from './common.js';
import { forestsToEnsemble } from './to-ensemble.js';

/** Trees trained per library call; abort and progress are checked between chunks. */
export const FOREST_CHUNK_SIZE = 10;

/**
 * Params of the `random-forest` trainer (ml-random-forest 2.x). Unknown keys are rejected.
 *
 * - `nEstimators` (default 100): number of trees.
 * - `maxDepth` (default unlimited): levels of splits below the root.
 * - `maxFeatures` (default 0.7): features each tree may split on — a fraction in (0, 1), an integer
 *   count, `'sqrt'`, `'log2'` or `'all'`. ml-random-forest draws the subset once per tree (not per
 *   split as scikit-learn does), which is why the default is larger than scikit-learn's `sqrt`.
 * - `minSamplesSplit` (default 4): a node with fewer rows becomes a leaf (ml-cart `minNumSamples` =
 *   `minSamplesSplit - 1`; the library has no min-samples-per-leaf).
 * - `bootstrap` (default true): train each tree on a bootstrap sample of the rows.
 */
export const randomForestParamsSchema = z
  .object({
    nEstimators: z.number().int().min(1).max(10_000).default(100),
    maxDepth: z.number().int().min(1).optional(),
    maxFeatures: z
      .union([
        z.enum(['sqrt', 'log2', 'all']),
        z
          .number()
          .positive()
          .refine((v) => v < 1 || Number.isInteger(v), 'must be a fraction in (0, 1) or an integer count'),
      ])
      .default(0.7),
    minSamplesSplit: z.number().int().min(2).default(4),
    bootstrap: z.boolean().default(true),
  })
  .strict();
export type RandomForestParams = z.output<typeof randomForestParamsSchema>;

/** How many features each tree sees. */
export function resolveMaxFeatures(
  maxFeatures: RandomForestParams['maxFeatures'],
  nFeatures: number,
): number {
  if (maxFeatures === 'all') return nFeatures;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (maxFeatures < 1) return Math.max(1, Math.floor(maxFeatures * nFeatures));
  if (maxFeatures > nFeatures) {
    throw invalidArgument(
      `random-forest maxFeatures ${maxFeatures} is more than the ${nFeatures} features`,
      'train',
    );
  }
  return maxFeatures;
}

export type LibraryForest = RandomForestClassifier | RandomForestRegression;

/**
 * Trains the library forests: chunk `c` of up to {@link FOREST_CHUNK_SIZE} trees is one
 * ml-random-forest model seeded with `seed` for the first chunk and with the `c`-th draw of
 * `createRandom(seed)` after that, so a forest of at most 10 trees is exactly the library's forest
 * for that seed. Features are drawn without replacement.
 */
export async function trainLibraryForests(input: FitInput<RandomForestParams>): Promise<LibraryForest[]> {
  const { x, nRows, nFeatures, y, task, params, seed, signal, onProgress } = input;
  const count = resolveMaxFeatures(params.maxFeatures, nFeatures);
  // The library reads 1 as the fraction 1.0 and floors fractions: pass k + 0.5 of n to get exactly k.
  const maxFeatures = count === nFeatures ? 1 : (count + 0.5) / nFeatures;
  const rows = toRows(x, nRows, nFeatures);
  const labels = Array.from(y);
  const seeds = createRandom(seed);
  const forests: LibraryForest[] = [];
  for (let done = 0; done < params.nEstimators;) {
    signal?.throwIfAborted();
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
  signal?.throwIfAborted();
  return forests;
}

/** The built-in `random-forest` trainer; its native model is the tree-ensemble IR. */
export const randomForestTrainer: Trainer<RandomForestParams> = {
  name: 'random-forest',
  tasks: ['classification', 'regression'],
  paramsSchema: randomForestParamsSchema,
  async fit(input): Promise<TreeEnsembleModel> {
    const forests = await trainLibraryForests(input);
    return createTreeEnsembleModel(forestsToEnsemble(forests, input.task, input.nFeatures, input.nClasses));
  },
  load: (json) => createTreeEnsembleModel(treeEnsembleFromJson(json)),
};
