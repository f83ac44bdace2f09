export { createSqliteMetadataStore } from './sqlite-metadata-store.js';
export { sqliteMetadataStoreOptionsSchema } from './options.js';
export type { SqliteDatabase, SqliteMetadataStoreOptions } from './options.js';
