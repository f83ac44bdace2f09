import { z } from 'zod';
import { parseInput } from '../../domain/parse.js';
import { RegistryError, invalidArgument, isRegistryError } from '../../errors.js';
import type { NativeModel, NativeModelLoaders } from '../model.js';
import { predictEnsembleFast } from './fast-predict.js';
import { argmaxRows } from '../tree-ensemble.js';
import type { TreeEnsemble } from '../tree-ensemble.js';
import { treeEnsembleFromJson, treeEnsembleToJson } from './tree-ensemble-json.js';
import type { TreeEnsembleJson } from './tree-ensemble-json.js';
import { LINEAR_KIND, createLinearModel } from '../linear.js';

/** The `kind` of the built-in tree format, produced by `random-forest` and `decision-tree`. */
export const TREE_ENSEMBLE_KIND = 'tree-ensemble';

/** A native model backed by the flat tree IR: loadable without its trainer and exportable to ONNX. */
export interface TreeEnsembleModel extends NativeModel {
  readonly kind: typeof TREE_ENSEMBLE_KIND;
  readonly ensemble: TreeEnsemble;
  toJSON(): TreeEnsembleJson;
  predictProba(x: Float64Array, nRows: number): Float64Array;
}

/**
 * Wraps a tree ensemble as a native model. Regression predicts the mean of the trees' leaf values;
 * classification predicts the argmax (lowest class index on ties) of the mean leaf vectors, which
 * are also `predictProba`. Predictions use the packed fast predictor (`predictEnsembleFast`), which
 * gives `predictEnsemble`'s values bit for bit; treat `ensemble` as immutable once wrapped (the packing
 * is cached). User trainers that grow trees can return this too.
 */
export function createTreeEnsembleModel(ensemble: TreeEnsemble): TreeEnsembleModel {
  const check = (x: Float64Array, nRows: number): void => {
    if (x.length !== nRows * ensemble.nFeatures) {
      throw invalidArgument(
        `expected ${nRows} x ${ensemble.nFeatures} input values, got ${x.length}`,
        'predict',
      );
    }
  };
  return {
    kind: TREE_ENSEMBLE_KIND,
    ensemble,
    toJSON: () => treeEnsembleToJson(ensemble),
    predict(x, nRows) {
      check(x, nRows);
      const out = predictEnsembleFast(ensemble, x, nRows);
      return ensemble.task === 'regression' ? out : Float64Array.from(argmaxRows(out, ensemble.nOutputs));
    },
    predictProba(x, nRows) {
      if (ensemble.task !== 'classification') {
        throw new RegistryError('UNSUPPORTED', 'predictProba is only available for classifiers', {
          where: 'predict',
        });
      }
      check(x, nRows);
      return predictEnsembleFast(ensemble, x, nRows);
    },
  };
}

export function isTreeEnsembleModel(model: NativeModel): model is TreeEnsembleModel {
  return model.kind === TREE_ENSEMBLE_KIND && 'ensemble' in model;
}

/** The content of `model.native.json`: the model's `toJSON()` wrapped with what is needed to read it back. */
export const nativeModelFileSchema = z.object({
  format: z.literal('modelreg-native'),
  formatVersion: z.literal(1),
  /** `tree-ensemble`, or the name of the trainer whose `load` reads `model`. */
  kind: z.string().min(1),
  model: z.unknown(),
});
export type NativeModelFile = z.infer<typeof nativeModelFileSchema>;

export function toNativeModelFile(model: NativeModel): NativeModelFile {
  return { format: 'modelreg-native', formatVersion: 1, kind: model.kind, model: model.toJSON() };
}

/**
 * Reads a `model.native.json` (already JSON-parsed). Tree ensembles and linear models load directly; other kinds are
 * loaded by the trainer of that name in `trainers` (`UNSUPPORTED` when it is not registered). No
 * stored code is ever run: the file is data interpreted by registered code.
 */
export function loadNativeModel(file: unknown, trainers?: NativeModelLoaders): NativeModel {
  const { kind, model } = parseInput(nativeModelFileSchema, file, {
    what: 'model.native.json (a modelreg native model file)',
    where: 'native-model',
  });
  if (kind === TREE_ENSEMBLE_KIND) return createTreeEnsembleModel(treeEnsembleFromJson(model));
  if (kind === LINEAR_KIND) return createLinearModel(model);
  if (!trainers?.has(kind)) {
    throw new RegistryError(
      'UNSUPPORTED',
      `the model was written by trainer "${kind}", which is not registered; register it with registry.registerTrainer()`,
      { where: 'native-model' },
    );
  }
  try {
    return trainers.get(kind).load(model);
  } catch (e) {
    if (isRegistryError(e)) throw e;
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `trainer "${kind}" could not load the model: ${(e as Error)?.message ?? e}`,
      {
        where: 'native-model',
        cause: e,
      },
    );
  }
}
