export * from '../../../test-utils/pg-env.js';
