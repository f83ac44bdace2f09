import { z } from 'zod';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { createTreeEnsembleModel } from '../../formats/native/native-model.js';
import type { TreeEnsembleModel } from '../../formats/native/native-model.js';
import { treeEnsembleFromJson } from '../../formats/native/tree-ensemble-json.js';
import type { FitInput, Trainer } from '../trainer.js';
import { callLibrary, definedOnly, toRows } from './common.js';
import { cartTreeToEnsemble } from './to-ensemble.js';

/**
 * Params of the `decision-tree` trainer (ml-cart 2.x CART, gini / squared error). Unknown keys are rejected.
 *
 * - `maxDepth` (default unlimited): levels of splits below the root.
 * - `minSamplesSplit` (default 4): a node with fewer rows becomes a leaf (ml-cart `minNumSamples` =
 *   `minSamplesSplit - 1`).
 */
export const decisionTreeParamsSchema = z
  .object({
    maxDepth: z.number().int().min(1).optional(),
    minSamplesSplit: z.number().int().min(2).default(4),
  })
  .strict();
export type DecisionTreeParams = z.output<typeof decisionTreeParamsSchema>;

export type LibraryTree = DecisionTreeClassifier | DecisionTreeRegression;

/** Trains the ml-cart tree (one synchronous call; abort is checked before it). */
export function trainLibraryTree(input: FitInput<DecisionTreeParams>): LibraryTree {
  const { x, nRows, nFeatures, y, task, params, signal } = input;
  signal?.throwIfAborted();
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
    const tree = trainLibraryTree(input);
    input.onProgress?.({ fraction: 1, message: 'trained 1 tree' });
    return createTreeEnsembleModel(cartTreeToEnsemble(tree, input.task, input.nFeatures, input.nClasses));
  },
  load: (json) => createTreeEnsembleModel(treeEnsembleFromJson(json)),
};
