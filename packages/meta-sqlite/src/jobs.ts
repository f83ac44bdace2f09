import { jobRules } from '@modelreg/core';
import type { Job, JobMethods, JobPhase, JobState } from '@modelreg/core';
import { LIMIT, type StoreContext } from './context.js';
import { STORE_NAME } from './transactions.js';
import type { Migration } from './migrations.js';

/** Migration 4: training jobs (issue 13). */
export const jobsMigration: Migration = {
  version: 4,
  name: 'training jobs',
  sql: `
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      options TEXT NOT NULL,
      idempotency_key TEXT UNIQUE,
      phase TEXT NOT NULL,
      fraction REAL NOT NULL,
      attempts INTEGER NOT NULL,
      max_attempts INTEGER NOT NULL,
      result TEXT,
      error TEXT,
      submitted_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      ended_at INTEGER,
      updated_at INTEGER NOT NULL,
      lease_owner TEXT,
      lease_until INTEGER
    );
    CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
    CREATE INDEX jobs_claimable ON jobs (created_at, id) WHERE state IN ('queued', 'running');
  `,
};

interface JobRow {
  id: string;
  kind: string;
  state: string;
  options: string;
  idempotency_key: string | null;
  phase: string;
  fraction: number;
  attempts: number;
  max_attempts: number;
  result: string | null;
  error: string | null;
  submitted_by: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
  lease_owner: string | null;
  lease_until: number | null;
}

const toJob = (row: JobRow): Job => ({
  id: row.id,
  kind: 'train',
  state: row.state as JobState,
  options: JSON.parse(row.options) as Record<string, unknown>,
  idempotencyKey: row.idempotency_key,
  progress: { phase: row.phase as JobPhase, fraction: row.fraction },
  attempts: row.attempts,
  maxAttempts: row.max_attempts,
  result: row.result === null ? null : (JSON.parse(row.result) as Job['result']),
  error: row.error === null ? null : (JSON.parse(row.error) as Job['error']),
  submittedBy: row.submitted_by,
  createdAt: row.created_at,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  updatedAt: row.updated_at,
  leaseOwner: row.lease_owner,
  leaseUntil: row.lease_until,
});

const CLAIMABLE = `SELECT * FROM jobs
  WHERE state = 'queued' OR (state = 'running' AND COALESCE(lease_until, 0) < ?)
  ORDER BY created_at, id LIMIT 50`;

/** Training jobs: every change is one `BEGIN IMMEDIATE` transaction (read, {@link jobRules}, write, event). */
export function createJobMethods(ctx: StoreContext): JobMethods {
  const load = (id: string): Job | null => {
    const row = ctx.get<JobRow>('SELECT * FROM jobs WHERE id = ?', id);
    return row ? toJob(row) : null;
  };
  const save = (job: Job): Job => {
    ctx.run(
      `UPDATE jobs SET state = ?, phase = ?, fraction = ?, attempts = ?, result = ?, error = ?,
         started_at = ?, ended_at = ?, updated_at = ?, lease_owner = ?, lease_until = ? WHERE id = ?`,
      ...jobRules.jobUpdateValues(job),
      job.id,
    );
    return job;
  };

  return {
    createJob: (input) =>
      ctx.write('createJob', () => {
        if (input.idempotencyKey !== null) {
          const row = ctx.get<JobRow>('SELECT * FROM jobs WHERE idempotency_key = ?', input.idempotencyKey);
          if (row) return { job: toJob(row), created: false };
        }
        if (ctx.get('SELECT 1 FROM jobs WHERE id = ?', input.id)) {
          throw jobRules.jobExists(STORE_NAME, input.id);
        }
        const job = jobRules.newJobRecord(input);
        ctx.run(
          `INSERT INTO jobs (id, kind, state, options, idempotency_key, phase, fraction, attempts,
             max_attempts, submitted_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        );
        const event = jobRules.submittedEvent(job);
        ctx.emit(event.type, event.payload);
        return { job, created: true };
      }),

    getJob: (id) => ctx.read('getJob', () => load(id)),

    listJobs: (query) =>
      ctx.read('listJobs', () => {
        const where: string[] = [];
        const params: (string | number)[] = [];
        if (query.states) {
          where.push(
            query.states.length === 0 ? '0' : `state IN (${query.states.map(() => '?').join(', ')})`,
          );
          params.push(...query.states);
        }
        if (query.submittedBy !== undefined) {
          where.push('submitted_by = ?');
          params.push(query.submittedBy);
        }
        const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC, id DESC ${LIMIT} OFFSET ?`;
        return ctx.query<JobRow>(sql, [...params, query.limit, query.offset]).map(toJob);
      }),

    claimJob: (claim) =>
      ctx.write('claimJob', () => {
        for (;;) {
          const candidates =
            claim.id === undefined
              ? ctx.all<JobRow>(CLAIMABLE, claim.time).map(toJob)
              : [load(claim.id)].filter((j): j is Job => j !== null);
          let progressed = false;
          for (const job of candidates) {
            const change = jobRules.claimJob(job, claim);
            if (!change) continue;
            progressed = true;
            save(change.job);
            ctx.emit(change.event.type, change.event.payload);
            if (change.job.state === 'running') return change.job;
          }
          // Only exhausted jobs were met (each now failed): look again, unless that was all there is.
          if (claim.id !== undefined || !progressed || candidates.length < 50) return null;
        }
      }),

    renewJob: (change) =>
      ctx.write('renewJob', () => {
        const job = load(change.id);
        const next = job && jobRules.renewJob(job, change);
        if (!next) return null;
        save(next.job);
        if (next.event) ctx.emit(next.event.type, next.event.payload);
        return next.job;
      }),

    finishJob: (change) =>
      ctx.write('finishJob', () => {
        const job = load(change.id);
        const next = job && jobRules.finishJob(job, change);
        if (!next) return null;
        save(next.job);
        ctx.emit(next.event.type, next.event.payload);
        return next.job;
      }),
  };
}
