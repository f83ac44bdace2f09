import { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { createHttpServer } from '../src/http-server.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function listen(app: express.Application): Promise<string> {
  server = createHttpServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpServer', () => {
  it("makes requests and responses with the app's prototypes, which Express then leaves as they are", async () => {
    const app = express();
    app.use(express.json());
    const seen: unknown[] = [];
    const look = (req: IncomingMessage, res: ServerResponse) =>
      seen.push(
        Object.getPrototypeOf(req) === app.request,
        Object.getPrototypeOf(res) === app.response,
        req instanceof IncomingMessage,
        res instanceof ServerResponse,
      );
    app.use((req, res, next) => {
      look(req, res);
      next();
    });
    app.post('/echo/:name', (req, res) => {
      res
        .status(201)
        .json({ name: req.params['name'], header: req.get('x-probe'), body: req.body as unknown });
    });
    const base = await listen(app);
    // Before Express runs: born so, not changed by `app.handle`.
    server!.prependListener('request', look);
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${base}/echo/iris?i=${i}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-probe': `p${i}` },
        body: JSON.stringify({ rows: [[i, 2]] }),
      });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await answer.json()).toEqual({ name: 'iris', header: `p${i}`, body: { rows: [[i, 2]] } });
    }
    expect(seen).toEqual(Array.from({ length: 6 }, () => [true, true, true, true]).flat());
  });

  it("keeps Express's own answers: 404 for an unknown route, errors through the error handler", async () => {
    const app = express();
    app.get('/fail', () => {
      throw new Error('boom');
    });
    app.use(((error: Error, _req, res, _next) => {
      res.status(500).json({ error: error.message });
    }) as express.ErrorRequestHandler);
    const base = await listen(app);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    const failed = await fetch(`${base}/fail`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'boom' });
  });
});
