import type { Job } from '../domain/jobs.js';

/**
 * What a queue hands its work to: the registry's job runner in this process. `runJob` claims the
 * job in the metadata store (one attempt, with a lease it renews), runs it and records the outcome;
 * it resolves `'done'` when the job ended (succeeded, failed or cancelled) or was not claimable any
 * more (another process holds it, or it ended), and rejects only when the attempt should be retried
 * later (a store failure, a lost lease); a queue then retries with its own backoff.
 */
export interface JobRunner {
  /** Claims and runs this job, or, without an id, the oldest claimable job ('idle' when none). */
  runJob(jobId?: string): Promise<'done' | 'idle'>;
  /**
   * Calls `onWaiting` whenever a job may have become claimable (a `job.submitted` or `job.requeued`
   * event, from any process sharing the metadata store). Returns a function that stops it. Queues
   * that poll the metadata store (the embedded one) use it to react without waiting for their next poll.
   */
  watch?(onWaiting: () => void): () => void;
}

/**
 * Decides which process runs which training job. Job records (state, progress, attempts, results)
 * always live in the metadata store; a queue only carries "job X waits" to the processes that run
 * jobs. Built in: the embedded queue (`createEmbeddedQueue`, the default: the processes that call
 * `registry.jobs.start()` poll the metadata store). `@modelreg/queue-pgboss` spreads jobs over
 * worker processes on many machines through pg-boss.
 */
export interface JobQueue {
  /** A short name for logs and `/health`, e.g. `embedded` or `pg-boss`. */
  readonly name: string;
  /** Called once by the registry when it opens (creating tables, connecting). */
  init?(): Promise<void>;
  /** Tells the queue that a stored job (state `queued`) waits. */
  enqueue(job: Job): Promise<void>;
  /**
   * Starts handing jobs to `runner` in this process, at most `concurrency` at a time; resolves once
   * it listens. Called by `registry.jobs.start()`.
   */
  start(runner: JobRunner, options: { concurrency: number }): Promise<void>;
  /** Stops taking jobs and waits for the running ones to settle. Idempotent. */
  stop(): Promise<void>;
}
