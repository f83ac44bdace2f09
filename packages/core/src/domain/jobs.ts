import { z } from 'zod';
import { timestampSchema } from './types.js';

/**
 * Training jobs: the durable handle of a `train` that runs later, in this process or another one.
 * A job record lives in the metadata store (every store implements the job methods), so a restart
 * or another machine sees the same jobs; a {@link JobQueue} decides which process runs which job.
 */
export const jobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const jobStateSchema = z.enum(jobStates);
export type JobState = z.infer<typeof jobStateSchema>;
/** The states a job never leaves. */
export const terminalJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** Phases of a training job, in order. */
export const jobPhases = [
  'queued',
  'reading',
  'fitting',
  'exporting',
  'checking',
  'writing',
  'done',
] as const;
export const jobPhaseSchema = z.enum(jobPhases);
export type JobPhase = z.infer<typeof jobPhaseSchema>;

export const jobProgressSchema = z.object({
  phase: jobPhaseSchema,
  /** 0..1 within the whole job; never decreases within one attempt. */
  fraction: z.number().min(0).max(1),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobResultSchema = z.object({
  runId: z.string(),
  /** The registered model and version, when the options had `register`. */
  model: z.string().nullable(),
  version: z.number().int().min(1).nullable(),
});
export type JobResult = z.infer<typeof jobResultSchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string() });
export type JobError = z.infer<typeof jobErrorSchema>;

export const jobSchema = z.object({
  id: z.string(),
  /** Only `train` for now. */
  kind: z.literal('train'),
  state: jobStateSchema,
  /** The train options as submitted: JSON (no signal, no callbacks; a CSV only as text). */
  options: z.record(z.string(), z.unknown()),
  /** Unique per store when set: a second submit with the same key returns the first job. */
  idempotencyKey: z.string().nullable(),
  progress: jobProgressSchema,
  /** Attempts started so far (a claim counts one). */
  attempts: z.number().int().nonnegative(),
  maxAttempts: z.number().int().min(1),
  result: jobResultSchema.nullable(),
  error: jobErrorSchema.nullable(),
  /** The actor (principal) that submitted it. */
  submittedBy: z.string(),
  createdAt: timestampSchema,
  startedAt: timestampSchema.nullable(),
  endedAt: timestampSchema.nullable(),
  updatedAt: timestampSchema,
  /** Who holds the running attempt, and until when (a worker renews it while it runs). */
  leaseOwner: z.string().nullable(),
  leaseUntil: timestampSchema.nullable(),
});
export type Job = z.infer<typeof jobSchema>;

/** What `createJob` stores; the store sets state `queued`, attempts 0 and the empty fields. */
export interface NewJob {
  id: string;
  kind: 'train';
  options: Record<string, unknown>;
  idempotencyKey: string | null;
  maxAttempts: number;
  submittedBy: string;
  createdAt: number;
}

export interface ListJobsQuery {
  states?: JobState[];
  submittedBy?: string;
  /** Newest first; at most this many (1..1000). */
  limit: number;
  /** Skip this many (paging). */
  offset: number;
}

/** Claim a job for one attempt: a `queued` job, or a `running` one whose lease ran out. */
export interface ClaimJob {
  /** This job only; without it, the oldest claimable job. */
  id?: string;
  owner: string;
  leaseUntil: number;
  time: number;
}

/** Renew the lease of a running attempt and record its progress. */
export interface RenewJob {
  id: string;
  owner: string;
  leaseUntil: number;
  progress?: JobProgress;
  time: number;
}

/**
 * End an attempt. `succeeded` and `failed` end the job and need the owner of the running attempt;
 * `queued` gives the job back for another attempt (owner needed too); `cancelled` needs no owner:
 * any process may cancel a queued or running job (the running attempt sees it and stops).
 */
export interface FinishJob {
  id: string;
  owner?: string;
  state: 'succeeded' | 'failed' | 'cancelled' | 'queued';
  result?: JobResult;
  error?: JobError;
  time: number;
}
