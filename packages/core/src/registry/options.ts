import { userInfo } from 'node:os';
import { z } from 'zod';
import { nameSchema } from '../domain/names.js';
import { parseInput } from '../domain/parse.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import type { JobQueue } from '../stores/job-queue.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import type { WebhookTransport } from './webhook-target.js';

export const defaultStages = ['none', 'staging', 'production', 'archived'] as const;

const storeShape = (methods: string[]) =>
  z.custom<object>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    { message: `must be a store object with ${methods.join(', ')}` },
  );

/** Options of {@link ModelRegistry.open}. */
export const registryOptionsSchema = z.object({
  /** Where metadata lives, e.g. `createSqliteMetadataStore({ filename })`. */
  metadata: storeShape(['init', 'close', 'createVersion', 'readEvents']),
  /** Where bytes live, e.g. `createFsArtifactStore({ root })`. */
  artifacts: storeShape(['init', 'close', 'put', 'get', 'list']),
  /**
   * Ordered stage names, at least two, unique (case-insensitively). New versions start in the first;
   * `archiveExisting` moves versions to the last. Default `['none', 'staging', 'production', 'archived']`.
   */
  stages: z
    .array(nameSchema)
    .min(2)
    .refine((s) => new Set(s.map((x) => x.toLowerCase())).size === s.length, 'stage names must be unique')
    .default([...defaultStages]),
  /** Recorded as the actor of changes that name none. Default: the OS user name. */
  actor: z.string().min(1).max(256).optional(),
  /** Clock for timestamps (ms since epoch); tests inject one. */
  now: z.custom<() => number>((v) => typeof v === 'function').optional(),
  /** How many loaded models the cache keeps. Default 16. */
  modelCacheSize: z.number().int().min(1).max(10_000).default(16),
  /** Intra-op threads of each onnxruntime session. Default 1 (one core per model; scale with processes). */
  onnxThreads: z.number().int().min(1).max(256).default(1),
  /**
   * Where `train` runs the built-in trainers: `thread` (default), worker threads of this process;
   * `process`, a child process at a lower priority, with its own memory and collector, so a large
   * training's allocations never delay this process's event loop (for servers that train and serve).
   * Trainers registered by the application run on the calling thread either way.
   */
  trainIsolation: z.enum(['thread', 'process']).default('thread'),
  /**
   * How long a `running` run may go without a heartbeat before `open` or `gc` (in any process) ends it
   * as `failed`. Processes send heartbeats for their open runs every third of this. Use one value for
   * every process of a registry. Default 5 minutes.
   */
  runLeaseMs: z
    .number()
    .int()
    .min(1000)
    .max(7 * 24 * 3600 * 1000)
    .default(5 * 60 * 1000),
  /** How often the event feed polls a store that cannot push wake-ups, in ms. Default 500. */
  eventPollIntervalMs: z.number().int().min(10).max(600_000).default(500),
  /** Training jobs (`registry.jobs`). */
  jobs: z
    .strictObject({
      /**
       * Which processes run which jobs. Default `createEmbeddedQueue()`: jobs wait in the metadata
       * store and the processes that call `registry.jobs.start()` claim them. `@modelreg/queue-pgboss`
       * spreads them over worker processes on many machines.
       */
      queue: z
        .custom<JobQueue>(
          (v) =>
            typeof v === 'object' &&
            v !== null &&
            ['enqueue', 'start', 'stop'].every(
              (m) => typeof (v as Record<string, unknown>)[m] === 'function',
            ),
          { message: 'must be a JobQueue (enqueue, start, stop)' },
        )
        .optional(),
      /** Jobs this process runs at once after `start()`. Default 1. */
      concurrency: z.number().int().min(1).max(256).default(1),
      /**
       * How long a running attempt holds its job without renewing (it renews every third of this).
       * When it runs out (the process died), another process claims the job for the next attempt.
       * Default 30 s.
       */
      leaseMs: z
        .number()
        .int()
        .min(100)
        .max(24 * 3600 * 1000)
        .default(30_000),
      /** Attempts before a job fails, unless `submit` says otherwise. Default 3. */
      maxAttempts: z.number().int().min(1).max(100).default(3),
    })
    .default({ concurrency: 1, leaseMs: 30_000, maxAttempts: 3 }),
  /** Webhook delivery (`registry.webhooks`); every part has a default. */
  webhooks: z
    .strictObject({
      /**
       * Let webhooks target private, loopback and link-local addresses. Default: the environment
       * variable `MODELREG_WEBHOOK_ALLOW_PRIVATE=true`, else `false`.
       */
      allowPrivate: z.boolean().optional(),
      /** Timeout of one delivery attempt (connect to end of answer). Default 10 s. */
      timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
      /** How long a process holds a webhook's cursor without renewing it. Default 30 s. */
      leaseMs: z.number().int().min(10).max(3_600_000).default(30_000),
      /** How often a delivering process looks for due retries and webhooks it could take over. Default 1 s. */
      pollIntervalMs: z.number().int().min(5).max(600_000).default(1000),
      /**
       * Retry delays: `initialMs * 2^(n-1)` after the n-th failure in a row, at most `maxMs`.
       * Default 5 s doubling to 1 h.
       */
      backoff: z
        .strictObject({
          initialMs: z.number().int().min(1).max(86_400_000).default(5000),
          maxMs: z.number().int().min(1).max(86_400_000).default(3_600_000),
        })
        .default({ initialMs: 5000, maxMs: 3_600_000 }),
      /**
       * Failed attempts in a row after which a webhook is disabled. Default 33: with the default
       * backoff, about 24.4 hours of retries (10 doubling delays up to 42 min, then hourly).
       */
      maxFailures: z.number().int().min(1).max(10_000).default(33),
      /** Events read from the log at a time per webhook. Default 100. */
      batchSize: z.number().int().min(1).max(10_000).default(100),
      /** Replaces the HTTP client (tests, proxies). Default: node:http(s) with a private-address-checking DNS lookup. */
      transport: z.custom<WebhookTransport>((v) => typeof v === 'function', 'must be a function').optional(),
    })
    .default({
      timeoutMs: 10_000,
      leaseMs: 30_000,
      pollIntervalMs: 1000,
      backoff: { initialMs: 5000, maxMs: 3_600_000 },
      maxFailures: 33,
      batchSize: 100,
    }),
});

export type RegistryOptions = z.input<typeof registryOptionsSchema> & {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
};
export type ResolvedRegistryOptions = z.output<typeof registryOptionsSchema> & {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
};

export function parseRegistryOptions(options: unknown): ResolvedRegistryOptions {
  const parsed = parseInput(registryOptionsSchema, options, {
    code: 'INVALID_CONFIG',
    what: 'option',
    where: 'open',
  });
  return parsed as ResolvedRegistryOptions;
}

export function defaultActor(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
