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
 * | `MODELREG_DIR` | folder of the embedded default (SQLite file + artifact folder) | `./.modelreg` where the command is run |
 * | `MODELREG_STAGES` | ordered stage names, comma-separated (new versions start in the first) | `none,staging,production,archived` |
 * | `MODELREG_METADATA_URL` | `postgres://…` to use meta-postgres instead of SQLite | unset |
 * | `MODELREG_PG_SCHEMA` | Postgres schema | `modelreg` |
 * | `MODELREG_ARTIFACTS_URL` | `s3://bucket/prefix` or a folder | unset (`$MODELREG_DIR/artifacts`) |
 * | `MODELREG_S3_ENDPOINT` | S3-compatible endpoint (MinIO, s3rver); path-style addressing | unset (AWS) |
 *
 * AWS credentials and region come from the usual `AWS_*` variables.
 *
 * "Where the command is run" is npm's `INIT_CWD` when the app is started through an npm script (so
 * `npm run quickstart` at the repository root and `npm start -w examples/express-server` from there
 * share one folder), else the process's working directory. A relative `MODELREG_DIR` is resolved
 * against the same place.
 */
export const registryEnvSchema = z.object({
  MODELREG_DIR: z.string().min(1).default('./.modelreg'),
  MODELREG_STAGES: z
    .string()
    .regex(
      /^[^,]+(,[^,]+)+$/,
      'must be at least two comma-separated stage names, e.g. dev,staging,production',
    )
    .optional(),
  INIT_CWD: z.string().min(1).optional(),
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
  /** The absolute registry folder (`MODELREG_DIR` resolved where the command was run). */
  dir: string;
  /** `MODELREG_STAGES` split on commas; `undefined`: the registry's default stages. */
  stages: string[] | undefined;
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
  const base = resolve(e.INIT_CWD ?? process.cwd());
  const dir = resolve(base, e.MODELREG_DIR);
  const stages = e.MODELREG_STAGES?.split(',').map((s) => s.trim());
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
    const root = url ? resolve(base, url.replace(/^file:\/\//, '')) : resolve(dir, 'artifacts');
    artifacts = createFsArtifactStore({ root });
    artifactsWhere = root;
  }
  const metadataWhere = e.MODELREG_METADATA_URL
    ? `postgres ${e.MODELREG_METADATA_URL.replace(/\/\/[^@/]*@/, '//***@')}`
    : `sqlite ${resolve(dir, 'registry.db')}`;
  return {
    metadata,
    artifacts,
    describe: `metadata: ${metadataWhere}; artifacts: ${artifactsWhere}${stages ? `; stages: ${stages.join(',')}` : ''}`,
    dir,
    stages,
  };
}

/** Opens a registry on the stores that the environment names. */
export async function openRegistryFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: Omit<RegistryOptions, 'metadata' | 'artifacts'> = {},
): Promise<{ registry: ModelRegistry; describe: string; dir: string }> {
  const { metadata, artifacts, describe, dir, stages } = storesFromEnv(env);
  const registry = await ModelRegistry.open({
    metadata,
    artifacts,
    ...(stages ? { stages } : {}),
    ...options,
  });
  return { registry, describe, dir };
}
