// `@modelreg/core/serving`: input validation and encoding from a model's signature, and the native
// predictor behind `registry.load`. For hosts that encode rows or predict without a registry.
export type { ResolvedUri, EventHandler, ModelSource } from './ports.js';
export { createNativePredictor, decodePredictions, decodeProbabilities } from './predictor.js';
export type { Predictor, PredictorSignature, ClassProbabilities } from './predictor.js';
export { encodeInput, createInputEncoder, inputRecordSchema } from './signature.js';
export type { PredictInput, EncodedInput, InputEncoder } from './signature.js';
export type { LoadedModel, LoadOptions } from './load.js';
export type { LiveModel, WatchOptions, SwapEvent, WatchErrorEvent } from './live-model.js';
export type {
  Canary,
  CanaryArm,
  CanaryOptions,
  CanaryPrediction,
  PromoteOptions,
  PromoteResult,
} from './canary.js';
export type { CanaryStats, CanaryArmStats } from './canary-stats.js';
export type { DeploymentCanary, DeploymentCanaryOptions } from './deployment-canary.js';
export { createPredictBatcher, predictBatcherOptionsSchema } from './batcher.js';
export type { PredictBatcher, PredictBatcherOptions } from './batcher.js';
