import { jobRules } from '@modelreg/core';
import type { Job, JobMethods, JobPhase, JobState } from '@modelreg/core';
import { WHERE } from './db.js';
import type { Db, Tx } from './db.js';
import type { Migration } from './migrations.js';

/** Migration 4: training jobs (issue 13). */
export const jobsMigration: Migration = {
  version: 4,
  name: 'training jobs',
  sql: `
CREATE TABLE $S.jobs (
  id text PRIMARY KEY,
  kind text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  options jsonb NOT NULL,
  idempotency_key text,
  phase text NOT NULL,
  fraction double precision NOT NULL,
  attempts integer NOT NULL,
  max_attempts integer NOT NULL,
  result jsonb,
  error jsonb,
  submitted_by text NOT NULL,
  created_at bigint NOT NULL,
  started_at bigint,
  ended_at bigint,
  updated_at bigint NOT NULL,
  lease_owner text,
  lease_until bigint,
  CONSTRAINT jobs_idempotency_key_unique UNIQUE (idempotency_key)
);
CREATE INDEX jobs_newest_idx ON $S.jobs (created_at DESC, id DESC);
CREATE INDEX jobs_claimable_idx ON $S.jobs (created_at, id) WHERE state IN ('queued', 'running');
`,
};

type Int8 = string | number;
interface JobRow {
  id: string;
  kind: string;
  state: string;
  options: Record<string, unknown>;
  idempotency_key: string | null;
  phase: string;
  fraction: number;
  attempts: number;
  max_attempts: number;
  result: Job['result'];
  error: Job['error'];
  submitted_by: string;
  created_at: Int8;
  started_at: Int8 | null;
  ended_at: Int8 | null;
  updated_at: Int8;
  lease_owner: string | null;
  lease_until: Int8 | null;
}

const numOrNull = (value: Int8 | null): number | null => (value === null ? null : Number(value));

const toJob = (row: JobRow): Job => ({
  id: row.id,
  kind: 'train',
  state: row.state as JobState,
  options: row.options,
  idempotencyKey: row.idempotency_key,
  progress: { phase: row.phase as JobPhase, fraction: row.fraction },
  attempts: row.attempts,
  maxAttempts: row.max_attempts,
  result: row.result,
  error: row.error,
  submittedBy: row.submitted_by,
  createdAt: Number(row.created_at),
  startedAt: numOrNull(row.started_at),
  endedAt: numOrNull(row.ended_at),
  updatedAt: Number(row.updated_at),
  leaseOwner: row.lease_owner,
  leaseUntil: numOrNull(row.lease_until),
});

/**
 * Training jobs: every change is one transaction that locks the job row (`FOR UPDATE`), applies
 * {@link jobRules} and appends the event; claims without an id skip rows other claims hold.
 */
export function jobMethods(db: Db): JobMethods {
  const { s } = db;
  const lock = async (tx: Tx, id: string): Promise<Job | null> => {
    const [row] = await tx.query<JobRow>(`SELECT * FROM ${s}.jobs WHERE id = $1 FOR UPDATE`, [id]);
    return row ? toJob(row) : null;
  };
  const save = async (tx: Tx, job: Job): Promise<Job> => {
    await tx.query(
      `UPDATE ${s}.jobs SET state = $2, phase = $3, fraction = $4, attempts = $5, result = $6, error = $7,
         started_at = $8, ended_at = $9, updated_at = $10, lease_owner = $11, lease_until = $12 WHERE id = $1`,
      [job.id, ...jobRules.jobUpdateValues(job)],
    );
    return job;
  };

  return {
    createJob: (input) =>
      db.transaction(async (tx) => {
        const job = jobRules.newJobRecord(input);
        const inserted = await tx.query(
          `INSERT INTO ${s}.jobs (id, kind, state, options, idempotency_key, phase, fraction, attempts,
             max_attempts, submitted_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING id`,
          [
            job.id,
            job.kind,
            job.state,
            JSON.stringify(job.options),
            job.idempotencyKey,
            job.progress.phase,
            job.progress.fraction,
            job.attempts,
            job.maxAttempts,
            job.submittedBy,
            job.createdAt,
            job.updatedAt,
          ],
        );
        if (inserted.length === 0) {
          if (input.idempotencyKey !== null) {
            const [row] = await tx.query<JobRow>(`SELECT * FROM ${s}.jobs WHERE idempotency_key = $1`, [
              input.idempotencyKey,
            ]);
            if (row) return { job: toJob(row), created: false };
          }
          throw jobRules.jobExists(WHERE, input.id);
        }
        const event = jobRules.submittedEvent(job);
        tx.emit(event.type, event.payload);
        return { job, created: true };
      }),

    async getJob(id) {
      const [row] = await db.read<JobRow>(`SELECT * FROM ${s}.jobs WHERE id = $1`, [id]);
      return row ? toJob(row) : null;
    },

    async listJobs(query) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.states) {
        params.push(query.states);
        where.push(`state = ANY($${params.length}::text[])`);
      }
      if (query.submittedBy !== undefined) {
        params.push(query.submittedBy);
        where.push(`submitted_by = $${params.length}`);
      }
      params.push(query.limit, query.offset);
      const rows = await db.read<JobRow>(
        `SELECT * FROM ${s}.jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
        params,
      );
      return rows.map(toJob);
    },

    claimJob: (claim) =>
      db.transaction(async (tx) => {
        for (;;) {
          const job =
            claim.id !== undefined
              ? await lock(tx, claim.id)
              : await tx
                  .query<JobRow>(
                    `SELECT * FROM ${s}.jobs
                     WHERE state = 'queued' OR (state = 'running' AND COALESCE(lease_until, 0) < $1)
                     ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
                    [claim.time],
                  )
                  .then(([row]) => (row ? toJob(row) : null));
          const change = job && jobRules.claimJob(job, claim);
          if (!change) return null;
          await save(tx, change.job);
          tx.emit(change.event.type, change.event.payload);
          if (change.job.state === 'running') return change.job;
          // An exhausted job was ended as failed: with an id that is all; without, take the next one.
          if (claim.id !== undefined) return null;
        }
      }),

    renewJob: (change) =>
      db.transaction(async (tx) => {
        const job = await lock(tx, change.id);
        const next = job && jobRules.renewJob(job, change);
        if (!next) return null;
        await save(tx, next.job);
        if (next.event) tx.emit(next.event.type, next.event.payload);
        return next.job;
      }),

    finishJob: (change) =>
      db.transaction(async (tx) => {
        const job = await lock(tx, change.id);
        const next = job && jobRules.finishJob(job, change);
        if (!next) return null;
        await save(tx, next.job);
        tx.emit(next.event.type, next.event.payload);
        return next.job;
      }),
  };
}
