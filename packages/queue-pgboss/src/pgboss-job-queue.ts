import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { parseStoreOptions, RegistryError } from '@modelreg/core';
import type { Job, JobQueue, JobRunner } from '@modelreg/core';
import { pgBossJobQueueOptionsSchema } from './options.js';
import type { PgBossJobQueueOptions } from './options.js';

const WHERE = 'queue-pgboss';

/** What a pg-boss message carries: only the id; the job itself lives in the metadata store. */
interface Message {
  jobId: string;
}

/**
 * The pg-boss job id of a modelreg job: a UUID derived from its id, so a job is in pg-boss's queue
 * at most once however often it is enqueued (pg-boss's primary key; a second send is a no-op).
 */
export function pgBossIdOf(jobId: string): string {
  const h = createHash('sha1').update(`modelreg-job:${jobId}`).digest('hex');
  // RFC 4122 layout: version 5 (name-based, SHA-1), variant 10xx.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const failure = (what: string, cause: unknown): RegistryError =>
  new RegistryError('STORE_FAILURE', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    where: WHERE,
    cause,
  });

/**
 * A {@link JobQueue} on pg-boss 10: `enqueue` sends "job X waits" to a pg-boss queue in PostgreSQL,
 * and every process that called `registry.jobs.start()` works that queue with `concurrency`
 * pg-boss workers, each handing one job at a time to the registry's runner. A runner rejection (a
 * store failure, a lost lease) fails the pg-boss job, which pg-boss retries after `retryDelay`
 * seconds, doubling with `retryBackoff`; a worker killed mid-job leaves its pg-boss job active until
 * `expireInSeconds`, then pg-boss retries it on any worker (see the options' timing rule).
 *
 * The queue owns the pg-boss instance it creates from `connectionString` or `pool` (started on
 * `init()` or the first use, stopped on `stop()`); a `boss` you pass is started when needed and never
 * stopped.
 */
export function createPgBossJobQueue(options: PgBossJobQueueOptions): JobQueue {
  const o = parseStoreOptions(pgBossJobQueueOptionsSchema, options, WHERE);
  const owned = o.boss === undefined;
  const onError =
    o.onError ??
    ((error: unknown) =>
      console.warn(`[modelreg] [${WHERE}]`, error instanceof Error ? error.message : error));

  let boss: PgBoss | undefined = o.boss;
  let ready: Promise<PgBoss> | undefined;
  let workerIds: string[] = [];
  const running = new Set<Promise<unknown>>();

  const build = (): PgBoss => {
    if (boss) return boss;
    const pool = o.pool;
    const db = pool
      ? {
          executeSql: async (text: string, values: unknown[]) => {
            const result = await pool.query(text, values);
            return { rows: result.rows as unknown[] };
          },
        }
      : undefined;
    boss = new PgBoss({
      ...(db ? { db } : { connectionString: o.connectionString! }),
      schema: o.schema,
      maintenanceIntervalSeconds: o.maintenanceIntervalSeconds,
      // Cron scheduling is not used; its workers would only poll.
      schedule: false,
    });
    return boss;
  };

  const ensureReady = (): Promise<PgBoss> => {
    ready ??= (async () => {
      const b = build();
      b.on('error', onError);
      try {
        await b.start();
        await b.createQueue(o.queue, {
          name: o.queue,
          policy: 'standard',
          retryDelay: o.retryDelay,
          retryBackoff: o.retryBackoff,
          expireInSeconds: o.expireInSeconds,
        });
      } catch (error) {
        b.off('error', onError);
        ready = undefined;
        throw failure(`could not start pg-boss (schema "${o.schema}", queue "${o.queue}")`, error);
      }
      return b;
    })();
    return ready;
  };

  /** At most `concurrency` runner calls at once, even when pg-boss moved on after an expiry. */
  const semaphore = (size: number) => {
    let free = size;
    const waiting: Array<() => void> = [];
    return {
      acquire: (): Promise<void> =>
        free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)),
      release: (): void => {
        const next = waiting.shift();
        if (next) next();
        else free++;
      },
    };
  };

  return {
    name: 'pg-boss',

    async init() {
      await ensureReady();
    },

    async enqueue(job: Job) {
      const b = await ensureReady();
      try {
        await b.send(o.queue, { jobId: job.id } satisfies Message, {
          id: pgBossIdOf(job.id),
          singletonKey: job.id,
          retryLimit: o.retryLimit ?? job.maxAttempts,
          retryDelay: o.retryDelay,
          retryBackoff: o.retryBackoff,
          expireInSeconds: o.expireInSeconds,
        });
      } catch (error) {
        throw failure(`could not enqueue job "${job.id}" on pg-boss queue "${o.queue}"`, error);
      }
    },

    async start(runner: JobRunner, { concurrency }: { concurrency: number }) {
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new RegistryError(
          'INVALID_ARGUMENT',
          `concurrency must be an integer >= 1, got ${String(concurrency)}`,
          { where: WHERE },
        );
      }
      if (workerIds.length > 0) return;
      const b = await ensureReady();
      const slots = semaphore(concurrency);
      const handle = async (jobs: PgBoss.Job<Message>[]): Promise<void> => {
        for (const job of jobs) {
          const jobId = job.data?.jobId;
          if (typeof jobId !== 'string') {
            // Not ours to retry: a message without a job id would fail forever.
            onError(new Error(`pg-boss job ${job.id} on "${o.queue}" has no jobId; dropped`));
            continue;
          }
          await slots.acquire();
          const run = runner.runJob(jobId).finally(slots.release);
          running.add(run);
          // A rejection reaches pg-boss below (retry with backoff); this copy only tracks settling.
          void run.catch(() => undefined).finally(() => running.delete(run));
          await run;
        }
      };
      // pg-boss 10 has no per-worker concurrency: `concurrency` workers each run one job at a time.
      const ids: string[] = [];
      try {
        for (let i = 0; i < concurrency; i++) {
          ids.push(
            await b.work<Message>(
              o.queue,
              { batchSize: 1, pollingIntervalSeconds: o.pollingIntervalSeconds },
              handle,
            ),
          );
        }
      } catch (error) {
        await Promise.all(ids.map((id) => b.offWork({ id })));
        throw failure(`could not start workers on pg-boss queue "${o.queue}"`, error);
      }
      workerIds = ids;
    },

    async stop() {
      const b = boss;
      const ids = workerIds;
      workerIds = [];
      if (b && ids.length > 0) await Promise.all(ids.map((id) => b.offWork({ id }).catch(onError)));
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...running]),
          new Promise((r) => (timer = setTimeout(r, o.stopTimeoutMs))),
        ]);
        clearTimeout(timer);
        // Let pg-boss's handlers send their complete/fail for the settled jobs before it stops.
        await new Promise((r) => setImmediate(r));
      }
      if (!ready) return;
      const starting = ready;
      ready = undefined;
      const started = await starting.catch(() => undefined);
      if (!started) return;
      started.off('error', onError);
      // A job still running after stopTimeoutMs is failed by pg-boss here and retried elsewhere.
      if (owned) await started.stop({ graceful: true, wait: true, timeout: 1000, close: true });
    },
  };
}
