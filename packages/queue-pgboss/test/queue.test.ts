import PgBoss from 'pg-boss';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import type { Job, JobQueue, JobRunner } from '@modelreg/core';
import { createPgBossJobQueue, pgBossIdOf } from '../src/index.js';
import type { PgBossJobQueueOptions } from '../src/index.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from './pg-env.js';

const admin = adminPool();
const schemas: string[] = [];
const queues: JobQueue[] = [];
const bosses: PgBoss[] = [];

afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.stop()));
  await Promise.all(bosses.splice(0).map((b) => b.stop({ graceful: false })));
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

function jobOf(id: string, maxAttempts = 3): Job {
  const now = Date.now();
  return {
    id,
    kind: 'train',
    state: 'queued',
    options: {},
    idempotencyKey: null,
    progress: { phase: 'queued', fraction: 0 },
    attempts: 0,
    maxAttempts,
    result: null,
    error: null,
    submittedBy: 'test',
    createdAt: now,
    startedAt: null,
    endedAt: null,
    updatedAt: now,
    leaseOwner: null,
    leaseUntil: null,
  };
}

/** A queue on a fresh pg-boss schema, with quick polling and maintenance for the tests. */
function freshQueue(options: Partial<PgBossJobQueueOptions> = {}): { queue: JobQueue; schema: string } {
  const schema = randomSchema('mr_pgboss');
  schemas.push(schema);
  const queue = createPgBossJobQueue({
    connectionString: pgUrl,
    schema,
    pollingIntervalSeconds: 0.5,
    maintenanceIntervalSeconds: 1,
    retryDelay: 1,
    ...options,
  } as PgBossJobQueueOptions);
  queues.push(queue);
  return { queue, schema };
}

/** A runner that records calls and settles each one as the test says. */
function fakeRunner(decide: (jobId: string, call: number) => Promise<'done'> = async () => 'done') {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const runner: JobRunner = {
    async runJob(jobId) {
      calls.push(jobId!);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await decide(jobId!, calls.filter((c) => c === jobId).length);
      } finally {
        inFlight--;
      }
    },
  };
  return {
    runner,
    calls,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** pg-boss's own record of a modelreg job (state, retries, backoff), read with a second instance. */
async function bossRecord(schema: string, jobId: string, queue = 'modelreg-train') {
  const rows = await admin.query<{
    state: string;
    retry_count: number;
    retry_limit: number;
    retry_delay: number;
    retry_backoff: boolean;
    singleton_key: string;
    start_after: Date;
  }>(
    `SELECT state, retry_count, retry_limit, retry_delay, retry_backoff, singleton_key, start_after
       FROM "${schema}".job WHERE name = $1 AND singleton_key = $2`,
    [queue, jobId],
  );
  return rows.rows;
}

describe('queue-pgboss options', () => {
  const configError = (options: unknown): unknown => {
    try {
      createPgBossJobQueue(options as PgBossJobQueueOptions);
      return null;
    } catch (error) {
      return error;
    }
  };
  it.each([
    ['no connection at all', {}],
    ['both connectionString and pool', { connectionString: pgUrl, pool: adminPool(1) }],
    ['a pool that is not a pool', { pool: { query: 1 } }],
    ['a boss that is not a PgBoss', { boss: {} }],
    ['a schema that is not an identifier', { connectionString: pgUrl, schema: 'pg-boss' }],
    ['a queue name with spaces', { connectionString: pgUrl, queue: 'my queue' }],
    ['a zero expireInSeconds', { connectionString: pgUrl, expireInSeconds: 0 }],
    ['a fractional retryDelay', { connectionString: pgUrl, retryDelay: 1.5 }],
    ['a negative retryLimit', { connectionString: pgUrl, retryLimit: -1 }],
    ['an unknown option', { connectionString: pgUrl, concurrency: 2 }],
    ['no options at all', undefined],
  ])('rejects %s with INVALID_CONFIG naming the package', (_, options) => {
    const error = configError(options);
    expect(isRegistryError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/^\[modelreg\] \[queue-pgboss\] invalid option/);
  });

  it('derives one stable UUID per job id', () => {
    expect(pgBossIdOf('job-1')).toBe(pgBossIdOf('job-1'));
    expect(pgBossIdOf('job-1')).not.toBe(pgBossIdOf('job-2'));
    expect(pgBossIdOf('job-1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe.skipIf(!pgReachable)('queue-pgboss on PostgreSQL', () => {
  it('hands enqueued jobs to the runner of a started process, and stop waits for the running one', async () => {
    const { queue, schema } = freshQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fake = fakeRunner(async (id) => {
      if (id === 'b') await gate;
      return 'done';
    });
    await queue.init!();
    await queue.enqueue(jobOf('a'));
    await queue.enqueue(jobOf('b'));
    await queue.start(fake.runner, { concurrency: 1 });
    await until('both jobs reached the runner', () => fake.calls.length === 2);
    expect(fake.calls).toEqual(['a', 'b']);
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // job b still runs
    release();
    await stopping;
    expect((await bossRecord(schema, 'a'))[0]?.state).toBe('completed');
    expect((await bossRecord(schema, 'b'))[0]?.state).toBe('completed');
  });

  it('a job enqueued before any worker starts waits in PostgreSQL and runs in a process that starts later', async () => {
    const { queue: producer, schema } = freshQueue();
    await producer.enqueue(jobOf('later'));
    await producer.stop();
    const consumer = createPgBossJobQueue({
      connectionString: pgUrl,
      schema,
      pollingIntervalSeconds: 0.5,
    });
    queues.push(consumer);
    const fake = fakeRunner();
    await consumer.start(fake.runner, { concurrency: 1 });
    await until('the job ran', () => fake.calls.length === 1);
    expect(fake.calls).toEqual(['later']);
  });

  it('a runner rejection makes pg-boss retry the job with backoff, on the same pg-boss job', async () => {
    const { queue, schema } = freshQueue({ retryDelay: 1, retryBackoff: true });
    const fake = fakeRunner(async (_id, call) => {
      if (call < 3) throw new Error(`lease lost (attempt ${call})`);
      return 'done';
    });
    await queue.enqueue(jobOf('flaky', 3));
    const [queued] = await bossRecord(schema, 'flaky');
    expect(queued).toMatchObject({ retry_limit: 3, retry_delay: 1, retry_backoff: true });
    await queue.start(fake.runner, { concurrency: 1 });
    await until(
      'the first attempt failed',
      async () => (await bossRecord(schema, 'flaky'))[0]?.state === 'retry',
    );
    const [retry] = await bossRecord(schema, 'flaky');
    // The retry waits: pg-boss set its start time into the future.
    const { rows } = await admin.query<{ now: Date }>('SELECT now() AS now');
    expect(retry!.start_after.getTime()).toBeGreaterThan(rows[0]!.now.getTime());
    await until(
      'the third attempt succeeded',
      async () => (await bossRecord(schema, 'flaky'))[0]?.state === 'completed',
      30_000,
    );
    expect(fake.calls).toEqual(['flaky', 'flaky', 'flaky']);
    const [done] = await bossRecord(schema, 'flaky');
    expect(done!.retry_count).toBe(2);
  });

  it('a job whose retries are used up ends failed in pg-boss and is not handed out again', async () => {
    const { queue, schema } = freshQueue({ retryDelay: 1, retryBackoff: false, retryLimit: 1 });
    const fake = fakeRunner(async () => {
      throw new Error('store down');
    });
    await queue.enqueue(jobOf('doomed'));
    await queue.start(fake.runner, { concurrency: 1 });
    await until('retries used up', async () => (await bossRecord(schema, 'doomed'))[0]?.state === 'failed');
    expect(fake.calls).toEqual(['doomed', 'doomed']);
  });

  it('runs at most `concurrency` jobs at once in a process', async () => {
    const { queue, schema } = freshQueue();
    const gates = new Map<string, () => void>();
    const fake = fakeRunner((id) => new Promise((r) => gates.set(id, () => r('done'))));
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) await queue.enqueue(jobOf(id));
    await queue.start(fake.runner, { concurrency: 2 });
    await until('two jobs run', () => fake.inFlight === 2);
    // Several polling rounds pass; the other three stay queued in pg-boss.
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.inFlight).toBe(2);
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".job WHERE name = 'modelreg-train' AND state = 'created'`,
    );
    expect(Number(rows[0]!.n)).toBe(3);
    while (fake.calls.length < 5 || fake.inFlight > 0) {
      for (const [id, open] of gates) {
        gates.delete(id);
        open();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fake.maxInFlight).toBe(2);
    expect([...fake.calls].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  });

  it('enqueuing one job id again while it waits or runs adds nothing: one pg-boss job per job id', async () => {
    const { queue, schema } = freshQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fake = fakeRunner(async () => {
      await gate;
      return 'done';
    });
    await queue.enqueue(jobOf('once'));
    await queue.enqueue(jobOf('once'));
    expect(await bossRecord(schema, 'once')).toHaveLength(1);
    await queue.start(fake.runner, { concurrency: 2 });
    await until('the job runs', () => fake.calls.length === 1);
    await queue.enqueue(jobOf('once'));
    const records = await bossRecord(schema, 'once');
    expect(records.map((r) => r.state)).toEqual(['active']);
    release();
    await until('completed', async () => (await bossRecord(schema, 'once'))[0]?.state === 'completed');
    expect(fake.calls).toEqual(['once']);
  });

  it('a job left active by a dead worker is retried on another worker once it expires', async () => {
    const { queue, schema } = freshQueue({ expireInSeconds: 2 });
    await queue.enqueue(jobOf('orphan'));
    // A worker that takes the job and dies: a second pg-boss on the same schema fetches it and never
    // completes it (what `kill -9` leaves behind).
    const dead = new PgBoss({ connectionString: pgUrl, schema, supervise: false, schedule: false });
    dead.on('error', () => undefined);
    bosses.push(dead);
    await dead.start();
    const taken = await dead.fetch('modelreg-train');
    expect(taken.map((j) => j.id)).toEqual([pgBossIdOf('orphan')]);
    await dead.stop({ graceful: false, close: true });
    const fake = fakeRunner();
    await queue.start(fake.runner, { concurrency: 1 });
    await until('the orphan ran on the live worker', () => fake.calls.length === 1, 30_000);
    expect(fake.calls).toEqual(['orphan']);
    await until('completed', async () => (await bossRecord(schema, 'orphan'))[0]?.state === 'completed');
    expect((await bossRecord(schema, 'orphan'))[0]!.retry_count).toBe(1);
  });

  it('works on a pg.Pool the caller owns and leaves it open after stop', async () => {
    const pool = adminPool(4);
    const schema = randomSchema('mr_pgboss');
    schemas.push(schema);
    const queue = createPgBossJobQueue({ pool, schema, pollingIntervalSeconds: 0.5 });
    queues.push(queue);
    const fake = fakeRunner();
    await queue.enqueue(jobOf('pooled'));
    await queue.start(fake.runner, { concurrency: 1 });
    await until('the job ran', () => fake.calls.length === 1);
    await queue.stop();
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });

  it('works on a PgBoss instance the caller owns and never stops it', async () => {
    const schema = randomSchema('mr_pgboss');
    schemas.push(schema);
    const boss = new PgBoss({ connectionString: pgUrl, schema, schedule: false });
    boss.on('error', () => undefined);
    bosses.push(boss);
    const queue = createPgBossJobQueue({ boss, queue: 'train-jobs', pollingIntervalSeconds: 0.5 });
    queues.push(queue);
    const fake = fakeRunner();
    await queue.enqueue(jobOf('own'));
    await queue.start(fake.runner, { concurrency: 1 });
    await until('the job ran', () => fake.calls.length === 1);
    await queue.stop();
    // Still started: the caller's instance keeps serving its own use.
    expect(await boss.send('train-jobs', { jobId: 'x' })).toEqual(expect.any(String));
  });

  it('start rejects a concurrency below 1 and a failed start is STORE_FAILURE naming the queue', async () => {
    const { queue } = freshQueue();
    await expect(queue.start(fakeRunner().runner, { concurrency: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const unreachable = createPgBossJobQueue({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      onError: () => undefined,
    });
    await expect(unreachable.enqueue(jobOf('x'))).rejects.toMatchObject({
      code: 'STORE_FAILURE',
      message: expect.stringContaining('could not start pg-boss'),
    });
  });
});
