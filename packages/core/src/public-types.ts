// `@modelreg/core/types`: the domain types and the shapes the registry answers, with no runtime code,
// for code that must not load core (a browser UI over the REST API).
export type * from './domain/types.js';
export type { RegistryErrorCode } from './errors.js';
export type { Label } from './training/trainer.js';
export type { ModelManifest, ModelSignature, SignatureInput } from './formats/manifest.js';
export type { CanaryArmStats, CanaryStats } from './serving/canary-stats.js';
export type * from './domain/deployments.js';
