import { resolve } from 'node:path';
import { z } from 'zod';
import type { ArtifactStore, MetadataStore, RegistryOptions } from '@modelreg/core';
import { ModelRegistry, RegistryError, parseInput } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { createS3ArtifactStore } from '@modelreg/storage-s3';

/**
 * The one configuration convention of the example apps:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `MODELREG_DIR` | folder of the embedded default (SQLite file + artifact folder) | `./.modelreg` |
 * | `MODELREG_METADATA_URL` | `postgres://…` to use meta-postgres instead of SQLite | unset |
 * | `MODELREG_PG_SCHEMA` | Postgres schema | `modelreg` |
 * | `MODELREG_ARTIFACTS_URL` | `s3://bucket/prefix` or a folder | unset (`$MODELREG_DIR/artifacts`) |
 * | `MODELREG_S3_ENDPOINT` | S3-compatible endpoint (MinIO, s3rver); path-style addressing | unset (AWS) |
 *
 * AWS credentials and region come from the usual `AWS_*` variables.
 */
export const registryEnvSchema = z.object({
  MODELREG_DIR: z.string().min(1).default('./.modelreg'),
  MODELREG_METADATA_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  MODELREG_PG_SCHEMA: z.string().min(1).optional(),
  MODELREG_ARTIFACTS_URL: z.string().min(1).optional(),
  MODELREG_S3_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().optional(),
});
export type RegistryEnv = z.input<typeof registryEnvSchema>;

export interface StoresFromEnv {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** A one-line description of where the registry lives, for logs. */
  describe: string;
}

const blankToUndefined = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));

/** Builds the two stores that the environment names (see {@link registryEnvSchema}). */
export function storesFromEnv(env: Record<string, string | undefined> = process.env): StoresFromEnv {
  const e = parseInput(registryEnvSchema, blankToUndefined(env), {
    code: 'INVALID_CONFIG',
    what: 'setting',
    where: 'env',
  });
  const dir = resolve(e.MODELREG_DIR);
  const metadata = e.MODELREG_METADATA_URL
    ? createPostgresMetadataStore({
        connectionString: e.MODELREG_METADATA_URL,
        ...(e.MODELREG_PG_SCHEMA ? { schema: e.MODELREG_PG_SCHEMA } : {}),
      })
    : createSqliteMetadataStore({ filename: resolve(dir, 'registry.db') });
  let artifacts: ArtifactStore;
  let artifactsWhere: string;
  const url = e.MODELREG_ARTIFACTS_URL;
  if (url?.startsWith('s3://')) {
    const [bucket, ...rest] = url.slice('s3://'.length).split('/');
    if (!bucket)
      throw new RegistryError('INVALID_CONFIG', `MODELREG_ARTIFACTS_URL "${url}" has no bucket`, {
        where: 'env',
      });
    const prefix = rest.filter(Boolean).join('/');
    artifacts = createS3ArtifactStore({
      bucket,
      ...(prefix ? { prefix } : {}),
      ...(e.MODELREG_S3_ENDPOINT ? { endpoint: e.MODELREG_S3_ENDPOINT, forcePathStyle: true } : {}),
      region: e.AWS_REGION ?? 'us-east-1',
    });
    artifactsWhere = url;
  } else {
    const root = url ? resolve(url.replace(/^file:\/\//, '')) : resolve(dir, 'artifacts');
    artifacts = createFsArtifactStore({ root });
    artifactsWhere = root;
  }
  const metadataWhere = e.MODELREG_METADATA_URL
    ? `postgres ${e.MODELREG_METADATA_URL.replace(/\/\/[^@/]*@/, '//***@')}`
    : `sqlite ${resolve(dir, 'registry.db')}`;
  return { metadata, artifacts, describe: `metadata: ${metadataWhere}; artifacts: ${artifactsWhere}` };
}

/** Opens a registry on the stores that the environment names. */
export async function openRegistryFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: Omit<RegistryOptions, 'metadata' | 'artifacts'> = {},
): Promise<{ registry: ModelRegistry; describe: string }> {
  const { metadata, artifacts, describe } = storesFromEnv(env);
  const registry = await ModelRegistry.open({ metadata, artifacts, ...options });
  return { registry, describe };
}
