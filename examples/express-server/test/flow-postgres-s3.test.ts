import { describe } from 'vitest';
import { pgReachable } from '../../../test-utils/pg-env.js';
import { postgresS3Backend } from './helpers.js';
import { describeUserFlow } from './user-flow.js';

// pg-env fails the run in CI when Postgres is unreachable, and warns loudly otherwise.
describe.skipIf(!pgReachable)('Postgres + S3', () => {
  describeUserFlow(
    'Postgres schema + s3rver',
    postgresS3Backend,
    /metadata: postgres .*; artifacts: s3:\/\//,
  );
});
