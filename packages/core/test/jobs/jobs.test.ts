import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/domain/jobs.js';
import type { RegistryEvent } from '../../src/domain/types.js';
import { isRegistryError } from '../../src/errors.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import { gatedTrainer, irisCsv, irisJob, manualQueue, openJobsRegistry } from './helpers.js';

const registries: ModelRegistry[] = [];
const open = async (...args: Parameters<typeof openJobsRegistry>): Promise<ModelRegistry> => {
  const registry = await openJobsRegistry(...args);
  registries.push(registry);
  return registry;
};
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e as Error,
  );
  expect(isRegistryError(error) ? error.code : error.message).toBe(code);
  return error;
}

/** Resolves with the first event for which `match` holds. */
function nextEvent(registry: ModelRegistry, match: (e: RegistryEvent) => boolean): Promise<RegistryEvent> {
  return new Promise((resolve) => {
    const off = registry.on('*', (e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('registry.jobs', () => {
  it('a submitted job trains in this process (embedded queue, started lazily) and wait returns its result', async () => {
    const registry = await open();
    const seen: string[] = [];
    registry.on('*', (e) => {
      if (e.type.startsWith('job.')) seen.push(e.type);
    });
    await registry.eventsReady();
    const job = await registry.jobs.submit(irisJob());
    expect(job).toMatchObject({ state: 'queued', attempts: 0, submittedBy: 'tester', kind: 'train' });
    const done = await registry.jobs.wait(job.id, { timeoutMs: 20_000 });
    expect(done).toMatchObject({
      state: 'succeeded',
      attempts: 1,
      progress: { phase: 'done', fraction: 1 },
      result: { model: 'iris', version: 1 },
      error: null,
      leaseOwner: null,
    });
    expect(done.startedAt).not.toBeNull();
    expect(done.endedAt).not.toBeNull();
    const run = await registry.getRun(done.result!.runId);
    expect(run?.tags['modelreg.job.id']).toBe(job.id);
    expect((await registry.getVersion('iris', 1))?.runId).toBe(run!.id);
    await expect.poll(() => seen.includes('job.succeeded')).toBe(true);
    expect(seen.slice(0, 2)).toEqual(['job.submitted', 'job.started']);
  });

  it('submit validates fully and stores nothing on bad input', async () => {
    const registry = await open();
    const { metadata } = registry.stores;
    const seq = await metadata.lastEventSeq();
    await expectCode(
      registry.jobs.submit({ ...irisJob(), model: { type: 'no-such-trainer' } }),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      registry.jobs.submit({ ...irisJob(), model: { type: 'random-forest', params: { nEstimators: -3 } } }),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      registry.jobs.submit({ ...irisJob(), register: { name: 'iris', stage: 'nowhere' } }),
      'INVALID_ARGUMENT',
    );
    await expectCode(registry.jobs.submit({ ...irisJob(), dataset: 'missing_dataset' }), 'NOT_FOUND');
    await expectCode(
      registry.jobs.submit({ ...irisJob(), dataset: { csv: Buffer.from(irisCsv) } } as never),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      registry.jobs.submit({ ...irisJob(), signal: new AbortController().signal } as never),
      'INVALID_ARGUMENT',
    );
    await expectCode(registry.jobs.submit(irisJob(), { maxAttempts: 0 }), 'INVALID_ARGUMENT');
    await expectCode(registry.jobs.submit(irisJob(), { idempotencyKey: '' }), 'INVALID_ARGUMENT');
    expect(await metadata.lastEventSeq()).toBe(seq);
    expect((await registry.jobs.list()).jobs).toEqual([]);
  });

  it('a second submit with the same idempotency key returns the first job and trains once', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue } });
    const first = await registry.jobs.submit(irisJob(), { idempotencyKey: 'nightly-2026-12-01' });
    const second = await registry.jobs.submit(irisJob(), { idempotencyKey: 'nightly-2026-12-01' });
    expect(second.id).toBe(first.id);
    expect(queue.enqueued).toEqual([first.id]);
    expect((await registry.jobs.list()).jobs.map((j) => j.id)).toEqual([first.id]);
    await registry.jobs.start();
    expect(await queue.runner().runJob(first.id)).toBe('done');
    expect(await queue.runner().runJob(first.id)).toBe('done');
    const job = await registry.jobs.get(first.id);
    expect(job).toMatchObject({ state: 'succeeded', attempts: 1, idempotencyKey: 'nightly-2026-12-01' });
    expect((await registry.getRun(job.result!.runId))?.tags['modelreg.job.idempotency_key']).toBe(
      'nightly-2026-12-01',
    );
    expect((await registry.listVersions('iris')).map((v) => v.version)).toEqual([1]);
  });

  it('get is NOT_FOUND for an unknown id; list filters by state and submitter and pages newest first', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue } });
    await expectCode(registry.jobs.get('nope'), 'NOT_FOUND');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await registry.jobs.submit(irisJob(`m${i}`))).id);
    await registry.jobs.cancel(ids[1]!);
    await registry.jobs.cancel(ids[3]!);
    const newestFirst = [...ids].reverse();
    const page1 = await registry.jobs.list({ limit: 2 });
    expect(page1.jobs.map((j) => j.id)).toEqual(newestFirst.slice(0, 2));
    const page2 = await registry.jobs.list({ limit: 2, pageToken: page1.nextPageToken! });
    expect(page2.jobs.map((j) => j.id)).toEqual(newestFirst.slice(2, 4));
    const page3 = await registry.jobs.list({ limit: 2, pageToken: page2.nextPageToken! });
    expect(page3.jobs.map((j) => j.id)).toEqual(newestFirst.slice(4));
    expect(page3.nextPageToken).toBeNull();
    expect((await registry.jobs.list({ state: 'cancelled' })).jobs.map((j) => j.id)).toEqual([
      ids[3],
      ids[1],
    ]);
    expect((await registry.jobs.list({ state: ['queued', 'running'] })).jobs).toHaveLength(3);
    expect((await registry.jobs.list({ submittedBy: 'tester' })).jobs).toHaveLength(5);
    expect((await registry.jobs.list({ submittedBy: 'someone-else' })).jobs).toEqual([]);
    await expectCode(registry.jobs.list({ limit: 1001 }), 'INVALID_ARGUMENT');
    await expectCode(
      registry.jobs.list({ state: 'running', pageToken: page1.nextPageToken! }),
      'INVALID_ARGUMENT',
    );
  });

  it('cancel: a queued job never runs; a terminal job is returned as it is', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue } });
    const job = await registry.jobs.submit(irisJob());
    const cancelled = await registry.jobs.cancel(job.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', attempts: 0 });
    expect(await registry.jobs.cancel(job.id)).toEqual(cancelled);
    await registry.jobs.start();
    expect(await queue.runner().runJob(job.id)).toBe('done');
    expect(await queue.runner().runJob()).toBe('idle');
    expect(await registry.jobs.wait(job.id)).toMatchObject({ state: 'cancelled', attempts: 0 });
    expect(await registry.listModels()).toEqual([]);
  });

  it('cancel of a running job aborts its training, which leaves no run', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue } });
    const gated = gatedTrainer();
    registry.registerTrainer(gated.trainer);
    const job = await registry.jobs.submit({ ...irisJob(), model: { type: 'gated' } });
    await registry.jobs.start();
    const running = queue.runner().runJob(job.id);
    await gated.started;
    expect((await registry.jobs.get(job.id)).state).toBe('running');
    expect((await registry.jobs.cancel(job.id)).state).toBe('cancelled');
    expect(await running).toBe('done');
    const ended = await registry.jobs.get(job.id);
    expect(ended).toMatchObject({ state: 'cancelled', result: null, leaseOwner: null });
    expect(await registry.listExperiments()).toEqual([]);
    expect(await registry.listModels()).toEqual([]);
  });

  it('progress is recorded with phases and job.progress events while the job runs', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue, leaseMs: 300 } });
    const gated = gatedTrainer();
    registry.registerTrainer(gated.trainer);
    const job = await registry.jobs.submit({ ...irisJob(), model: { type: 'gated' } });
    await registry.jobs.start();
    const progressed = nextEvent(
      registry,
      (e) => e.type === 'job.progress' && e.payload['phase'] === 'fitting',
    );
    await registry.eventsReady();
    const running = queue.runner().runJob(job.id);
    const event = await progressed;
    expect(event.payload).toMatchObject({ id: job.id, phase: 'fitting' });
    const during = await registry.jobs.get(job.id);
    expect(during.progress.phase).toBe('fitting');
    expect(during.progress.fraction).toBeGreaterThan(0.1);
    expect(during.progress.fraction).toBeLessThan(0.8);
    gated.release();
    await running;
    expect(await registry.jobs.get(job.id)).toMatchObject({
      state: 'succeeded',
      progress: { phase: 'done', fraction: 1 },
    });
  });

  it('wait: a timeout is ABORTED with details.timeoutMs, a signal is ABORTED; the job goes on', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue } });
    const job = await registry.jobs.submit(irisJob());
    const error = await expectCode(registry.jobs.wait(job.id, { timeoutMs: 50 }), 'ABORTED');
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({
      timeoutMs: 50,
      state: 'queued',
    });
    expect(error.message).toMatch(/timed out after 50 ms/);
    const controller = new AbortController();
    const waiting = registry.jobs.wait(job.id, { signal: controller.signal });
    controller.abort();
    await expectCode(waiting, 'ABORTED');
    expect((await registry.jobs.get(job.id)).state).toBe('queued');
    await expectCode(registry.jobs.wait('nope'), 'NOT_FOUND');
  });

  it('an attempt that loses its lease stops and records nothing; the new holder runs the job', async () => {
    const queue = manualQueue();
    const registry = await open({ jobs: { queue, leaseMs: 300 } });
    const gated = gatedTrainer();
    registry.registerTrainer(gated.trainer);
    const job = await registry.jobs.submit({ ...irisJob(), model: { type: 'gated' } });
    await registry.jobs.start();
    const running = queue.runner().runJob(job.id);
    await gated.started;
    // Another worker claims the job as if this one had died (its lease ended).
    const other = await registry.stores.metadata.claimJob({
      id: job.id,
      owner: 'other-worker',
      leaseUntil: Date.now() + 3_600_000,
      time: Date.now() + 3_600_000,
    });
    expect(other).toMatchObject({ state: 'running', attempts: 2, leaseOwner: 'other-worker' });
    expect(await running).toBe('done');
    expect(await registry.jobs.get(job.id)).toMatchObject({ state: 'running', leaseOwner: 'other-worker' });
    expect(await registry.listExperiments()).toEqual([]);
  });

  it('a retried job never creates a second version: attempt 2 finishes with the run attempt 1 registered', async () => {
    const memory = createMemoryMetadataStore();
    let failFinish = true;
    // Attempt 1 trains and registers, then its process "dies" before recording the outcome.
    const metadata: MetadataStore = {
      ...memory,
      finishJob: async (change) => {
        if (failFinish && change.state === 'succeeded') {
          failFinish = false;
          throw new Error('process died');
        }
        return memory.finishJob(change);
      },
    };
    const queue = manualQueue();
    const registry = await open({ metadata, jobs: { queue, leaseMs: 100 } });
    const job = await registry.jobs.submit(irisJob());
    await registry.jobs.start();
    await expectCode(queue.runner().runJob(job.id), 'STORE_FAILURE');
    expect((await registry.listVersions('iris')).map((v) => v.version)).toEqual([1]);
    await new Promise((resolve) => setTimeout(resolve, 150)); // the lease of attempt 1 runs out
    expect(await queue.runner().runJob()).toBe('done');
    const done = await registry.jobs.get(job.id);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2, result: { model: 'iris', version: 1 } });
    expect((await registry.listVersions('iris')).map((v) => v.version)).toEqual([1]);
    expect((await registry.getVersion('iris', 1))?.runId).toBe(done.result!.runId);
  });

  it('a job whose training fails ends failed with the error code; other jobs still run', async () => {
    const registry = await open();
    const bad = await registry.jobs.submit({ ...irisJob(), target: 'no_such_column' });
    const good = await registry.jobs.submit(irisJob());
    const failed: Job = await registry.jobs.wait(bad.id, { timeoutMs: 20_000 });
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 1,
      result: null,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(failed.error!.message).toMatch(/no_such_column/);
    expect((await registry.jobs.wait(good.id, { timeoutMs: 20_000 })).state).toBe('succeeded');
  });

  it('close aborts a running attempt, gives the job back and rejects the delivery so the queue delivers it again', async () => {
    const queue = manualQueue();
    const registry = await openJobsRegistry({ jobs: { queue } });
    const gated = gatedTrainer();
    registry.registerTrainer(gated.trainer);
    const job = await registry.jobs.submit({ ...irisJob(), model: { type: 'gated' } });
    await registry.jobs.start();
    const running = queue.runner().runJob(job.id);
    await gated.started;
    const { metadata } = registry.stores;
    const closing = registry.close();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    const after = await metadata.getJob(job.id);
    await closing;
    expect(after).toMatchObject({
      state: 'queued',
      attempts: 1,
      leaseOwner: null,
      error: { code: 'ABORTED' },
    });
  });
});
