import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { errorHandler, HttpError } from '../src/errors.js';
import { signInRateLimit } from '../src/security.js';
import type { RunningServer } from '../src/server.js';
import { startServer } from '../src/server.js';

/** Sends headers only, and resolves with the first thing the server says: `100` or the final status. */
function firstAnswer(
  url: string,
  path: string,
  headers: Record<string, string | number>,
): Promise<{ continued: boolean; status: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers });
    req.on('continue', () => {
      resolve({ continued: true, status: 100 });
      req.destroy();
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ continued: false, status: res.statusCode ?? 0 });
    });
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.flushHeaders();
  });
}

describe('the server from the environment: allowed hosts and Expect: 100-continue', () => {
  let dir: string;
  let running: RunningServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-server-safety-'));
    running = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELREG_DIR: join(dir, 'registry'),
      MODELREG_MAX_UPLOAD_BYTES: '1000',
      MODELREG_ALLOWED_HOSTS: '127.0.0.1,models.internal',
    });
  });
  afterAll(async () => {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an oversized upload before telling the client to send it, and lets a small one go on', async () => {
    const big = await firstAnswer(running.url, '/datasets?name=x', {
      'Content-Type': 'text/csv',
      'Content-Length': 10_000_000,
      Expect: '100-continue',
    });
    expect(big).toEqual({ continued: false, status: 413 });
    const small = await firstAnswer(running.url, '/datasets?name=x', {
      'Content-Type': 'text/csv',
      'Content-Length': 20,
      Expect: '100-continue',
    });
    expect(small).toEqual({ continued: true, status: 100 });
  });

  it('answers the hosts of MODELREG_ALLOWED_HOSTS only', async () => {
    await request(running.url).get('/health').set('Host', 'models.internal:8000').expect(200);
    const refused = await request(running.url).get('/health').set('Host', 'localhost:8000');
    expect(refused.status).toBe(421);
    expect(refused.body.error.code).toBe('HOST_NOT_ALLOWED');
  });
});

describe('the failed sign-in limit', () => {
  it('counts only 401 answers to requests with credentials, and then answers 429', async () => {
    const app = express();
    app.use(signInRateLimit({ limit: 2, windowMs: 60_000 }));
    app.get('/whoami', (req, res) => {
      if (req.headers.authorization === 'Bearer good') res.json({ ok: true });
      else res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'no' } });
    });
    app.use(errorHandler(() => undefined));
    // Anonymous 401s are not sign-in attempts; good tokens are never counted.
    for (let i = 0; i < 5; i++) await request(app).get('/whoami').expect(401);
    for (let i = 0; i < 5; i++)
      await request(app).get('/whoami').set('Authorization', 'Bearer good').expect(200);
    await request(app).get('/whoami').set('Authorization', 'Bearer bad').expect(401);
    await request(app).get('/whoami').set('Authorization', 'Bearer bad').expect(401);
    const limited = await request(app).get('/whoami').set('Authorization', 'Bearer bad').expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    await request(app).get('/whoami').set('Authorization', 'Bearer good').expect(429);
  });
});

describe('a request refused before its body is read', () => {
  /** Posts `chunks` pieces of 64 KiB with `Connection: close`, one per turn of the event loop. */
  function postSlowly(
    url: string,
    chunks: number,
  ): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      const req = httpRequest(`${url}/upload`, {
        method: 'POST',
        headers: {
          'Content-Type': 'text/csv',
          'Content-Length': chunks * 65_536,
          Connection: 'close',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => resolve({ error: e.message }));
      let sent = 0;
      const next = () => {
        if (req.destroyed) return;
        if (sent++ === chunks) return void req.end();
        req.write(Buffer.alloc(65_536, 0x61));
        setTimeout(next, 2);
      };
      next();
    });
  }

  it('answers its 403 to a client still sending the body, instead of resetting the connection', async () => {
    const app = express();
    app.post('/upload', (_req, _res, next) => next(new HttpError(403, 'PERMISSION_DENIED', 'no uploads')));
    app.use(errorHandler(() => undefined));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    try {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => postSlowly(`http://127.0.0.1:${port}`, 8)),
      );
      for (const answer of answers) {
        expect(answer).toMatchObject({ status: 403 });
        expect(JSON.parse((answer as { body: string }).body).error.code).toBe('PERMISSION_DENIED');
      }
    } finally {
      server.close();
    }
  });
});
