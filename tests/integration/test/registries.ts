import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MetadataStore, RegistryOptions } from '@modelreg/core';
import { ModelRegistry } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { createS3ArtifactStore } from '@modelreg/storage-s3';
import type { TestS3 } from '../../../test-utils/test-s3.js';
import { pgUrl, randomSchema } from '../../../test-utils/pg-env.js';

export const irisCsv = new URL('../../../packages/core/test/fixtures/datasets/iris.csv', import.meta.url);

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `modelreg-it-${prefix}-`));

/** The embedded default in a folder: SQLite file + artifact folder. */
export function devStores(dir: string): Pick<RegistryOptions, 'metadata' | 'artifacts'> {
  return {
    metadata: createSqliteMetadataStore({ filename: join(dir, 'registry.db') }),
    artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
  };
}

export async function openDev(dir: string): Promise<ModelRegistry> {
  return ModelRegistry.open(devStores(dir));
}

/** A production-shaped registry: a fresh Postgres schema and a fresh prefix in the test bucket. */
export function prodStores(
  s3: TestS3,
  schema = randomSchema('mr_it'),
): {
  metadata: MetadataStore;
  artifacts: ReturnType<typeof createS3ArtifactStore>;
  schema: string;
} {
  return {
    schema,
    metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
    artifacts: createS3ArtifactStore({
      bucket: s3.bucket,
      prefix: `it-${randomBytes(6).toString('hex')}`,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: s3.region,
      ...(s3.credentials ? { credentials: s3.credentials } : {}),
    }),
  };
}
