export * from './errors.js';
export * from './domain/index.js';
export type * from './stores/metadata-store.js';
export type * from './stores/artifact-store.js';
export { assertArtifactKey, assertArtifactPrefix } from './stores/keys.js';
export { guardMetadataStore, guardArtifactStore } from './stores/guard.js';
export type * from './domain/table.js';
export type { FlatTree, TreeEnsemble } from './formats/tree-ensemble.js';
export { predictEnsemble, argmaxRows } from './formats/tree-ensemble.js';
