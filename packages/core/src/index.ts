// `@modelreg/core`: the documented API — the registry facade, errors, domain schemas and types, the
// store contracts with the helpers adapters need, and the memory stores. Specialist pieces live in
// subpath entries: `/formats` (model files, ONNX), `/training` (trainers, fit pipeline), `/datasets`
// (CSV reading and value rules), `/serving` (input encoding, predictors) and `/testing` (conformance).
export * from './errors.js';
export * from './domain/index.js';

// Store contracts and what adapters build on.
export type * from './stores/metadata-store.js';
export type * from './stores/artifact-store.js';
export { assertArtifactKey, assertArtifactPrefix, isArtifactKey } from './stores/keys.js';
export { guardMetadataStore, guardArtifactStore } from './stores/guard.js';
export { toAsyncChunks, hashChunks, readBody, compareArtifactKeys, verifyChunks } from './stores/body.js';
export type { HashedChunks, ExpectedBody } from './stores/body.js';
export type { JobQueue, JobRunner } from './stores/job-queue.js';
export { defaultSpoolDir } from './stores/spool.js';
export { parseStoreOptions, hasMethods } from './config.js';
export { sqlRowMappers } from './stores/sql-rows.js';
export type { SqlRows, SqlColumnDecoders, SqlRowMappers, RunDetails } from './stores/sql-rows.js';
export { createMemoryArtifactStore } from './memory/memory-artifact-store.js';
export { createMemoryMetadataStore } from './memory/memory-metadata-store.js';

// The registry facade and the types of its methods.
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
export type {
  CreateExperimentOptions,
  ExperimentChangeOptions,
  ExperimentRef,
  ListExperimentsOptions,
} from './registry/experiments.js';
export type { GcOptions, GcResult } from './registry/gc.js';
export { RegistryAuth, TOKEN_PREFIX, hashToken } from './registry/auth.js';
export { authorize as checkPermission } from './registry/access.js';
export type { AuthenticateOptions, CreatedToken } from './registry/auth.js';
export { REGISTRY_ID_KEY } from './registry/binding.js';
export type { RegistryOptions } from './registry/options.js';
export { defaultStages } from './registry/options.js';
export type { TrainOptions, TrainResult } from './registry/train.js';
export { createEmbeddedQueue } from './registry/embedded-queue.js';
export type { EmbeddedQueueOptions } from './registry/embedded-queue.js';
export { jobTrainOptionsSchema } from './registry/jobs.js';
export type {
  Jobs,
  JobTrainOptions,
  SubmitJobOptions,
  ListJobsOptions,
  ListJobsResult,
  WaitJobOptions,
} from './registry/jobs.js';
export { JOB_ID_TAG, JOB_KEY_TAG } from './registry/job-runner.js';
export type { EvaluateOptions, EvaluateResult } from './registry/evaluate.js';
export type { LogModelOptions, LoggedModel } from './registry/log-model.js';
export { copyModelVersion } from './registry/copy.js';
export type { CopyModelVersionOptions, CopyModelVersionResult } from './registry/copy.js';
export type { DatasetCatalog, DatasetUpload } from './datasets/dataset-catalog.js';
export type { CsvSource } from './datasets/csv.js';
export type { ValueRules } from './datasets/values.js';
export type * from './domain/table.js';

// Serving: what `load`, `watch` and `canary` return.
export type {
  ResolvedUri,
  EventHandler,
  LoadedModel,
  LoadOptions,
  PredictInput,
  ClassProbabilities,
  PredictorSignature,
  LiveModel,
  WatchOptions,
  SwapEvent,
  WatchErrorEvent,
  Canary,
  CanaryArm,
  CanaryOptions,
  CanaryPrediction,
  PromoteOptions,
  PromoteResult,
  CanaryStats,
  CanaryArmStats,
  DeploymentCanary,
  DeploymentCanaryOptions,
  PredictBatcher,
  PredictBatcherOptions,
} from './serving/index.js';
export { createPredictBatcher, predictBatcherOptionsSchema } from './serving/index.js';
export type { Deployments } from './registry/deployments.js';
export type { EventCursor, EventCursorOptions } from './registry/event-cursor.js';
export type {
  Webhooks,
  CreateWebhookOptions,
  UpdateWebhookOptions,
  CreatedWebhook,
} from './registry/webhooks.js';
export { createWebhookOptionsSchema, updateWebhookOptionsSchema } from './registry/webhooks.js';
export { eventCursorOptionsSchema } from './registry/event-cursor.js';
export type { WebhookTransport } from './registry/webhook-target.js';
export { isPrivateAddress } from './registry/webhook-target.js';
export type {
  SetDeploymentOptions,
  ChangeDeploymentOptions,
  DeploymentPromotion,
} from './registry/deployments.js';

// Custom trainers (`registry.registerTrainer`) and the model files they produce.
export { defineTrainer } from './training/trainer.js';
export type {
  Task,
  Label,
  NativeModel,
  ModelFitInfo,
  FitInput,
  Trainer,
  TrainerRegistry,
  TrainProgress,
  TrainPhase,
} from './training/trainer.js';
export type {
  ModelManifest,
  ManifestFile,
  ModelSignature,
  SignatureInput,
  TrainingInfo,
  FeatureSpec,
  FeatureType,
} from './formats/index.js';
export * as storeRules from './stores/rules.js';
export * as jobRules from './stores/job-rules.js';

// ---- what the example apps need, so none re-implements core (issue 12) ----
export { trainOptionsSchema } from './registry/train.js';
