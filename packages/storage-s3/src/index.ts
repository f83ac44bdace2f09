export { createS3ArtifactStore } from './s3-artifact-store.js';
export { s3ArtifactStoreOptionsSchema } from './options.js';
export type { S3ArtifactStoreOptions } from './options.js';
