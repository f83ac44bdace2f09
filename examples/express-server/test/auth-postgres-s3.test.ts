import { describe } from 'vitest';
import { pgReachable } from '../../../test-utils/pg-env.js';
import { describeAuthFlow } from './auth-flow.js';
import { postgresS3Backend } from './helpers.js';

// pg-env fails the run in CI when Postgres is unreachable, and warns loudly otherwise.
describe.skipIf(!pgReachable)('Postgres + S3', () => {
  describeAuthFlow('Postgres schema + s3rver', postgresS3Backend);
});
