import { randomBytes } from 'node:crypto';
import { decodePageToken, encodePageToken } from './page-token.js';
import { authorize } from './access.js';
import { z } from 'zod';
import type { Job, JobState } from '../domain/jobs.js';
import { jobStateSchema, terminalJobStates } from '../domain/jobs.js';
import { callLimits } from '../domain/limits.js';
import { parseArg } from '../domain/names.js';
import { abortedError, RegistryError } from '../errors.js';
import type { DatasetCatalog } from '../datasets/dataset-catalog.js';
import type { JobQueue } from '../stores/job-queue.js';
import type { TrainerRegistry } from '../training/trainer.js';
import type { RegistryContext } from './context.js';
import { isEmbeddedQueue } from './embedded-queue.js';
import type { EventHandler } from './events.js';
import type { EventType } from '../domain/types.js';
import { TrainingJobRunner } from './job-runner.js';
import { canonicalStage } from './models.js';
import { catalogDataset, trainOptionsSchema } from './train.js';
import type { TrainOptions } from './train.js';
import { resolveModelOption } from '../training/sklearn-names.js';

const where = 'jobs';

/** Inline data of a job is stored with it; more than this belongs in the dataset catalog. */
const MAX_OPTIONS_BYTES = 32 * 1024 * 1024;
/** Tags a job adds to its run (job id and idempotency key), within the per-call tag limit. */
const JOB_TAGS = 2;

/**
 * The train options a job stores: JSON only — no `signal` or `onProgress` (the job is the handle:
 * `cancel`, `wait`, `job.progress` events), and inline CSV as text.
 */
export const jobTrainOptionsSchema = trainOptionsSchema
  .omit({ signal: true, onProgress: true })
  .superRefine((options, issues) => {
    const { dataset } = options;
    if (typeof dataset === 'object' && 'csv' in dataset && typeof dataset.csv !== 'string') {
      issues.addIssue({
        code: 'custom',
        path: ['dataset', 'csv'],
        message: 'must be CSV text in a job (bytes are not JSON); upload large files to the catalog',
      });
    }
    if (Object.keys(options.tags).length > callLimits.tagsPerCall - JOB_TAGS) {
      issues.addIssue({
        code: 'custom',
        path: ['tags'],
        message: `at most ${callLimits.tagsPerCall - JOB_TAGS} tags in a job (its run also gets the job id and key)`,
      });
    }
  });

/** What `registry.jobs.submit` takes: {@link TrainOptions} without `signal` and `onProgress`, dataset as JSON. */
export type JobTrainOptions = Omit<TrainOptions, 'signal' | 'onProgress' | 'dataset'> & {
  dataset:
    | string
    | { name: string; version?: number }
    | { csv: string }
    | { rows: Record<string, string | number | boolean | null>[] };
};

const jobIdSchema = z.string().min(1).max(128);

export const submitJobOptionsSchema = z.strictObject({
  /** A second submit with the same key (from any process) returns the first job and stores nothing. 1–256 chars. */
  idempotencyKey: z.string().min(1).max(256).optional(),
  /** Attempts before the job fails (a lost lease or a store failure uses one). Default: the registry's `jobs.maxAttempts`. */
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
export type SubmitJobOptions = z.input<typeof submitJobOptionsSchema>;

export const listJobsOptionsSchema = z.strictObject({
  state: z.union([jobStateSchema, z.array(jobStateSchema).min(1)]).optional(),
  submittedBy: z.string().min(1).max(256).optional(),
  /** Default 50, at most 1000. */
  limit: z.number().int().min(1).max(1000).default(50),
  pageToken: z.string().optional(),
});
export type ListJobsOptions = z.input<typeof listJobsOptionsSchema>;
export interface ListJobsResult {
  /** Newest first. */
  jobs: Job[];
  /** Pass back as `pageToken` for the next page; `null` on the last page. */
  nextPageToken: string | null;
}

export const waitJobOptionsSchema = z.strictObject({
  /** Give up after this many ms: `ABORTED` with `details.timeoutMs` (the job itself goes on). */
  timeoutMs: z.number().int().min(0).max(2_147_483_647).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
});
export type WaitJobOptions = z.input<typeof waitJobOptionsSchema>;

export interface JobsSettings {
  queue: JobQueue;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
}

let lastIdTime = 0;
let idSequence = 0;
/**
 * Job ids sort like their submission in this process (time in ms, then a counter, then random
 * bits), so jobs submitted in the same millisecond still list and run in submission order.
 */
function newJobId(time: number): string {
  idSequence = time === lastIdTime ? idSequence + 1 : 0;
  lastIdTime = time;
  const ms = Math.max(0, Math.trunc(time)).toString(16).padStart(12, '0');
  return `${ms}${(idSequence % 0x10000).toString(16).padStart(4, '0')}${randomBytes(8).toString('hex')}`;
}

const isTerminal = (state: JobState): boolean => terminalJobStates.includes(state);

/**
 * `registry.jobs`: durable training jobs. A job is a stored `train` call: `submit` validates it
 * completely and stores it (`queued`); a process that runs jobs (`start()`, or lazily the submitting
 * process with the embedded queue) claims it, trains, and records the run and version. Everything
 * about a job — state, progress, attempts, result, error — is in the metadata store, and each change
 * is a `job.*` event in the registry's event log, so any process can follow it (`wait`, `on`).
 */
export class Jobs {
  private readonly runner: TrainingJobRunner;
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly ctx: RegistryContext,
    private readonly datasets: DatasetCatalog,
    private readonly trainers: TrainerRegistry,
    private readonly on: (type: EventType | '*', handler: EventHandler) => () => void,
    private readonly ready: () => Promise<void>,
    private readonly settings: JobsSettings,
    /**
     * The host registry's jobs, for a view (`registry.as(principal)`): the view submits, lists and
     * cancels as its principal, while running jobs (`start`, `stop`, `close`) stays with the host.
     */
    private readonly host?: Jobs,
  ) {
    this.runner = new TrainingJobRunner({ ctx, datasets, trainers, on, leaseMs: settings.leaseMs });
  }

  /** The queue jobs go through (`embedded` unless `open` was given another). */
  get queue(): JobQueue {
    return this.settings.queue;
  }

  /**
   * Validates `options` as completely as `train` would before reading any data — shape, trainer name
   * and params, register stage, that a catalog dataset exists — and stores a `queued` job
   * (`INVALID_ARGUMENT` / `NOT_FOUND` store nothing). With an `idempotencyKey` already used, returns
   * that job instead. The job is handed to the queue; with the embedded queue, a process that has not
   * called `start()` starts running jobs now, so a script's `submit` + `wait` works.
   */
  async submit(options: JobTrainOptions, submitOptions: SubmitJobOptions = {}): Promise<Job> {
    this.assertOpen();
    const opts = parseArg(submitJobOptionsSchema, submitOptions, 'submit options', where);
    const parsed = parseArg(jobTrainOptionsSchema, options, 'job options', where);
    // The job runs later with the host's rights: check the submitter's role and model grant now.
    authorize(this.ctx.principal, 'edit', 'submit a training job', parsed.register?.name);
    const model = resolveModelOption(parsed.model, parsed.task);
    const trainer = this.trainers.get(model.type);
    if (trainer.paramsSchema) parseArg(trainer.paramsSchema, model.params, 'model params', where);
    if (parsed.register?.stage !== undefined) canonicalStage(this.ctx, parsed.register.stage);
    const { dataset } = parsed;
    if (typeof dataset === 'string' || 'name' in dataset) await catalogDataset(this.datasets, dataset);
    const text = JSON.stringify(options);
    if (text.length > MAX_OPTIONS_BYTES) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `job options are ${text.length} bytes of JSON, above ${MAX_OPTIONS_BYTES}; upload the data with registry.datasets.upload and name it`,
        { where, details: { limit: MAX_OPTIONS_BYTES } },
      );
    }
    const createdAt = this.ctx.now();
    const { job, created } = await this.ctx.metadata.createJob({
      id: newJobId(createdAt),
      kind: 'train',
      options: JSON.parse(text) as Record<string, unknown>,
      idempotencyKey: opts.idempotencyKey ?? null,
      maxAttempts: opts.maxAttempts ?? this.settings.maxAttempts,
      submittedBy: this.ctx.actor,
      createdAt,
    });
    this.ctx.changed();
    if (created) {
      const worker = this.host ?? this;
      if (isEmbeddedQueue(this.settings.queue) && !worker.started) await worker.start();
      await this.settings.queue.enqueue(job);
    }
    return job;
  }

  /** The job; `NOT_FOUND` when there is none with this id. */
  async get(id: string): Promise<Job> {
    parseArg(jobIdSchema, id, 'job id', where);
    const job = await this.ctx.metadata.getJob(id);
    if (!job) throw new RegistryError('NOT_FOUND', `job "${id}" does not exist`, { where });
    return job;
  }

  /** Jobs, newest first, filtered by state(s) and submitter, `limit` (default 50, max 1000) a page. */
  async list(options: ListJobsOptions = {}): Promise<ListJobsResult> {
    const opts = parseArg(listJobsOptionsSchema, options, 'list options', where);
    const states =
      opts.state === undefined ? undefined : Array.isArray(opts.state) ? opts.state : [opts.state];
    const fingerprint = JSON.stringify([states ?? null, opts.submittedBy ?? null]);
    const offset = opts.pageToken ? decodePageToken(opts.pageToken, fingerprint, where) : 0;
    const page = await this.ctx.metadata.listJobs({
      ...(states ? { states } : {}),
      ...(opts.submittedBy !== undefined ? { submittedBy: opts.submittedBy } : {}),
      limit: opts.limit + 1,
      offset,
    });
    const more = page.length > opts.limit;
    return {
      jobs: page.slice(0, opts.limit),
      nextPageToken: more ? encodePageToken(offset + opts.limit, fingerprint) : null,
    };
  }

  /**
   * Cancels a queued or running job (`job.cancelled`); a running attempt, in whatever process, stops
   * at its next abort check and writes nothing more. A job that already ended is returned as it is
   * (cancel is idempotent; check `state`). A training already in its short write phase completes, so
   * its run (and version) may exist even though the job ends `cancelled`.
   */
  async cancel(id: string): Promise<Job> {
    const current = await this.get(id);
    if (isTerminal(current.state)) return current;
    const cancelled = await this.ctx.metadata.finishJob({ id, state: 'cancelled', time: this.ctx.now() });
    this.ctx.changed();
    return cancelled ?? this.get(id);
  }

  /**
   * Resolves with the job once it is `succeeded`, `failed` or `cancelled` (a failed job resolves too:
   * check `state` and `error`), following `job.*` events from any process. `timeoutMs` rejects with
   * `ABORTED` (`details.timeoutMs`), `signal` with `ABORTED`; the job goes on either way.
   */
  async wait(id: string, options: WaitJobOptions = {}): Promise<Job> {
    const opts = parseArg(waitJobOptionsSchema, options, 'wait options', where);
    const first = await this.get(id);
    if (isTerminal(first.state)) return first;
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) throw abortedError(signal, where);
    return new Promise<Job>((resolve, reject) => {
      let settled = false;
      let state = first.state;
      const cleanups: (() => void)[] = [];
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        for (const cleanup of cleanups) cleanup();
        outcome();
      };
      const check = (): void => {
        this.ctx.metadata.getJob(id).then(
          (job) => {
            if (job) state = job.state;
            if (job && isTerminal(job.state)) settle(() => resolve(job));
          },
          (e: unknown) => settle(() => reject(e)),
        );
      };
      cleanups.push(
        this.on('*', (event) => {
          if (event.type.startsWith('job.') && event.payload['id'] === id) check();
        }),
      );
      if (timeoutMs !== undefined) {
        const timer = setTimeout(
          () =>
            settle(() =>
              reject(
                new RegistryError(
                  'ABORTED',
                  `waiting for job "${id}" timed out after ${timeoutMs} ms (it is ${state})`,
                  {
                    where,
                    details: { timeoutMs, jobId: id, state },
                  },
                ),
              ),
            ),
          timeoutMs,
        );
        cleanups.push(() => clearTimeout(timer));
      }
      if (signal) {
        const onAbort = (): void => settle(() => reject(abortedError(signal, where)));
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      // The job may have ended between the first read and the listener attaching.
      void this.ready().then(check);
    });
  }

  /**
   * Makes this process run jobs: `queue.start(runner, { concurrency })` (default: the registry's
   * `jobs.concurrency`, 1). Hosts call it at boot, so jobs queued before a restart run. Idempotent.
   */
  start(options: { concurrency?: number } = {}): Promise<void> {
    if (this.host) return this.host.start(options);
    this.assertOpen();
    const { concurrency } = parseArg(
      z.strictObject({ concurrency: z.number().int().min(1).max(256).optional() }),
      options,
      'start options',
      where,
    );
    this.started ??= this.settings.queue
      .start(this.runner, { concurrency: concurrency ?? this.settings.concurrency })
      .catch((e: unknown) => {
        this.started = undefined;
        throw e;
      });
    return this.started;
  }

  /** Stops taking jobs in this process and waits for the running attempts to end. Idempotent. */
  async stop(): Promise<void> {
    if (this.host) return this.host.stop();
    const started = this.started;
    this.started = undefined;
    await started?.catch(() => undefined);
    await this.settings.queue.stop();
  }

  /**
   * For `registry.close()`: aborts the attempts running in this process and gives their jobs back to
   * the queue (`job.requeued`; the attempt counts), then stops the queue.
   */
  async close(): Promise<void> {
    if (this.host) return;
    if (this.closed) return;
    this.closed = true;
    await this.runner.close();
    await this.stop();
  }

  private assertOpen(): void {
    if (this.closed || this.host?.closed)
      throw new RegistryError('CONFLICT', 'the registry is closed', { where });
  }
}
