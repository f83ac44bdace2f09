import { hostname } from 'node:os';
import type { Job, JobError, JobProgress, JobResult } from '../domain/jobs.js';
import { isRegistryError, RegistryError } from '../errors.js';
import type { DatasetCatalog } from '../datasets/dataset-catalog.js';
import type { JobRunner } from '../stores/job-queue.js';
import type { TrainerRegistry } from '../training/trainer.js';
import type { RegistryContext } from './context.js';
import type { EventHandler } from './events.js';
import type { EventType } from '../domain/types.js';
import { newId } from './register.js';
import { train } from './train.js';
import type { TrainOptions } from './train.js';

/** Tags every run of a job carries, so a retried attempt finds the run an earlier attempt finished. */
export const JOB_ID_TAG = 'modelreg.job.id';
export const JOB_KEY_TAG = 'modelreg.job.idempotency_key';

/** How often progress goes to the store at most (each write appends one `job.progress` event). */
const PROGRESS_INTERVAL_MS = 500;

export interface JobRunnerDeps {
  ctx: RegistryContext;
  datasets: DatasetCatalog;
  trainers: TrainerRegistry;
  on: (type: EventType | '*', handler: EventHandler) => () => void;
  leaseMs: number;
}

type StopReason = 'cancelled' | 'lost' | 'closing';

/**
 * Runs training jobs in this process: claims one attempt, trains with a signal and progress, renews
 * the lease (every third of `leaseMs`, and with progress at most twice a second), stops when the job
 * is cancelled or the lease is lost, and records the outcome. A retried attempt first looks for a
 * finished run tagged with the job's id and, when an earlier attempt got that far, finishes the job
 * with it instead of training again, so a job never registers two versions.
 */
export class TrainingJobRunner implements JobRunner {
  private readonly owner = `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
  private readonly active = new Map<string, (reason: StopReason) => void>();
  private readonly settling = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly deps: JobRunnerDeps) {}

  watch(onWaiting: () => void): () => void {
    const offs = (['job.submitted', 'job.requeued'] as const).map((type) => this.deps.on(type, onWaiting));
    return () => offs.forEach((off) => off());
  }

  async runJob(jobId?: string): Promise<'done' | 'idle'> {
    if (this.closing) {
      if (jobId === undefined) return 'idle';
      throw new RegistryError('CONFLICT', 'the registry is closing; the job runs elsewhere or later', {
        where: 'jobs',
      });
    }
    const { ctx, leaseMs } = this.deps;
    const owner = `${this.owner}/${newId().slice(0, 8)}`;
    const time = ctx.now();
    const job = await ctx.metadata.claimJob({
      ...(jobId !== undefined ? { id: jobId } : {}),
      owner,
      leaseUntil: time + leaseMs,
      time,
    });
    ctx.changed();
    if (!job) return jobId === undefined ? 'idle' : 'done';
    const attempt = this.attempt(job, owner);
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    this.settling.add(settled);
    void settled.then(() => this.settling.delete(settled));
    await attempt;
    return 'done';
  }

  /**
   * Aborts every running attempt, and resolves once each has given its job back to the queue (for
   * `registry.close()`, before the stores close).
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const stop of this.active.values()) stop('closing');
    await Promise.all([...this.settling]);
  }

  private async attempt(job: Job, owner: string): Promise<void> {
    const { ctx, leaseMs } = this.deps;
    const controller = new AbortController();
    let stopped: StopReason | undefined;
    const stop = (reason: StopReason): void => {
      stopped ??= reason;
      controller.abort(
        new RegistryError(
          'ABORTED',
          reason === 'cancelled'
            ? `job "${job.id}" was cancelled`
            : reason === 'lost'
              ? `job "${job.id}" lost its lease`
              : 'the registry closed',
          { where: 'jobs' },
        ),
      );
    };
    this.active.set(job.id, stop);
    if (this.closing) stop('closing');
    const offCancel = this.deps.on('job.cancelled', (e) => {
      if (e.payload['id'] === job.id) stop('cancelled');
    });

    let progress: JobProgress = { phase: 'queued', fraction: 0 };
    let written = progress;
    let renewedAt = ctx.now();
    let renewing = false;
    /** `overall`: the fraction of the whole training call, as `train`'s progress reports it. */
    const setProgress = (phase: JobProgress['phase'], overall: number): void => {
      const fraction = Math.max(progress.fraction, Math.min(1, overall));
      if (phase !== progress.phase || fraction !== progress.fraction) progress = { phase, fraction };
    };
    const renew = async (): Promise<void> => {
      const now = ctx.now();
      const changed = progress !== written;
      if (renewing || stopped || (!changed && now - renewedAt < leaseMs / 3)) return;
      renewing = true;
      const sent = progress;
      try {
        const renewed = await ctx.metadata.renewJob({
          id: job.id,
          owner,
          leaseUntil: now + leaseMs,
          ...(changed ? { progress: sent } : {}),
          time: now,
        });
        if (!renewed) stop('lost');
        else {
          renewedAt = now;
          written = sent;
          if (changed) ctx.changed();
        }
      } catch {
        // The next tick retries; the lease only runs out after a whole leaseMs without renewal.
      } finally {
        renewing = false;
      }
    };
    const timer = setInterval(() => void renew(), Math.max(10, Math.min(PROGRESS_INTERVAL_MS, leaseMs / 3)));
    timer.unref();

    const finish = async (
      state: 'succeeded' | 'failed' | 'queued',
      outcome: { result?: JobResult; error?: JobError },
    ): Promise<void> => {
      await ctx.metadata.finishJob({ id: job.id, owner, state, ...outcome, time: ctx.now() });
      ctx.changed();
    };

    try {
      const options = job.options as TrainOptions;
      const earlier = job.attempts > 1 ? await this.finishedRun(job) : null;
      if (earlier) {
        await finish('succeeded', { result: earlier });
        return;
      }
      // The submitter's permissions were checked at submit; what the job changes records them as actor.
      const asSubmitter = { ...ctx, actor: job.submittedBy };
      const result = await train(asSubmitter, this.deps.datasets, this.deps.trainers, {
        ...options,
        tags: {
          ...options.tags,
          [JOB_ID_TAG]: job.id,
          ...(job.idempotencyKey !== null ? { [JOB_KEY_TAG]: job.idempotencyKey } : {}),
        },
        signal: controller.signal,
        onProgress: (p) => setProgress(p.phase ?? 'fitting', p.overall ?? p.fraction),
      });
      await finish('succeeded', {
        result: {
          runId: result.run.id,
          model: result.version?.name ?? null,
          version: result.version?.version ?? null,
        },
      });
    } catch (e) {
      // Cancelled, or another worker holds the job now: this attempt has nothing left to record.
      if (stopped === 'cancelled' || stopped === 'lost') return;
      const error: JobError = {
        code: isRegistryError(e) ? e.code : 'INTERNAL',
        message: e instanceof Error ? e.message : String(e),
      };
      if (stopped === 'closing') {
        await finish('queued', { error });
        // Given back: the queue must deliver it again (pg-boss only retries a rejected delivery).
        throw e;
      }
      // Store failures are worth another attempt; bad input, bad params or a failing trainer are not.
      const transient = isRegistryError(e, 'STORE_FAILURE');
      if (transient && job.attempts < job.maxAttempts) {
        await finish('queued', { error });
        throw e;
      }
      await finish('failed', { error });
    } finally {
      clearInterval(timer);
      offCancel();
      this.active.delete(job.id);
    }
  }

  /** The run (and version) an earlier attempt of `job` finished, if one did. */
  private async finishedRun(job: Job): Promise<JobResult | null> {
    const { metadata } = this.deps.ctx;
    const options = job.options as TrainOptions;
    const experiment = await metadata.getExperimentByName(options.experiment ?? 'Default');
    if (!experiment) return null;
    const [run] = await metadata.searchRuns({
      experimentIds: [experiment.id],
      where: { status: 'finished', tags: { [JOB_ID_TAG]: job.id } },
      limit: 1,
      offset: 0,
    });
    if (!run) return null;
    const name = options.register?.name;
    const version =
      name === undefined
        ? undefined
        : (await metadata.listVersions(name, {}).catch(() => [])).find((v) => v.runId === run.id);
    return { runId: run.id, model: version?.name ?? null, version: version?.version ?? null };
  }
}
