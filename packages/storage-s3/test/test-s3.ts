export * from '../../../test-utils/test-s3.js';
