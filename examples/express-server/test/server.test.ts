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
