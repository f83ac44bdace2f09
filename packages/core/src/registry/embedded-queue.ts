import { z } from 'zod';
import { parseInput } from '../domain/parse.js';
import type { JobQueue, JobRunner } from '../stores/job-queue.js';

export const embeddedQueueOptionsSchema = z.strictObject({
  /** How often a started queue looks for claimable jobs when nothing woke it, in ms. Default 1000. */
  pollIntervalMs: z.number().int().min(10).max(600_000).default(1000),
});
export type EmbeddedQueueOptions = z.input<typeof embeddedQueueOptionsSchema>;

const embeddedQueues = new WeakSet<JobQueue>();

/** Whether `queue` came from {@link createEmbeddedQueue} (the registry then starts it lazily on submit). */
export function isEmbeddedQueue(queue: JobQueue): boolean {
  return embeddedQueues.has(queue);
}

/**
 * The default {@link JobQueue}: no queue at all beyond the metadata store. A started queue claims
 * jobs straight from the store (`claimJob` without an id, oldest first) whenever a job may be waiting
 * (a `job.submitted` or `job.requeued` event, or `enqueue` in this process) and every
 * `pollIntervalMs` (which also picks up jobs whose worker died once their lease ran out), keeping at
 * most `concurrency` attempts running. Queued jobs survive a restart because they are rows of the
 * store; any process that calls `registry.jobs.start()` on the same store takes part.
 */
export function createEmbeddedQueue(options: EmbeddedQueueOptions = {}): JobQueue {
  const { pollIntervalMs } = parseInput(embeddedQueueOptionsSchema, options, {
    code: 'INVALID_CONFIG',
    what: 'option',
    where: 'embedded-queue',
  });
  let runner: JobRunner | undefined;
  let concurrency = 1;
  let running = 0;
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  const inflight = new Set<Promise<void>>();

  const fill = (): void => {
    if (!runner) return;
    while (running < concurrency) {
      running++;
      const attempt = runner.runJob().then(
        (outcome) => {
          running--;
          // A finished job frees a slot and others may wait; 'idle' waits for a wake-up or the next poll.
          if (outcome === 'done') fill();
        },
        () => {
          running--; // a store failure: the next poll retries
        },
      );
      inflight.add(attempt);
      void attempt.finally(() => inflight.delete(attempt));
    }
  };

  const queue: JobQueue = {
    name: 'embedded',
    async enqueue() {
      fill();
    },
    async start(next, opts) {
      if (runner) return;
      runner = next;
      concurrency = opts.concurrency;
      unwatch = next.watch?.(fill);
      timer = setInterval(fill, pollIntervalMs);
      timer.unref();
      fill();
    },
    async stop() {
      runner = undefined;
      if (timer) clearInterval(timer);
      timer = undefined;
      unwatch?.();
      unwatch = undefined;
      await Promise.allSettled([...inflight]);
    },
  };
  embeddedQueues.add(queue);
  return queue;
}
