import { z } from 'zod';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { throwIfAborted } from '../../errors.js';
import { createTreeEnsembleModel } from '../../formats/native/native-model.js';
import type { TreeEnsembleModel } from '../../formats/native/native-model.js';
import { treeEnsembleFromJson } from '../../formats/native/tree-ensemble-json.js';
import type { TreeEnsemble } from '../../formats/tree-ensemble.js';
import { fitTree } from '../native/forest.js';
import { maxDepthSchema, maxFeaturesSchema, nativeTreeParamsSchema } from '../native/params.js';
import type { FitInput, Trainer } from '../trainer.js';
import { callLibrary, definedOnly, toRows } from './common.js';
import { engineParamsObject, withDefaultEngine } from './engine-params.js';
import { cartTreeToEnsemble } from './to-ensemble.js';

const nativeShape = {
  engine: z.literal('native'),
  maxDepth: maxDepthSchema.optional(),
  maxFeatures: maxFeaturesSchema.optional(),
  minSamplesSplit: nativeTreeParamsSchema.shape.minSamplesSplit,
  minSamplesLeaf: nativeTreeParamsSchema.shape.minSamplesLeaf,
  criterion: nativeTreeParamsSchema.shape.criterion,
  maxBins: nativeTreeParamsSchema.shape.maxBins,
};

const libraryShape = {
  engine: z.literal('ml-cart'),
  maxDepth: maxDepthSchema.optional(),
  minSamplesSplit: z.number().int().min(2).default(4),
};

const shapes = (): Record<string, z.ZodRawShape> => ({ native: nativeShape, 'ml-cart': libraryShape });

/**
 * Params of the `decision-tree` trainer. `engine` picks the learner and with it the param set; a param
 * of the other engine, or an unknown one, is `INVALID_ARGUMENT` naming it.
 *
 * `engine: 'native'` (default) — the built-in histogram learner ({@link fitTree}), scikit-learn's
 * `DecisionTreeClassifier` / `DecisionTreeRegressor` semantics:
 * - `maxDepth` (default unlimited, at most 64 when given): levels of splits below the root.
 * - `maxFeatures` (default `'all'`): features drawn at every split, as for `random-forest` (`1` is
 *   refused as ambiguous: `'all'` or `{ count: 1 }`).
 * - `minSamplesSplit` (default 2) and `minSamplesLeaf` (default 1): counts, or fractions of the rows.
 * - `criterion`: `'gini'` (default) or `'entropy'` for classification, `'squared_error'` for regression.
 * - `maxBins` (default 256): quantile bins per feature.
 *
 * `engine: 'ml-cart'` — ml-cart 2.x CART (gini / squared error):
 * - `maxDepth` (default unlimited, at most 64 when given).
 * - `minSamplesSplit` (default 4): a node with fewer rows becomes a leaf (ml-cart `minNumSamples` =
 *   `minSamplesSplit - 1`).
 */
export const decisionTreeParamsSchema = z.preprocess(
  withDefaultEngine('native'),
  z.discriminatedUnion('engine', [
    engineParamsObject('decision-tree', 'native', nativeShape, shapes),
    engineParamsObject('decision-tree', 'ml-cart', libraryShape, shapes),
  ]),
);
export type DecisionTreeParams = z.output<typeof decisionTreeParamsSchema>;
/** Params of the `ml-cart` engine (`engine` itself may be left out). */
export type LibraryTreeParams = Omit<Extract<DecisionTreeParams, { engine: 'ml-cart' }>, 'engine'>;

export type LibraryTree = DecisionTreeClassifier | DecisionTreeRegression;

/** Trains the ml-cart tree (one synchronous call; abort is checked before it). */
export function trainLibraryTree(input: FitInput<LibraryTreeParams>): LibraryTree {
  const { x, nRows, nFeatures, y, task, params, signal } = input;
  throwIfAborted(signal, 'train');
  const options = definedOnly({ maxDepth: params.maxDepth, minNumSamples: params.minSamplesSplit - 1 });
  const rows = toRows(x, nRows, nFeatures);
  return callLibrary(`ml-cart training (${nRows} rows x ${nFeatures} features)`, signal, () => {
    const tree =
      task === 'classification' ? new DecisionTreeClassifier(options) : new DecisionTreeRegression(options);
    tree.train(rows, Array.from(y));
    return tree;
  });
}

/** The built-in `decision-tree` trainer; its native model is the tree-ensemble IR (one tree). */
export const decisionTreeTrainer: Trainer<DecisionTreeParams> = {
  name: 'decision-tree',
  tasks: ['classification', 'regression'],
  paramsSchema: decisionTreeParamsSchema,
  fit(input): TreeEnsembleModel {
    const { params, task, nFeatures, nClasses } = input;
    throwIfAborted(input.signal, 'train');
    let ensemble: TreeEnsemble;
    if (params.engine === 'native') {
      const { engine: _engine, maxDepth, ...rest } = params;
      ensemble = fitTree({
        x: input.x,
        nRows: input.nRows,
        nFeatures,
        y: input.y,
        task,
        ...(nClasses !== undefined ? { nClasses } : {}),
        params: { ...rest, maxDepth: maxDepth ?? null },
        seed: input.seed,
      });
    } else {
      ensemble = cartTreeToEnsemble(trainLibraryTree({ ...input, params }), task, nFeatures, nClasses);
    }
    input.onProgress?.({ fraction: 1, message: 'trained 1 tree' });
    return createTreeEnsembleModel(ensemble);
  },
  load: (json) => createTreeEnsembleModel(treeEnsembleFromJson(json)),
};
