// Public API of the training and native-model layer (re-exported by the package barrel).
export { defineTrainer, createTrainerRegistry } from './trainer.js';
export type {
  Task,
  Label,
  TrainProgress,
  NativeModel,
  FitInput,
  Trainer,
  TrainerRegistry,
} from './trainer.js';
export {
  featureSpecSchema,
  MISSING_CATEGORY,
  selectFeatures,
  fitFeatureSpecs,
  encodeTable,
  idLikeReason,
} from './features.js';
export type { FeatureSpec, FeatureType, FeatureSelection, ExcludedColumn } from './features.js';
export {
  inferTask,
  encodeTarget,
  compareLabels,
  MAX_INFERRED_CLASSES,
  MAX_INFERRED_CLASS_RATIO,
} from './task.js';
export type { EncodedTarget } from './task.js';
export { trainTestSplit, splitOptionsSchema, DEFAULT_TEST_SIZE, DEFAULT_SEED } from './split.js';
export type { SplitOptions, ResolvedSplitOptions, TrainTestSplitInput, TrainTestSplit } from './split.js';
export {
  r2Score,
  rmse,
  mae,
  accuracy,
  macroF1,
  logLoss,
  confusionMatrix,
  regressionMetrics,
  classificationMetrics,
  LOG_LOSS_EPS,
} from './metrics.js';
export { createRandom, shuffleInPlace } from './random.js';
export type { Random } from './random.js';
export { fitModel } from './fit.js';
export type { FitModelInput, FitModelResult } from './fit.js';
export {
  builtinTrainers,
  createDefaultTrainerRegistry,
  randomForestTrainer,
  randomForestParamsSchema,
  decisionTreeTrainer,
  decisionTreeParamsSchema,
} from './trainers/index.js';
export type {
  RandomForestParams,
  NativeForestParams,
  LibraryForestParams,
  DecisionTreeParams,
  LibraryTreeParams,
} from './trainers/index.js';

export {
  modelManifestSchema,
  manifestFileSchema,
  modelSignatureSchema,
  signatureInputSchema,
  trainingInfoSchema,
  labelSchema,
  parseManifest,
} from '../formats/manifest.js';
export type {
  ModelManifest,
  ManifestFile,
  ModelSignature,
  SignatureInput,
  TrainingInfo,
} from '../formats/manifest.js';
export {
  TREE_ENSEMBLE_KIND,
  createTreeEnsembleModel,
  isTreeEnsembleModel,
  nativeModelFileSchema,
  toNativeModelFile,
  loadNativeModel,
} from '../formats/native/native-model.js';
export type { TreeEnsembleModel, NativeModelFile } from '../formats/native/native-model.js';
export {
  treeEnsembleToJson,
  treeEnsembleFromJson,
  treeEnsembleJsonSchema,
  treeEnsembleJsonV1Schema,
  treeEnsembleJsonV2Schema,
  TREE_ENSEMBLE_JSON_VERSION,
} from '../formats/native/tree-ensemble-json.js';
export type { TreeEnsembleJson, TreeEnsembleJsonOptions } from '../formats/native/tree-ensemble-json.js';
export { createNativePredictor, decodePredictions, decodeProbabilities } from '../serving/loaded-model.js';
export type { Predictor, PredictorSignature, ClassProbabilities } from '../serving/loaded-model.js';
export {
  encodeInput,
  createInputEncoder,
  describeSignature,
  inputRecordSchema,
} from '../serving/signature.js';
export type { PredictInput, EncodedInput, InputEncoder } from '../serving/signature.js';
