import { createTreeEnsembleModel } from '../../formats/native/native-model.js';
import type { TreeEnsembleModel } from '../../formats/native/native-model.js';
import { treeEnsembleFromJson } from '../../formats/native/tree-ensemble-json.js';
import { boostingParamsSchema } from '../native/boost-params.js';
import type { ResolvedBoostingParams } from '../native/boost-params.js';
import { fitBoosting } from '../native/boosting.js';
import type { Trainer } from '../trainer.js';

export { boostingParamsSchema as gradientBoostingParamsSchema };
export type GradientBoostingParams = ResolvedBoostingParams;

/**
 * The built-in `gradient-boosting` trainer: gradient-boosted trees on the native histogram learner
 * (see `boostingParamsSchema` for the params). Its native model is the tree-ensemble IR with
 * `boost` (trees summed into raw scores, then the logistic or softmax transform), so it loads
 * without the trainer and exports to ONNX (`TreeEnsembleClassifier` with `base_values`; regressions
 * as `TreeEnsemble` plus an `Add` of the base score). With early stopping the model keeps the rounds up to the best validation loss.
 * MODEL.json gets the gain importance of each feature (`importance.gain`, summing to 1) and
 * `trainer.info` (`objective`, `rounds`, and `bestIteration` with early stopping). Missing numeric
 * and boolean cells are not filled (`missingValues: 'nan'`): they stay NaN in training and at
 * prediction, and each split sends them the way it learned.
 */
export const gradientBoostingTrainer: Trainer<GradientBoostingParams> = {
  name: 'gradient-boosting',
  tasks: ['classification', 'regression'],
  paramsSchema: boostingParamsSchema,
  // Missing numeric cells reach the learner as NaN: each split learns where they go (no median fill).
  missingValues: 'nan',
  async fit(input): Promise<TreeEnsembleModel> {
    const result = await fitBoosting({
      x: input.x,
      nRows: input.nRows,
      nFeatures: input.nFeatures,
      y: input.y,
      task: input.task,
      ...(input.nClasses !== undefined ? { nClasses: input.nClasses } : {}),
      params: input.params,
      seed: input.seed,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    });
    let total = 0;
    for (const g of result.gain) total += g;
    const gain = Array.from(result.gain, (g) => (total > 0 ? g / total : 0));
    return {
      ...createTreeEnsembleModel(result.ensemble),
      fitInfo: {
        importance: { gain },
        info: {
          objective: result.objective,
          rounds: result.rounds,
          ...(result.bestIteration !== undefined ? { bestIteration: result.bestIteration } : {}),
        },
      },
    };
  },
  load: (json) => createTreeEnsembleModel(treeEnsembleFromJson(json)),
};
