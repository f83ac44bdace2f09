import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, startServer } from '../src/server.js';

const ADMIN = 'server-bootstrap-admin-secret-0123456789';

describe('startServer: authentication from the environment', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-server-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a non-loopback HOST without MODELREG_ADMIN_TOKEN, before opening anything', async () => {
    await expect(
      startServer({ PORT: '0', HOST: '0.0.0.0', LOG_LEVEL: 'silent', MODELREG_DIR: join(dir, 'refused') }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/MODELREG_ADMIN_TOKEN/),
    });
  });

  it('refuses a short MODELREG_ADMIN_TOKEN', async () => {
    await expect(
      startServer({
        PORT: '0',
        LOG_LEVEL: 'silent',
        MODELREG_DIR: join(dir, 'short'),
        MODELREG_ADMIN_TOKEN: 'admin',
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/MODELREG_ADMIN_TOKEN/),
    });
  });

  it('with MODELREG_ADMIN_TOKEN, requests need a token and that secret is an admin', async () => {
    const running = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELREG_DIR: join(dir, 'token'),
      MODELREG_ADMIN_TOKEN: ADMIN,
    });
    try {
      const anonymous = await fetch(`${running.url}/models`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="modelreg"');
      const admin = { authorization: `Bearer ${ADMIN}` };
      const who = await fetch(`${running.url}/auth/whoami`, { headers: admin });
      expect(await who.json()).toMatchObject({ name: 'admin', role: 'admin', auth: 'token' });
      const created = await fetch(`${running.url}/auth/tokens`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ci', role: 'reader' }),
      });
      expect(created.status).toBe(201);
      const { token } = (await created.json()) as { token: string };
      const listed = await fetch(`${running.url}/models`, { headers: { authorization: `Bearer ${token}` } });
      expect(listed.status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('on loopback without a token it runs open: whoami says so', async () => {
    const running = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELREG_DIR: join(dir, 'open'),
    });
    try {
      const who = await fetch(`${running.url}/auth/whoami`);
      expect(await who.json()).toMatchObject({ role: 'admin', auth: 'open' });
    } finally {
      await running.close();
    }
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'api.localhost']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.10',
      'example.com',
      '10.0.0.1',
      'localhost.example.com',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
