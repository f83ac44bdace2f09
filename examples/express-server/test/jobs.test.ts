import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, JobQueue, ModelRegistry } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer } from './helpers.js';
import { irisCsv, testApp } from './helpers.js';

/** A queue that stores jobs and runs none: the app's process only submits, like a serving process of a fleet. */
const submitOnly: JobQueue = {
  name: 'submit-only',
  enqueue: async () => undefined,
  start: async () => undefined,
  stop: async () => undefined,
};

const trainRequest = (seed: number) => ({
  experiment: 'iris',
  dataset: 'iris',
  target: 'species',
  model: { type: 'decision-tree', params: { maxDepth: 3 } },
  split: { testSize: 0.2, seed },
  register: { name: 'iris_jobs' },
});

interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else {
        const at = line.indexOf(': ');
        fields[line.slice(0, at)] = line.slice(at + 2);
      }
    }
    if (fields['event'])
      events.push({
        event: fields['event'],
        ...(fields['id'] ? { id: fields['id'] } : {}),
        data: JSON.parse(fields['data'] ?? '{}') as Record<string, unknown>,
      });
  }
  return { events, comments };
}

describe('training jobs over HTTP', () => {
  let dir: string;
  // The app's registry only submits; `runner` (another registry on the same files, as another
  // process would be) runs the jobs when a test starts it.
  let registry: ModelRegistry;
  let runner: ModelRegistry | undefined;
  let app: Application;
  let server: Server;
  let base: string;

  const startRunner = async (): Promise<ModelRegistry> => {
    runner ??= (await openRegistryFromEnv({ MODELREG_DIR: dir }, { eventPollIntervalMs: 20 })).registry;
    await runner.jobs.start();
    return runner;
  };

  const waitFor = async (id: string): Promise<Job> => {
    const r = await startRunner();
    return r.jobs.wait(id, { timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-express-jobs-'));
    registry = (
      await openRegistryFromEnv(
        { MODELREG_DIR: dir },
        { eventPollIntervalMs: 20, jobs: { queue: submitOnly } },
      )
    ).registry;
    app = testApp(registry, { sseHeartbeatMs: 50 });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await request(app).post('/datasets').attach('file', irisCsv).expect(201);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runner?.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('POST /train answers 202 { job } at once with Location; the job can be read, listed and followed to its end', async () => {
    const res = await request(app).post('/train').send(trainRequest(1)).expect(202);
    const job = (res.body as { job: Job }).job;
    expect(job).toMatchObject({ state: 'queued', kind: 'train', attempts: 0, result: null });
    expect(res.headers['location']).toBe(`/jobs/${job.id}`);
    const got = await request(app).get(`/jobs/${job.id}`).expect(200);
    expect((got.body as { job: Job }).job.id).toBe(job.id);

    const ended = await waitFor(job.id);
    expect(ended.state).toBe('succeeded');
    const after = (await request(app).get(`/jobs/${job.id}`).expect(200)).body as { job: Job };
    expect(after.job.state).toBe('succeeded');
    expect(after.job.result).toMatchObject({ model: 'iris_jobs', version: 1 });
    await request(app).get('/models/iris_jobs/versions/1').expect(200);
  });

  it('an Idempotency-Key maps to the job: a retried POST returns the first job and queues nothing more', async () => {
    const before = (await registry.jobs.list({ limit: 1000 })).jobs.length;
    const first = await request(app)
      .post('/train')
      .set('Idempotency-Key', 'nightly-1')
      .send(trainRequest(2))
      .expect(202);
    const second = await request(app)
      .post('/train')
      .set('Idempotency-Key', 'nightly-1')
      .send(trainRequest(2))
      .expect(202);
    const id = (first.body as { job: Job }).job.id;
    expect((second.body as { job: Job }).job.id).toBe(id);
    expect((first.body as { job: Job }).job.idempotencyKey).toBe('nightly-1');
    expect((await registry.jobs.list({ limit: 1000 })).jobs.length).toBe(before + 1);
    const bad = await request(app)
      .post('/train')
      .set('Idempotency-Key', 'k'.repeat(257))
      .send(trainRequest(2))
      .expect(400);
    expect((bad.body as ErrorAnswer).error.message).toMatch(/Idempotency-Key/);
    expect((await registry.jobs.list({ limit: 1000 })).jobs.length).toBe(before + 1);
    expect((await waitFor(id)).state).toBe('succeeded');
  });

  it('refuses absurd params with 422 before anything is queued', async () => {
    const before = (await registry.jobs.list({ limit: 1000 })).jobs.length;
    const trees = await request(app)
      .post('/train')
      .send({ ...trainRequest(3), model: { type: 'random-forest', params: { nEstimators: 4000 } } })
      .expect(422);
    expect((trees.body as ErrorAnswer).error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { param: 'model.params.nEstimators', limit: 1000 },
    });
    const workers = await request(app)
      .post('/train')
      .send({ ...trainRequest(3), model: { type: 'random-forest', params: { workers: 256 } } });
    expect([400, 422]).toContain(workers.status);
    expect((workers.body as ErrorAnswer).error.message).toMatch(/workers/);
    await request(app)
      .post('/train')
      .send({ ...trainRequest(3), dataset: 'nope' })
      .expect(404);
    expect((await registry.jobs.list({ limit: 1000 })).jobs.length).toBe(before);
  });

  it('GET /jobs filters by state and submitter and pages with limit + pageToken', async () => {
    await runner?.jobs.stop();
    const queued = await request(app).post('/train').send(trainRequest(4)).expect(202);
    const queuedId = (queued.body as { job: Job }).job.id;
    const all = (await request(app).get('/jobs').expect(200)).body as {
      jobs: Job[];
      nextPageToken: string | null;
    };
    expect(all.nextPageToken).toBeNull();
    expect(all.jobs[0]?.id).toBe(queuedId);
    const submitter = all.jobs[0]!.submittedBy;

    const onlyQueued = (await request(app).get('/jobs?state=queued').expect(200)).body as { jobs: Job[] };
    expect(onlyQueued.jobs.map((j) => j.id)).toEqual([queuedId]);
    const several = (await request(app).get('/jobs?state=queued,succeeded').expect(200)).body as {
      jobs: Job[];
    };
    expect(several.jobs).toHaveLength(all.jobs.length);
    const mine = (await request(app).get('/jobs').query({ submittedBy: submitter }).expect(200)).body as {
      jobs: Job[];
    };
    expect(mine.jobs).toHaveLength(all.jobs.length);
    const nobody = (await request(app).get('/jobs?submittedBy=nobody').expect(200)).body as { jobs: Job[] };
    expect(nobody.jobs).toEqual([]);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page = (
        await request(app)
          .get('/jobs')
          .query({ limit: 1, ...(token ? { pageToken: token } : {}) })
          .expect(200)
      ).body as { jobs: Job[]; nextPageToken: string | null };
      expect(page.jobs.length).toBeLessThanOrEqual(1);
      seen.push(...page.jobs.map((j) => j.id));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(all.jobs.map((j) => j.id));

    expect((await request(app).get('/jobs?state=done').expect(400)).body).toMatchObject({
      error: { code: 'INVALID_REQUEST' },
    });
    await request(app).get('/jobs?limit=0').expect(400);
    expect((await request(app).get('/jobs?pageToken=garbage').expect(422)).body).toMatchObject({
      error: { code: 'INVALID_ARGUMENT' },
    });
    // Left queued for the cancel test.
    await registry.jobs.cancel(queuedId);
  });

  it('DELETE /jobs/:id cancels a queued job and answers it; again it answers the ended job; unknown ids are 404', async () => {
    const res = await request(app).post('/train').send(trainRequest(5)).expect(202);
    const id = (res.body as { job: Job }).job.id;
    const cancelled = await request(app).delete(`/jobs/${id}`).expect(200);
    expect((cancelled.body as { job: Job }).job).toMatchObject({ id, state: 'cancelled' });
    const again = await request(app).delete(`/jobs/${id}`).expect(200);
    expect((again.body as { job: Job }).job.state).toBe('cancelled');
    expect((await request(app).get(`/jobs/${id}`).expect(200)).body).toMatchObject({
      job: { state: 'cancelled', result: null },
    });
    expect((await request(app).get('/jobs/nope').expect(404)).body).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    await request(app).delete('/jobs/nope').expect(404);
    await request(app).get('/jobs/bad%20id').expect(400);
    await request(app).get('/jobs/nope/events').expect(404);
  });

  it('GET /jobs/:id/events replays the job, streams its events from the process that runs it, and ends after the terminal one', async () => {
    await runner?.jobs.stop();
    const res = await request(app).post('/train').send(trainRequest(6)).expect(202);
    const id = (res.body as { job: Job }).job.id;
    const stream = await fetch(`${base}/jobs/${id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The snapshot and at least one heartbeat arrive while the job waits in the queue.
    while (!text.includes('event: job.snapshot') || !text.includes(': heartbeat')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    await startRunner();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    const { events, comments } = parseSse(text);
    expect(comments.some((c) => c.startsWith('heartbeat'))).toBe(true);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('job.snapshot');
    expect((events[0]!.data['job'] as Job).state).toBe('queued');
    expect(names).toContain('job.started');
    // Progress is written at most about twice a second: a small tree may end before the first one.
    for (const e of events.filter((x) => x.event === 'job.progress'))
      expect(e.data).toMatchObject({ phase: expect.any(String), fraction: expect.any(Number) });
    expect(names.at(-1)).toBe('job.succeeded');
    const last = events.at(-1)!;
    expect(last.data['id']).toBe(id);
    expect((last.data['job'] as Job).result).toMatchObject({ model: 'iris_jobs' });
    for (const e of events.slice(1)) {
      expect(e.data['id']).toBe(id);
      expect(Number(e.id)).toBeGreaterThan(0);
    }

    // A job that already ended: the snapshot, then the stream ends.
    const ended = await request(app)
      .get(`/jobs/${id}/events`)
      .buffer(true)
      .parse((r, cb) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => cb(null, body));
      })
      .expect(200);
    const replay = parseSse(ended.body as string).events;
    expect(replay.map((e) => e.event)).toEqual(['job.snapshot']);
    expect((replay[0]!.data['job'] as Job).state).toBe('succeeded');
  });

  it('a client that disconnects from POST /train?wait=true does not cancel its job', async () => {
    await runner?.jobs.stop();
    const controller = new AbortController();
    const pending = fetch(`${base}/train?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'disconnect-1' },
      body: JSON.stringify(trainRequest(7)),
      signal: controller.signal,
    });
    let job: Job | undefined;
    while (!job) {
      job = (await registry.jobs.list({ limit: 1000 })).jobs.find((j) => j.idempotencyKey === 'disconnect-1');
      if (!job) await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await registry.jobs.get(job.id)).state).toBe('queued');
    const ended = await (await startRunner()).jobs.wait(job.id, { timeoutMs: 60_000 });
    expect(ended.state).toBe('succeeded');
  });

  it('POST /train?wait=true answers 201 with the run, metrics, version and model URI once the job has ended', async () => {
    await startRunner();
    const res = await request(app).post('/train?wait=true').send(trainRequest(8)).expect(201);
    const body = res.body as {
      run: { id: string; status: string };
      metrics: Record<string, number>;
      version: { name: string; version: number } | null;
      modelUri: string;
    };
    expect(body.run.status).toBe('finished');
    expect(body.metrics['accuracy']).toBeGreaterThan(0.5);
    expect(body.version?.name).toBe('iris_jobs');
    expect(body.modelUri).toBe(`runs:/${body.run.id}/model`);
    expect(res.headers['location']).toMatch(/^\/jobs\//);
  });
});
