import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { z } from 'zod';

const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters (pg-boss appends suffixes to its schema name)')
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must start with a letter or "_" and contain only letters, digits and "_"',
  );

const hasMethods = (value: unknown, names: string[]): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
};

const seconds = (max: number) =>
  z.number().int('must be a whole number of seconds').min(1, 'must be at least 1 second').max(max);

/**
 * Options of {@link createPgBossJobQueue}, parsed once by the factory; a bad option throws
 * `RegistryError('INVALID_CONFIG')` naming it. Give exactly one of `connectionString`, `pool` and
 * `boss`.
 *
 * Timing rule (see the README, "Worker death"): `expireInSeconds` must exceed the longest training
 * plus the registry's job lease (`jobs.leaseMs`, default 30 s). A worker killed mid-job leaves its
 * pg-boss job `active`; pg-boss fails it once `expireInSeconds` have passed (checked every
 * `maintenanceIntervalSeconds`) and retries it after `retryDelay` (doubling with `retryBackoff`). By
 * then the dead worker's lease in the metadata store has run out, so the retry claims the job.
 */
export const pgBossJobQueueOptionsSchema = z
  .strictObject({
    /** `postgres://user:password@host:port/database`; the queue opens its own pool and ends it on `stop()`. */
    connectionString: z.string().min(1, 'must not be empty').optional(),
    /** A `pg.Pool` the caller owns; the queue runs pg-boss's SQL on it and never ends it. */
    pool: z
      .custom<pg.Pool>((v) => hasMethods(v, ['connect', 'query', 'end', 'on']), 'must be a pg.Pool')
      .optional(),
    /**
     * A `PgBoss` instance the caller owns (its own schema and maintenance settings); the queue
     * starts it when needed but never stops it. `schema` and `maintenanceIntervalSeconds` do not apply.
     */
    boss: z
      .custom<PgBoss>(
        (v) => hasMethods(v, ['start', 'stop', 'send', 'work', 'offWork', 'createQueue']),
        'must be a PgBoss instance',
      )
      .optional(),
    /** The schema of pg-boss's tables (created when missing). Default `pgboss`. */
    schema: identifier.default('pgboss'),
    /** The pg-boss queue that carries training jobs. Default `modelreg-train`. */
    queue: z
      .string()
      .min(1, 'must not be empty')
      .max(100)
      .regex(/^[\w.\-/]+$/, 'must contain only letters, digits, "_", "-", "." and "/"')
      .default('modelreg-train'),
    /**
     * Retries of one job after its first delivery. Default: the job's `maxAttempts` (the registry's
     * `jobs.maxAttempts`, default 3), so the metadata store decides when attempts are used up; the
     * extra delivery lets a worker close out a job whose last attempt died (`LEASE_EXPIRED`).
     */
    retryLimit: z.number().int().min(0).max(100).optional(),
    /** Seconds before the first retry. Default 5. */
    retryDelay: seconds(86_400).default(5),
    /** Double the delay at each retry (pg-boss's exponential backoff, with jitter). Default true. */
    retryBackoff: z.boolean().default(true),
    /**
     * How long a delivered job may stay active: the longest training plus the job lease, with room.
     * A handler still running then is failed and retried by pg-boss; a dead worker's job is retried
     * only after it. Default 900 (15 minutes); at most 23 hours.
     */
    expireInSeconds: seconds(23 * 3600).default(900),
    /** How often a process runs pg-boss maintenance (expiring dead workers' jobs). Default 30. */
    maintenanceIntervalSeconds: seconds(3600).default(30),
    /** How often an idle worker polls for new jobs. Default 2. */
    pollingIntervalSeconds: z.number().min(0.5, 'must be at least 0.5').max(3600).default(2),
    /** How long `stop()` waits for running jobs before it returns. Default 60000 ms. */
    stopTimeoutMs: z.number().int().min(0).max(86_400_000).default(60_000),
    /** Called with errors pg-boss reports in the background (a lost connection); default `console.warn`. */
    onError: z
      .custom<(error: unknown) => void>((v) => typeof v === 'function', 'must be a function')
      .optional(),
  })
  .refine((o) => [o.connectionString, o.pool, o.boss].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of "connectionString", "pool" and "boss"',
    path: ['connectionString'],
  });

export type PgBossJobQueueOptions = z.input<typeof pgBossJobQueueOptionsSchema>;
