export { createPostgresMetadataStore } from './postgres-metadata-store.js';
export { postgresMetadataStoreOptionsSchema } from './options.js';
export type { PostgresMetadataStoreOptions } from './options.js';
export { migrations } from './migrations.js';
export type { Migration } from './migrations.js';
