// JavaScript on purpose: core's typecheck runs before the adapter packages are built, so core's
// TypeScript cannot import them. Tests bundle this file with bundleForChildProcess (every
// @modelreg/* package resolved to its source) and import the bundle.
export { createPostgresMetadataStore } from '@modelreg/meta-postgres';
export { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
export { createFsArtifactStore } from '@modelreg/storage-fs';
