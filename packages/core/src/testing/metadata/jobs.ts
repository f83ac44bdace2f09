import { expect, it } from 'vitest';
import type { NewJob } from '../../domain/jobs.js';
import type { MetadataStore } from '../../stores/metadata-store.js';
import type { SuiteContext } from './context.js';
import { at, eventsAfter, expectCode } from './fixtures.js';

const newJob = (n: number, overrides: Partial<NewJob> = {}): NewJob => ({
  id: `job-${String(n).padStart(3, '0')}`,
  kind: 'train',
  options: {
    dataset: 'iris',
    target: 'species',
    model: { type: 'random-forest', params: { nEstimators: 5 } },
  },
  idempotencyKey: null,
  maxAttempts: 3,
  submittedBy: 'alice',
  createdAt: at(n),
  ...overrides,
});

/** A claim by `owner` at `at(time)` holding the lease for `lease` seconds. */
const claim = (owner: string, time: number, id?: string, lease = 30) => ({
  ...(id !== undefined ? { id } : {}),
  owner,
  leaseUntil: at(time + lease),
  time: at(time),
});

async function appended(store: MetadataStore, change: () => Promise<unknown>) {
  const seq = await store.lastEventSeq();
  await change();
  return eventsAfter(store, seq);
}

export function jobTests(ctx: SuiteContext): void {
  it('createJob stores a queued job, appends job.submitted, and getJob reads it back', async () => {
    const store = ctx.store();
    const events = await appended(store, async () => {
      const { job, created } = await store.createJob(newJob(1));
      expect(created).toBe(true);
      expect(job).toEqual({
        id: 'job-001',
        kind: 'train',
        state: 'queued',
        options: newJob(1).options,
        idempotencyKey: null,
        progress: { phase: 'queued', fraction: 0 },
        attempts: 0,
        maxAttempts: 3,
        result: null,
        error: null,
        submittedBy: 'alice',
        createdAt: at(1),
        startedAt: null,
        endedAt: null,
        updatedAt: at(1),
        leaseOwner: null,
        leaseUntil: null,
      });
    });
    expect(events).toEqual([
      { type: 'job.submitted', payload: { id: 'job-001', kind: 'train', submittedBy: 'alice' } },
    ]);
    expect(await store.getJob('job-001')).toEqual((await store.listJobs({ limit: 10, offset: 0 }))[0]);
    expect(await store.getJob('job-404')).toBeNull();
    await expectCode(store.createJob(newJob(1)), 'ALREADY_EXISTS');
  });

  it('an idempotency key is unique: a second create returns the first job and stores nothing', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1, { idempotencyKey: 'key-1' }));
    const events = await appended(store, async () => {
      const again = await store.createJob(newJob(2, { idempotencyKey: 'key-1' }));
      expect(again.created).toBe(false);
      expect(again.job.id).toBe('job-001');
    });
    expect(events).toEqual([]);
    expect(await store.getJob('job-002')).toBeNull();
    const other = await store.createJob(newJob(3, { idempotencyKey: 'key-2' }));
    expect(other.created).toBe(true);
    const concurrent = await Promise.all(
      [4, 5, 6].map((n) => store.createJob(newJob(n, { idempotencyKey: 'key-3' }))),
    );
    expect(concurrent.filter((c) => c.created)).toHaveLength(1);
    expect(new Set(concurrent.map((c) => c.job.id)).size).toBe(1);
  });

  it('listJobs is newest first, filtered by states and submitter, paged by offset', async () => {
    const store = ctx.store();
    for (let n = 1; n <= 5; n++) await store.createJob(newJob(n, { submittedBy: n % 2 ? 'alice' : 'bob' }));
    await store.createJob(newJob(6, { createdAt: at(5) })); // same time as job-005: id breaks the tie
    await store.finishJob({ id: 'job-002', state: 'cancelled', time: at(10) });
    const ids = async (query: Parameters<MetadataStore['listJobs']>[0]) =>
      (await store.listJobs(query)).map((j) => j.id);
    expect(await ids({ limit: 10, offset: 0 })).toEqual([
      'job-006',
      'job-005',
      'job-004',
      'job-003',
      'job-002',
      'job-001',
    ]);
    expect(await ids({ limit: 2, offset: 2 })).toEqual(['job-004', 'job-003']);
    expect(await ids({ limit: 10, offset: 6 })).toEqual([]);
    expect(await ids({ states: ['cancelled'], limit: 10, offset: 0 })).toEqual(['job-002']);
    expect(await ids({ states: ['queued', 'cancelled'], submittedBy: 'bob', limit: 10, offset: 0 })).toEqual([
      'job-004',
      'job-002',
    ]);
    expect(await ids({ submittedBy: 'carol', limit: 10, offset: 0 })).toEqual([]);
  });

  it('claimJob takes the oldest claimable job, counts the attempt and appends job.started', async () => {
    const store = ctx.store();
    expect(await store.claimJob(claim('w1', 10))).toBeNull();
    await store.createJob(newJob(2));
    await store.createJob(newJob(1));
    const events = await appended(store, async () => {
      const job = await store.claimJob(claim('w1', 10));
      expect(job).toMatchObject({
        id: 'job-001',
        state: 'running',
        attempts: 1,
        startedAt: at(10),
        updatedAt: at(10),
        leaseOwner: 'w1',
        leaseUntil: at(40),
      });
    });
    expect(events).toEqual([{ type: 'job.started', payload: { id: 'job-001', attempt: 1, owner: 'w1' } }]);
    expect((await store.claimJob(claim('w2', 11)))?.id).toBe('job-002');
    expect(await store.claimJob(claim('w3', 12))).toBeNull();
    expect(await store.claimJob(claim('w3', 12, 'job-001'))).toBeNull();
    expect(await store.claimJob(claim('w3', 12, 'job-404'))).toBeNull();
  });

  it('two claims of one job at once: exactly one wins', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((owner) => store.claimJob(claim(owner, 10, 'job-001'))),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect((await store.getJob('job-001'))?.leaseOwner).toBe(winners[0]!.leaseOwner);
    const anyJob = await Promise.all(['e', 'f'].map((owner) => store.claimJob(claim(owner, 11))));
    expect(anyJob).toEqual([null, null]);
  });

  it('a running job whose lease ran out is claimed again, with attempts + 1 and startedAt kept', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    await store.claimJob(claim('w1', 10));
    expect(await store.claimJob(claim('w2', 39))).toBeNull(); // lease until at(40)
    const again = await store.claimJob(claim('w2', 41));
    expect(again).toMatchObject({
      state: 'running',
      attempts: 2,
      leaseOwner: 'w2',
      startedAt: at(10),
      leaseUntil: at(71),
    });
    expect(
      await store.renewJob({ id: 'job-001', owner: 'w1', leaseUntil: at(100), time: at(42) }),
    ).toBeNull();
  });

  it('attempts used up: the claim ends the job failed (LEASE_EXPIRED) with job.failed and returns null', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1, { maxAttempts: 2 }));
    await store.claimJob(claim('w1', 10));
    await store.claimJob(claim('w2', 50));
    const events = await appended(store, async () => {
      expect(await store.claimJob(claim('w3', 90))).toBeNull();
    });
    expect(events).toEqual([
      { type: 'job.failed', payload: { id: 'job-001', code: 'LEASE_EXPIRED', attempts: 2 } },
    ]);
    expect(await store.getJob('job-001')).toMatchObject({
      state: 'failed',
      attempts: 2,
      endedAt: at(90),
      leaseOwner: null,
      leaseUntil: null,
      error: { code: 'LEASE_EXPIRED' },
    });
    // Without an id, an exhausted job is ended and the claim goes on to the next one.
    await store.createJob(newJob(2, { maxAttempts: 1 }));
    await store.createJob(newJob(3));
    await store.claimJob(claim('w1', 100, 'job-002'));
    expect((await store.claimJob(claim('w4', 200)))?.id).toBe('job-003');
    expect((await store.getJob('job-002'))?.state).toBe('failed');
  });

  it('renewJob extends the lease and records progress (job.progress); only the owner may renew', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    await store.claimJob(claim('w1', 10));
    expect(await store.renewJob({ id: 'job-001', owner: 'w2', leaseUntil: at(99), time: at(11) })).toBeNull();
    const quiet = await appended(store, async () => {
      const renewed = await store.renewJob({ id: 'job-001', owner: 'w1', leaseUntil: at(50), time: at(20) });
      expect(renewed).toMatchObject({
        leaseUntil: at(50),
        updatedAt: at(20),
        progress: { phase: 'queued', fraction: 0 },
      });
    });
    expect(quiet).toEqual([]);
    const loud = await appended(store, () =>
      store.renewJob({
        id: 'job-001',
        owner: 'w1',
        leaseUntil: at(60),
        time: at(30),
        progress: { phase: 'fitting', fraction: 0.5 },
      }),
    );
    expect(loud).toEqual([
      { type: 'job.progress', payload: { id: 'job-001', phase: 'fitting', fraction: 0.5 } },
    ]);
    expect((await store.getJob('job-001'))?.progress).toEqual({ phase: 'fitting', fraction: 0.5 });
    expect(await store.renewJob({ id: 'job-404', owner: 'w1', leaseUntil: at(60), time: at(30) })).toBeNull();
  });

  it('finishJob records success or failure for the owner only, once', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    await store.createJob(newJob(2));
    await store.claimJob(claim('w1', 10, 'job-001'));
    await store.claimJob(claim('w2', 10, 'job-002'));
    const result = { runId: 'run-9', model: 'iris', version: 4 };
    expect(
      await store.finishJob({ id: 'job-001', owner: 'w2', state: 'succeeded', result, time: at(20) }),
    ).toBeNull();
    const events = await appended(store, async () => {
      const done = await store.finishJob({
        id: 'job-001',
        owner: 'w1',
        state: 'succeeded',
        result,
        time: at(20),
      });
      expect(done).toMatchObject({
        state: 'succeeded',
        result,
        error: null,
        endedAt: at(20),
        leaseOwner: null,
        progress: { phase: 'done', fraction: 1 },
      });
      const failed = await store.finishJob({
        id: 'job-002',
        owner: 'w2',
        state: 'failed',
        error: { code: 'INVALID_ARGUMENT', message: 'bad target' },
        time: at(21),
      });
      expect(failed).toMatchObject({
        state: 'failed',
        error: { code: 'INVALID_ARGUMENT', message: 'bad target' },
        endedAt: at(21),
      });
    });
    expect(events).toEqual([
      { type: 'job.succeeded', payload: { id: 'job-001', runId: 'run-9', model: 'iris', version: 4 } },
      { type: 'job.failed', payload: { id: 'job-002', code: 'INVALID_ARGUMENT', attempts: 1 } },
    ]);
    expect(await store.finishJob({ id: 'job-001', owner: 'w1', state: 'failed', time: at(22) })).toBeNull();
    expect(await store.finishJob({ id: 'job-001', state: 'cancelled', time: at(22) })).toBeNull();
    expect((await store.getJob('job-001'))?.state).toBe('succeeded');
  });

  it('a requeued attempt goes back to queued (job.requeued) and is claimed again', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    await store.claimJob(claim('w1', 10));
    const events = await appended(store, async () => {
      const back = await store.finishJob({
        id: 'job-001',
        owner: 'w1',
        state: 'queued',
        error: { code: 'STORE_FAILURE', message: 'disk full' },
        time: at(11),
      });
      expect(back).toMatchObject({ state: 'queued', attempts: 1, leaseOwner: null, leaseUntil: null });
    });
    expect(events).toEqual([{ type: 'job.requeued', payload: { id: 'job-001', attempts: 1 } }]);
    expect(await store.claimJob(claim('w2', 12))).toMatchObject({ attempts: 2, leaseOwner: 'w2' });
  });

  it('cancel works on queued and running jobs (job.cancelled); the running attempt cannot renew or finish', async () => {
    const store = ctx.store();
    await store.createJob(newJob(1));
    await store.createJob(newJob(2));
    await store.claimJob(claim('w1', 10, 'job-002'));
    const events = await appended(store, async () => {
      expect(await store.finishJob({ id: 'job-001', state: 'cancelled', time: at(20) })).toMatchObject({
        state: 'cancelled',
        attempts: 0,
        endedAt: at(20),
      });
      expect(await store.finishJob({ id: 'job-002', state: 'cancelled', time: at(21) })).toMatchObject({
        state: 'cancelled',
        attempts: 1,
        leaseOwner: null,
      });
    });
    expect(events).toEqual([
      { type: 'job.cancelled', payload: { id: 'job-001' } },
      { type: 'job.cancelled', payload: { id: 'job-002' } },
    ]);
    expect(await store.renewJob({ id: 'job-002', owner: 'w1', leaseUntil: at(60), time: at(22) })).toBeNull();
    expect(
      await store.finishJob({ id: 'job-002', owner: 'w1', state: 'succeeded', time: at(23) }),
    ).toBeNull();
    expect(await store.claimJob(claim('w2', 100))).toBeNull();
    expect(await store.finishJob({ id: 'job-002', state: 'cancelled', time: at(24) })).toBeNull();
    expect(await store.finishJob({ id: 'job-404', state: 'cancelled', time: at(24) })).toBeNull();
  });
}
