export * from './names.js';
export * from './types.js';
export * from './uri.js';
export * from './records.js';
export * from './limits.js';
export * from './run-search.js';
export * from './parse.js';
export * from './jobs.js';
