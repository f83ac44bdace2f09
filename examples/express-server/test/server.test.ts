import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';

describe('startServer', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-server-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on the configured host and port, serves, and closes the server, audit log and registry', async () => {
    const running = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELREG_DIR: join(dir, 'registry'),
      MODELREG_AUDIT_LOG: join(dir, 'audit', 'audit.ndjson'),
    });
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${running.url}/health`);
    expect(health.status).toBe(200);
    const missing = await fetch(`${running.url}/models/nope/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: [{ a: 1 }] }),
    });
    expect(missing.status).toBe(404);
    await running.close();
    await running.close();
    expect(running.server.listening).toBe(false);
    await expect(readFile(join(dir, 'audit', 'audit.ndjson'), 'utf8')).resolves.toBe('');
  });

  it('refuses a bad environment before opening anything', async () => {
    await expect(startServer({ PORT: 'eighty', MODELREG_DIR: join(dir, 'x') })).rejects.toThrow(/PORT/);
    await expect(
      startServer({ PORT: '0', LOG_LEVEL: 'silent', MODELREG_METADATA_URL: 'mysql://x' }),
    ).rejects.toThrow(/MODELREG_METADATA_URL/);
  });

  it('a bad server setting is INVALID_CONFIG naming the variable', async () => {
    await expect(startServer({ PORT: 'eighty', MODELREG_DIR: join(dir, 'x') })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/^\[modelreg\] \[express-server\] invalid setting "PORT": /),
    });
  });
});

describe('startServer with training jobs', () => {
  it('runs submitted jobs, and its shutdown ends the open job event streams', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelreg-server-sse-'));
    const running = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELREG_DIR: dir,
    });
    const iris = await readFile(
      new URL('../../../packages/core/test/fixtures/datasets/iris.csv', import.meta.url),
    );
    const upload = await fetch(`${running.url}/datasets?name=iris`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: iris,
    });
    expect(upload.status).toBe(201);
    const submit = (seed: number) =>
      fetch(`${running.url}/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          dataset: 'iris',
          target: 'species',
          model: { type: 'random-forest', params: { nEstimators: 50 } },
          split: { seed },
        }),
      });
    const first = (await (await submit(1)).json()) as { job: { id: string } };
    const second = (await (await submit(2)).json()) as { job: { id: string } };
    const stream = await fetch(`${running.url}/jobs/${second.job.id}/events`);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const firstChunk = await reader.read();
    expect(new TextDecoder().decode(firstChunk.value)).toContain('event: job.snapshot');
    await running.close();
    for (;;) if ((await reader.read()).done) break;
    expect(running.server.listening).toBe(false);
    // The jobs went back to the queue or ended; none is left running by a closed server.
    const { openRegistryFromEnv } = await import('@modelreg/example-config');
    const { registry } = await openRegistryFromEnv({ MODELREG_DIR: dir, MODELREG_TRAIN_CONCURRENCY: '0' });
    for (const id of [first.job.id, second.job.id])
      expect(['queued', 'succeeded']).toContain((await registry.jobs.get(id)).state);
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });
});
