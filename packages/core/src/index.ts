export * from './errors.js';
export * from './domain/index.js';
export type * from './stores/metadata-store.js';
export type * from './stores/artifact-store.js';
export { assertArtifactKey, assertArtifactPrefix, isArtifactKey } from './stores/keys.js';
export { guardMetadataStore, guardArtifactStore } from './stores/guard.js';
export type * from './domain/table.js';
export type { FlatTree, TreeEnsemble } from './formats/tree-ensemble.js';
export { predictEnsemble, argmaxRows } from './formats/tree-ensemble.js';
export { createMemoryArtifactStore } from './memory/memory-artifact-store.js';
export { toAsyncChunks, hashChunks, readBody, compareArtifactKeys, verifyChunks } from './stores/body.js';
export type { HashedChunks, ExpectedBody } from './stores/body.js';
export { ModelRegistry } from './registry/model-registry.js';
export { RunHandle } from './registry/runs.js';
export type { StartRunOptions, SearchRunsOptions, SearchRunsResult } from './registry/runs.js';
export type {
  CreateModelOptions,
  ListModelsOptions,
  RegisterModelOptions,
  TransitionStageOptions,
  AliasOptions,
  UpdateOptions,
} from './registry/models.js';
export type { ResolvedUri } from './registry/resolve.js';
export type { GcOptions, GcResult } from './registry/gc.js';
export { defaultSpoolDir } from './stores/spool.js';
export { REGISTRY_ID_KEY } from './registry/binding.js';
export type { RegistryOptions } from './registry/options.js';
export { defaultStages } from './registry/options.js';
export type { EventHandler } from './registry/events.js';
export * from './datasets/index.js';
export { createMemoryMetadataStore } from './memory/memory-metadata-store.js';
export * from './formats/onnx/index.js';
export type { TrainOptions, TrainResult } from './registry/train.js';
export type { EvaluateOptions, EvaluateResult } from './registry/evaluate.js';
export type { LoadedModel, LoadOptions } from './serving/load.js';
export * from './training/index.js';
export * from './training/native/index.js';
export type { LogModelOptions, LoggedModel } from './registry/log-model.js';
export type { LiveModel, WatchOptions, SwapEvent, WatchErrorEvent } from './serving/live-model.js';
export type {
  Canary,
  CanaryArm,
  CanaryOptions,
  CanaryPrediction,
  PromoteOptions,
  PromoteResult,
} from './serving/canary.js';
export type { CanaryStats, CanaryArmStats } from './serving/canary-stats.js';
export { copyModelVersion } from './registry/copy.js';
export type { CopyModelVersionOptions, CopyModelVersionResult } from './registry/copy.js';
export { parseStoreOptions } from './config.js';

// ---- what the example apps need, so none re-implements core (issue 12) ----
export { trainOptionsSchema } from './registry/train.js';
