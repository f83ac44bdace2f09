import type { ModelRegistry } from '@modelreg/core';
import type { LogEntry } from './run-worker.js';

export interface TrainingJobsOptions {
  registry: ModelRegistry;
  /** Jobs this process runs at once. */
  concurrency: number;
  /** Stops taking jobs when aborted (SIGINT/SIGTERM in the CLI). */
  signal: AbortSignal;
  log?: (entry: LogEntry) => void;
}

/**
 * The training side of a fleet: runs training jobs from the registry's queue (embedded or pg-boss,
 * as the registry was opened) at most `concurrency` at a time, logging each job's events, until
 * `signal` aborts. The caller then closes the registry, which gives the jobs still running back to
 * the queue for another worker or the next start.
 */
export async function runTrainingJobs(options: TrainingJobsOptions): Promise<void> {
  const { registry, concurrency, signal } = options;
  const log = options.log ?? (() => undefined);
  const off = registry.on('*', (event) => {
    if (!event.type.startsWith('job.') || event.type === 'job.progress') return;
    log({ event: event.type, ...event.payload });
  });
  try {
    if (signal.aborted) return;
    await registry.jobs.start({ concurrency });
    log({ event: 'worker.train_jobs', queue: registry.jobs.queue.name, concurrency });
    // The queue's timers do not keep a process alive; this one does, until the signal.
    const alive = setInterval(() => undefined, 60_000);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(alive);
  } finally {
    off();
  }
}
