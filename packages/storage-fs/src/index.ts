export { createFsArtifactStore } from './fs-artifact-store.js';
export { fsArtifactStoreOptionsSchema } from './options.js';
export type { FsArtifactStoreOptions } from './options.js';
