import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelRegistry } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import type { Application } from 'express';
import { Webhook as Verifier } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

/**
 * Acceptance of issue 15's webhooks and event stream, over one SQLite file shared by two replicas
 * (two registries, as two server processes would open it). Backoff is milliseconds here.
 */

const fast = {
  allowPrivate: true,
  pollIntervalMs: 20,
  backoff: { initialMs: 20, maxMs: 100 },
  maxFailures: 10_000,
};

async function eventually(check: () => void | Promise<void>, ms = 15_000): Promise<void> {
  for (const started = Date.now(); ;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() - started > ms) throw e;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A receiver that can go down and come back on the same port; each answer takes `delayMs`. */
function receiver(delayMs: number) {
  const got: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let server: Server | undefined;
  let port = 0;
  return {
    got,
    url: () => `http://127.0.0.1:${port}/hooks/modelreg`,
    async up() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          setTimeout(() => {
            got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
            res.writeHead(204).end();
          }, delayMs);
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    },
    async down() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

describe('webhooks over two replicas of one SQLite registry', () => {
  let dir: string;
  const replicas: ModelRegistry[] = [];
  const open = async (): Promise<ModelRegistry> => {
    const { registry } = await openRegistryFromEnv(
      { MODELREG_DIR: dir },
      { eventPollIntervalMs: 20, webhooks: fast },
    );
    await registry.webhooks.start();
    return registry;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-webhooks-'));
    replicas.push(await open(), await open());
    const { metadata } = replicas[0]!.stores;
    for (const version of [1, 2]) {
      await metadata.createVersion({
        name: 'iris',
        source: `test://iris/${version}`,
        runId: null,
        files: [],
        description: '',
        tags: {},
        stage: 'none',
        createdAt: Date.now(),
        createModel: true,
      });
    }
  });
  afterAll(async () => {
    await Promise.allSettled(replicas.map((r) => r.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('50 promotions, receiver down for 20, both replicas restarted mid-backlog: all 50 arrive once, in order, verified', async () => {
    const rx = receiver(5);
    await rx.up();
    const app: Application = testApp(replicas[0]!);
    const created = await request(app)
      .post('/webhooks')
      .send({ url: rx.url(), events: ['alias.*'], description: 'acceptance' })
      .expect(201);
    const hook = created.body as { id: string; secret: string; status: string };
    expect(hook).toMatchObject({ status: 'active' });
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await request(app).get('/webhooks').expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret);

    let n = 0;
    const promote = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        n++;
        await replicas[n % 2]!.setAlias('iris', 'champion', (n % 2) + 1, { comment: `promotion ${n}` });
      }
    };
    await promote(15);
    await eventually(() => expect(rx.got.length).toBeGreaterThanOrEqual(15));

    await rx.down();
    await promote(20);
    await eventually(async () => {
      const deliveries = (await request(app).get(`/webhooks/${hook.id}/deliveries?limit=5`).expect(200))
        .body as { deliveries: Array<{ status: string; attempts: number; lastError: string | null }> };
      expect(deliveries.deliveries[0]).toMatchObject({ status: 'pending' });
      expect(deliveries.deliveries[0]!.attempts).toBeGreaterThanOrEqual(2);
      expect(deliveries.deliveries[0]!.lastError).toMatch(/ECONNREFUSED/);
    });

    // The receiver comes back; while the backlog drains, both replicas restart one after the other.
    await rx.up();
    await eventually(() => expect(rx.got.length).toBeGreaterThanOrEqual(20), 15_000);
    for (const i of [0, 1]) {
      await replicas[i]!.close();
      replicas[i] = await open();
    }
    await promote(15);
    await eventually(() => expect(new Set(rx.got.map((r) => r.headers['webhook-id'])).size).toBe(50), 20_000);

    const verifier = new Verifier(hook.secret);
    const bodies = rx.got.map(
      (r) =>
        verifier.verify(r.body, r.headers as Record<string, string>) as {
          seq: number;
          type: string;
          data: { version: number };
        },
    );
    const firstSeen = bodies.filter((b, i) => bodies.findIndex((o) => o.seq === b.seq) === i);
    const logged = (await replicas[0]!.stores.metadata.readEvents(0, 1000)).filter(
      (e) => e.type === 'alias.set',
    );
    expect(logged).toHaveLength(50);
    expect(firstSeen.map((b) => b.seq)).toEqual(logged.map((e) => e.seq));
    expect(firstSeen.map((b) => b.data.version)).toEqual(logged.map((e) => e.payload['version']));
    const duplicates = bodies.length - firstSeen.length;
    console.info(
      `[webhooks acceptance] 50 events, ${bodies.length} requests, ${duplicates} duplicated deliveries`,
    );
    expect(duplicates).toBe(0);
    await rx.down();
  });

  it('admin endpoints: test delivery, patch, bad input, private targets refused by default, delete', async () => {
    const app = testApp(replicas[0]!);
    const rx = receiver(0);
    await rx.up();
    try {
      const { id } = (
        await request(app)
          .post('/webhooks')
          .send({ url: rx.url(), events: ['*'] })
          .expect(201)
      ).body as { id: string };
      const tested = await request(app).post(`/webhooks/${id}/test`).expect(200);
      expect(tested.body).toMatchObject({
        status: 'succeeded',
        eventType: 'webhook.test',
        responseStatus: 204,
      });
      const patched = await request(app).patch(`/webhooks/${id}`).send({ status: 'disabled' }).expect(200);
      expect(patched.body).toMatchObject({ status: 'disabled' });
      expect(patched.body).not.toHaveProperty('secret');
      const bad = await request(app)
        .post('/webhooks')
        .send({ url: 'file:///etc/passwd', events: ['*'] })
        .expect(422);
      expect(bad.body.error.code).toBe('INVALID_ARGUMENT');
      await request(app)
        .post('/webhooks')
        .send({ url: rx.url(), events: ['nope.*'] })
        .expect(400);
      await request(app).patch(`/webhooks/${id}`).send({ secret: 'x' }).expect(400);
      await request(app).get('/webhooks/wh_missing/deliveries').expect(404);
      await request(app).delete(`/webhooks/${id}`).expect(204);
      await request(app).delete(`/webhooks/${id}`).expect(404);
    } finally {
      await rx.down();
    }
    const strict = await openRegistryFromEnv(
      { MODELREG_DIR: join(dir, 'strict') },
      { webhooks: { allowPrivate: false } },
    );
    try {
      const refused = await request(testApp(strict.registry))
        .post('/webhooks')
        .send({ url: 'http://127.0.0.1:9/x', events: ['*'] })
        .expect(422);
      expect(refused.body.error.message).toContain('MODELREG_WEBHOOK_ALLOW_PRIVATE');
    } finally {
      await strict.registry.close();
    }
  });
});

interface SseEvent {
  id: number | undefined;
  event: string;
  data: { seq: number; type: string; payload: Record<string, unknown> };
}

/** Reads server-sent events from a fetch answer. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let done = false;
  return {
    get done() {
      return done;
    },
    /** The next event (comments skipped), or `null` when the stream ended. */
    async next(): Promise<SseEvent | null> {
      for (;;) {
        const cut = buffer.indexOf('\n\n');
        if (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const at = line.indexOf(': ');
            fields.set(line.slice(0, at), line.slice(at + 2));
          }
          if (!fields.has('event')) continue;
          return {
            id: fields.has('id') ? Number(fields.get('id')) : undefined,
            event: fields.get('event')!,
            data: JSON.parse(fields.get('data')!) as SseEvent['data'],
          };
        }
        const chunk = await reader.read();
        if (chunk.done) {
          done = true;
          return null;
        }
        buffer += chunk.value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('GET /events (server-sent events)', () => {
  let dir: string;
  let registry: ModelRegistry;
  let app: Application;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-sse-'));
    ({ registry } = await openRegistryFromEnv({ MODELREG_DIR: dir }, { eventPollIntervalMs: 20 }));
    await registry.createModel('iris');
    for (const v of [1, 2]) {
      await registry.stores.metadata.createVersion({
        name: 'iris',
        source: `test://iris/${v}`,
        runId: null,
        files: [],
        description: '',
        tags: {},
        stage: 'none',
        createdAt: Date.now(),
      });
    }
    app = testApp(registry, { sseHeartbeatMs: 50 });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  const promote = (version: number, comment: string) =>
    registry.setAlias('iris', 'champion', version, { comment });

  it('a client reconnecting with Last-Event-ID gets exactly the events it missed, then live ones', async () => {
    const first = sseReader(await fetch(`${base}/events?types=alias.*`));
    // The stream starts at the log's end: wait until it is listening, then promote.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const v of [1, 2, 1]) await promote(v, 'seen');
    const seen = [await first.next(), await first.next(), await first.next()];
    expect(seen.map((e) => [e?.event, e?.data.payload['version']])).toEqual([
      ['alias.set', 1],
      ['alias.set', 2],
      ['alias.set', 1],
    ]);
    expect(seen.map((e) => e!.id)).toEqual(seen.map((e) => e!.data.seq));
    await first.cancel();

    for (const v of [2, 1, 2]) await promote(v, 'missed');
    await registry.updateModel('iris', { description: 'not an alias event' });
    const missed = (await registry.stores.metadata.readEvents(seen[2]!.id!, 100)).filter(
      (e) => e.type === 'alias.set',
    );
    expect(missed).toHaveLength(3);

    const again = sseReader(
      await fetch(`${base}/events?types=alias.*`, { headers: { 'Last-Event-ID': String(seen[2]!.id) } }),
    );
    const resumed = [await again.next(), await again.next(), await again.next()];
    expect(resumed.map((e) => e!.id)).toEqual(missed.map((e) => e.seq));
    await promote(1, 'live');
    const live = await again.next();
    expect(live?.event).toBe('alias.set');
    expect(live!.id).toBeGreaterThan(missed[2]!.seq);
    // Nothing was sent twice or out of order: the live event is the very next alias event.
    const after = (await registry.stores.metadata.readEvents(missed[2]!.seq, 100)).filter(
      (e) => e.type === 'alias.set',
    );
    expect(live!.id).toBe(after[0]!.seq);

    // A server shutting down ends the open streams.
    (app.locals['endEventStreams'] as () => void)();
    expect(await again.next()).toBeNull();
  });

  it('?after= replays from a position; bad input is a 400', async () => {
    const all = await registry.stores.metadata.readEvents(0, 1000);
    const stream = sseReader(await fetch(`${base}/events?types=version.created&after=0`));
    const events = [await stream.next(), await stream.next()];
    expect(events.map((e) => e!.id)).toEqual(
      all.filter((e) => e.type === 'version.created').map((e) => e.seq),
    );
    await stream.cancel();
    expect((await fetch(`${base}/events?types=bogus.*`)).status).toBe(400);
    expect((await fetch(`${base}/events`, { headers: { 'Last-Event-ID': 'abc' } })).status).toBe(400);
    expect((await fetch(`${base}/events?after=-1`)).status).toBe(400);
  });
});
