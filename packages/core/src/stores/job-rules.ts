import type { ClaimJob, FinishJob, Job, NewJob, RenewJob } from '../domain/jobs.js';
import { RegistryError } from '../errors.js';
import type { EventDraft } from './metadata-store.js';

/**
 * The job transitions every metadata store applies, in one place: a store reads the job (locking its
 * row), asks these functions what the job becomes and which event to append, and writes both in one
 * transaction. `null` means "the compare-and-set failed: change nothing".
 */
export interface JobChange {
  job: Job;
  event: EventDraft;
}

/** `createJob` with an id already taken. */
export const jobExists = (where: string, id: string): RegistryError =>
  new RegistryError('ALREADY_EXISTS', `job "${id}" already exists`, { where });

/** The record `createJob` stores. */
export function newJobRecord(input: NewJob): Job {
  return {
    id: input.id,
    kind: input.kind,
    state: 'queued',
    options: structuredClone(input.options),
    idempotencyKey: input.idempotencyKey,
    progress: { phase: 'queued', fraction: 0 },
    attempts: 0,
    maxAttempts: input.maxAttempts,
    result: null,
    error: null,
    submittedBy: input.submittedBy,
    createdAt: input.createdAt,
    startedAt: null,
    endedAt: null,
    updatedAt: input.createdAt,
    leaseOwner: null,
    leaseUntil: null,
  };
}

export function submittedEvent(job: Job): EventDraft {
  return { type: 'job.submitted', payload: { id: job.id, kind: job.kind, submittedBy: job.submittedBy } };
}

/** `queued`, or `running` with a lease that ended before `time`. */
export function isClaimable(job: Job, time: number): boolean {
  return job.state === 'queued' || (job.state === 'running' && (job.leaseUntil ?? 0) < time);
}

/**
 * One claim: the job runs attempt `attempts + 1`, or, when its attempts are used up, ends as
 * `failed` (`LEASE_EXPIRED` when the last attempt lost its lease, `ATTEMPTS_EXHAUSTED` when it was
 * given back) — the caller then returns `null` from `claimJob`.
 */
export function claimJob(job: Job, claim: ClaimJob): JobChange | null {
  if (!isClaimable(job, claim.time)) return null;
  if (job.attempts >= job.maxAttempts) {
    const expired = job.state === 'running';
    const error = expired
      ? {
          code: 'LEASE_EXPIRED',
          message: `attempt ${job.attempts} of ${job.maxAttempts} lost its lease (owner ${job.leaseOwner ?? '?'}) and no attempt is left`,
        }
      : {
          code: 'ATTEMPTS_EXHAUSTED',
          message: `all ${job.maxAttempts} attempts were used${job.error ? ` (last error: ${job.error.message})` : ''}`,
        };
    return {
      job: {
        ...job,
        state: 'failed',
        error,
        endedAt: claim.time,
        updatedAt: claim.time,
        leaseOwner: null,
        leaseUntil: null,
      },
      event: { type: 'job.failed', payload: { id: job.id, code: error.code, attempts: job.attempts } },
    };
  }
  const attempts = job.attempts + 1;
  return {
    job: {
      ...job,
      state: 'running',
      attempts,
      progress: { phase: 'queued', fraction: 0 },
      startedAt: job.startedAt ?? claim.time,
      updatedAt: claim.time,
      leaseOwner: claim.owner,
      leaseUntil: claim.leaseUntil,
    },
    event: { type: 'job.started', payload: { id: job.id, attempt: attempts, owner: claim.owner } },
  };
}

/** Renewal by the owner of the running attempt; `event` is `null` when no progress was given. */
export function renewJob(job: Job, change: RenewJob): { job: Job; event: EventDraft | null } | null {
  if (job.state !== 'running' || job.leaseOwner !== change.owner) return null;
  const progress = change.progress ?? job.progress;
  return {
    job: { ...job, progress: { ...progress }, leaseUntil: change.leaseUntil, updatedAt: change.time },
    event: change.progress
      ? {
          type: 'job.progress',
          payload: { id: job.id, phase: progress.phase, fraction: progress.fraction },
        }
      : null,
  };
}

/** See {@link FinishJob}. */
export function finishJob(job: Job, change: FinishJob): JobChange | null {
  if (change.state === 'cancelled') {
    if (job.state !== 'queued' && job.state !== 'running') return null;
    return {
      job: {
        ...job,
        state: 'cancelled',
        endedAt: change.time,
        updatedAt: change.time,
        leaseOwner: null,
        leaseUntil: null,
      },
      event: { type: 'job.cancelled', payload: { id: job.id } },
    };
  }
  if (job.state !== 'running' || change.owner === undefined || job.leaseOwner !== change.owner) return null;
  const released = { ...job, updatedAt: change.time, leaseOwner: null, leaseUntil: null };
  if (change.state === 'queued') {
    return {
      job: { ...released, state: 'queued', error: change.error ?? job.error },
      event: { type: 'job.requeued', payload: { id: job.id, attempts: job.attempts } },
    };
  }
  if (change.state === 'succeeded') {
    const result = change.result ?? null;
    return {
      job: {
        ...released,
        state: 'succeeded',
        result,
        error: null,
        progress: { phase: 'done', fraction: 1 },
        endedAt: change.time,
      },
      event: {
        type: 'job.succeeded',
        payload: {
          id: job.id,
          runId: result?.runId ?? null,
          model: result?.model ?? null,
          version: result?.version ?? null,
        },
      },
    };
  }
  const error = change.error ?? { code: 'FAILED', message: 'the job failed' };
  return {
    job: { ...released, state: 'failed', error, endedAt: change.time },
    event: { type: 'job.failed', payload: { id: job.id, code: error.code, attempts: job.attempts } },
  };
}

/** Newest first: `createdAt` desc, then `id` desc. */
export function compareJobsNewestFirst(a: Job, b: Job): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Claim order: `createdAt` asc, then `id` asc. */
export function compareJobsOldestFirst(a: Job, b: Job): number {
  return -compareJobsNewestFirst(a, b);
}

/**
 * The mutable columns of a job row in the order both SQL stores write them: state, phase, fraction,
 * attempts, result (JSON), error (JSON), started_at, ended_at, updated_at, lease_owner, lease_until.
 */
export function jobUpdateValues(job: Job): (string | number | null)[] {
  return [
    job.state,
    job.progress.phase,
    job.progress.fraction,
    job.attempts,
    job.result === null ? null : JSON.stringify(job.result),
    job.error === null ? null : JSON.stringify(job.error),
    job.startedAt,
    job.endedAt,
    job.updatedAt,
    job.leaseOwner,
    job.leaseUntil,
  ];
}
