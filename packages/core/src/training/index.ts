// `@modelreg/core/training`: trainers, the fit pipeline (features, split, metrics) and the native
// tree learner. The root entry keeps what custom trainers need (`defineTrainer`, `Trainer`).
export { defineTrainer, createTrainerRegistry } from './trainer.js';
export type {
  Task,
  Label,
  TrainProgress,
  TrainPhase,
  NativeModel,
  ModelFitInfo,
  FitInput,
  Trainer,
  TrainerRegistry,
} from './trainer.js';
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
  gradientBoostingTrainer,
  gradientBoostingParamsSchema,
  linearTrainer,
  linearParamsSchema,
} from './trainers/index.js';
export type {
  RandomForestParams,
  NativeForestParams,
  LibraryForestParams,
  DecisionTreeParams,
  LibraryTreeParams,
  GradientBoostingParams,
  LinearParams,
} from './trainers/index.js';

export {
  fitForest,
  fitTree,
  nativeTreeParamsSchema,
  maxFeaturesSchema,
  resolveMaxFeatures,
  binFeatures,
  MAX_BINS,
  fitBoosting,
  boostingParamsSchema,
} from './native/index.js';
export type {
  FitForestInput,
  FitNativeTreeInput,
  NativeTreeParams,
  ResolvedNativeTreeParams,
  MaxFeatures,
  BinnedFeatures,
  BinningOptions,
  FitBoostingInput,
  BoostingResult,
  BoostingParams,
  ResolvedBoostingParams,
} from './native/index.js';
export { SKLEARN_CLASSES, resolveSklearnModel, resolveModelOption } from './sklearn-names.js';
export type { SklearnModelSpec, ResolvedModelSpec, ModelOption } from './sklearn-names.js';
export {
  permutationImportance,
  treeGainImportance,
  linearCoefficientImportance,
  PERMUTATION_MAX_ROWS,
  PERMUTATION_REPEATS,
  GAIN_MAX_ROWS,
} from './importance.js';
export type { PermutationImportance } from './importance.js';
