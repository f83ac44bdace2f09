import { resolve } from 'node:path';
import { z } from 'zod';
import type { ArtifactStore, JobQueue, MetadataStore, RegistryOptions } from '@modelreg/core';
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
 * | `MODELREG_QUEUE` | training-job queue: `embedded` or `pgboss` (see {@link queueFromEnv}) | `embedded` |
 * | `MODELREG_QUEUE_URL` | `postgres://…` of pg-boss | `MODELREG_METADATA_URL` |
 * | `MODELREG_TRAIN_CONCURRENCY` | training jobs one process runs at once (`0`: none, submit only) | `1` |
 * | `MODELREG_TRAIN_ISOLATION` | where built-in trainers run: `process` (a child process at nice 10) or `thread` (worker threads) | `process` (the script example: `thread`) |
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
  MODELREG_QUEUE: z.enum(['embedded', 'pgboss']).default('embedded'),
  MODELREG_QUEUE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  MODELREG_TRAIN_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(1),
  MODELREG_TRAIN_ISOLATION: z.enum(['thread', 'process']).default('process'),
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

const parseEnv = (env: Record<string, string | undefined>) =>
  parseInput(registryEnvSchema, blankToUndefined(env), {
    code: 'INVALID_CONFIG',
    what: 'setting',
    where: 'env',
  });

/** The pg-boss adapter package; loaded only when `MODELREG_QUEUE=pgboss` and it is installed. */
const PGBOSS_PACKAGE = '@modelreg/queue-pgboss';

interface PgBossModule {
  createPgBossJobQueue(options: { connectionString: string }): JobQueue;
}

export interface QueueFromEnv {
  /** The queue to pass as `jobs.queue`; `undefined`: the registry's embedded default. */
  queue: JobQueue | undefined;
  /** `embedded` or `pg-boss`. */
  name: string;
  /** Training jobs this process runs at once (`MODELREG_TRAIN_CONCURRENCY`); 0: it only submits. */
  concurrency: number;
  /** Set when `pgboss` was asked for but cannot be used, so the embedded queue runs instead. */
  warning?: string;
}

/**
 * The training-job queue that the environment names, shared by the server and the worker:
 * `MODELREG_QUEUE=embedded` (default) keeps jobs in the metadata store and runs them in the
 * processes that call `registry.jobs.start()`; `MODELREG_QUEUE=pgboss` uses `@modelreg/queue-pgboss`
 * on `MODELREG_QUEUE_URL` (default `MODELREG_METADATA_URL`) when that package is installed in the
 * workspace. When it is not, the embedded queue is used and `warning` says why (jobs still live in
 * the shared metadata store, so every process sees them). No pg-boss URL is `INVALID_CONFIG`.
 */
export async function queueFromEnv(
  env: Record<string, string | undefined> = process.env,
): Promise<QueueFromEnv> {
  const e = parseEnv(env);
  const concurrency = e.MODELREG_TRAIN_CONCURRENCY;
  if (e.MODELREG_QUEUE === 'embedded') return { queue: undefined, name: 'embedded', concurrency };
  const url = e.MODELREG_QUEUE_URL ?? e.MODELREG_METADATA_URL;
  if (!url) {
    throw new RegistryError(
      'INVALID_CONFIG',
      'MODELREG_QUEUE=pgboss needs MODELREG_QUEUE_URL or MODELREG_METADATA_URL (a postgres:// URL)',
      { where: 'env' },
    );
  }
  let module: PgBossModule;
  try {
    const specifier: string = PGBOSS_PACKAGE;
    module = (await import(specifier)) as PgBossModule;
  } catch {
    return {
      queue: undefined,
      name: 'embedded',
      concurrency,
      warning: `MODELREG_QUEUE=pgboss but ${PGBOSS_PACKAGE} is not installed: using the embedded queue`,
    };
  }
  return { queue: module.createPgBossJobQueue({ connectionString: url }), name: 'pg-boss', concurrency };
}

/** Builds the two stores that the environment names (see {@link registryEnvSchema}). */
export function storesFromEnv(env: Record<string, string | undefined> = process.env): StoresFromEnv {
  const e = parseEnv(env);
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

/**
 * Opens a registry on the stores and the job queue that the environment names. `jobs.concurrency`
 * is `MODELREG_TRAIN_CONCURRENCY` (at least 1 for the registry; `trainConcurrency` says whether this
 * process should call `registry.jobs.start()`: 0 means submit only). `options.jobs` wins over the env.
 */
export async function openRegistryFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: Omit<RegistryOptions, 'metadata' | 'artifacts'> = {},
): Promise<{ registry: ModelRegistry; describe: string; dir: string; queue: QueueFromEnv }> {
  const queue = await queueFromEnv(env);
  const { metadata, artifacts, describe, dir, stages } = storesFromEnv(env);
  const registry = await ModelRegistry.open({
    metadata,
    artifacts,
    ...(stages ? { stages } : {}),
    trainIsolation: parseEnv(env).MODELREG_TRAIN_ISOLATION,
    ...options,
    jobs: {
      ...(queue.queue ? { queue: queue.queue } : {}),
      concurrency: Math.max(1, queue.concurrency),
      ...options.jobs,
    },
  });
  return { registry, describe: `${describe}; queue: ${queue.name}`, dir, queue };
}
