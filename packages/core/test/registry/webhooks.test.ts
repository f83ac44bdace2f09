import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import { isPrivateAddress } from '../../src/registry/webhook-target.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import { isRegistryError } from '../../src/errors.js';
import type { Principal } from '../../src/domain/identity.js';

/** A receiver on 127.0.0.1 that answers with `status()` and keeps what it got. */
async function receiver(status: () => number = () => 204) {
  const got: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { got, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function eventually(check: () => void | Promise<void>, ms = 5000): Promise<void> {
  for (const started = Date.now(); ;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() - started > ms) throw e;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

const expectCode = async (p: Promise<unknown>, code: string): Promise<void> => {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isRegistryError(error) ? error.code : error).toBe(code);
};

const admin: Principal = { name: 'root@example.com', role: 'admin', models: null, tokenId: 'tok_a' };
const editor: Principal = { name: 'ed@example.com', role: 'editor', models: null, tokenId: 'tok_e' };

let metadata: MetadataStore;
let registry: ModelRegistry;
const open = (webhooks: Record<string, unknown> = {}) =>
  ModelRegistry.open({
    metadata,
    artifacts: createMemoryArtifactStore(),
    eventPollIntervalMs: 10,
    webhooks: { allowPrivate: true, pollIntervalMs: 10, backoff: { initialMs: 5, maxMs: 20 }, ...webhooks },
  });

beforeEach(async () => {
  metadata = createMemoryMetadataStore();
  registry = await open();
  await registry.createModel('iris');
});
afterEach(async () => {
  await registry.close();
});

describe('webhook registration', () => {
  it('create answers the secret once; get and list never show it', async () => {
    const created = await registry.webhooks.create({ url: 'http://127.0.0.1:9/x', events: ['version.*'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);
    expect(created).toMatchObject({ status: 'active', events: ['version.*'], failureCount: 0 });
    expect(await registry.webhooks.get(created.id)).not.toHaveProperty('secret');
    expect((await registry.webhooks.list())[0]).not.toHaveProperty('secret');
    expect(JSON.stringify(await registry.webhooks.list())).not.toContain(created.secret.slice(6));
  });

  it('bad urls, patterns and secrets are INVALID_ARGUMENT and store nothing', async () => {
    const hooks = registry.webhooks;
    await expectCode(hooks.create({ url: 'ftp://example.com/x', events: ['*'] }), 'INVALID_ARGUMENT');
    await expectCode(hooks.create({ url: 'http://u:p@example.com/x', events: ['*'] }), 'INVALID_ARGUMENT');
    await expectCode(hooks.create({ url: 'not a url', events: ['*'] }), 'INVALID_ARGUMENT');
    await expectCode(hooks.create({ url: 'https://example.com', events: ['verzion.*'] }), 'INVALID_ARGUMENT');
    await expectCode(hooks.create({ url: 'https://example.com', events: [] }), 'INVALID_ARGUMENT');
    await expectCode(
      hooks.create({ url: 'https://example.com', events: ['*'], secret: 'whsec_c2hvcnQ=' }),
      'INVALID_ARGUMENT',
    );
    await expectCode(hooks.get('wh_missing'), 'NOT_FOUND');
    await expectCode(hooks.get('../etc'), 'INVALID_ARGUMENT');
    expect(await hooks.list()).toEqual([]);
  });

  it('private, loopback and link-local targets are refused unless allowed', async () => {
    const strict = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
      webhooks: { allowPrivate: false },
    });
    try {
      for (const url of [
        'http://127.0.0.1/x',
        'http://localhost:8080/x',
        'http://10.1.2.3/x',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/x',
        'http://[::ffff:127.0.0.1]/x',
        'http://[fe80::1]/x',
      ]) {
        const error = await strict.webhooks.create({ url, events: ['*'] }).catch((e: unknown) => e);
        expect(isRegistryError(error, 'INVALID_ARGUMENT'), url).toBe(true);
        expect(String((error as Error).message)).toContain('MODELREG_WEBHOOK_ALLOW_PRIVATE');
      }
      expect(await strict.webhooks.list()).toEqual([]);
    } finally {
      await strict.close();
    }
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700:4700::1111')).toBe(false);
    expect(isPrivateAddress('172.20.0.1')).toBe(true);
  });

  it('webhooks and event cursors need the admin role', async () => {
    const view = registry.as(editor);
    await expectCode(
      view.webhooks.create({ url: 'http://127.0.0.1:9/x', events: ['*'] }),
      'PERMISSION_DENIED',
    );
    await expectCode(view.webhooks.list(), 'PERMISSION_DENIED');
    expect(() => view.eventCursor('relay')).toThrow(/admin/);
    const created = await registry.as(admin).webhooks.create({ url: 'http://127.0.0.1:9/x', events: ['*'] });
    expect(created.createdBy).toBe(admin.name);
  });
});

describe('webhook delivery', () => {
  it('delivers matching events in order, signed so that the standardwebhooks verifier accepts them', async () => {
    const rx = await receiver();
    try {
      const hook = await registry.webhooks.create({ url: rx.url, events: ['model.*'] });
      await registry.webhooks.start();
      for (let i = 1; i <= 3; i++) await registry.updateModel('iris', { description: `d${i}` });
      await registry.createModel('wine');
      await eventually(async () => {
        expect(rx.got).toHaveLength(4);
        expect((await registry.webhooks.deliveries(hook.id)).map((d) => d.status)).toEqual(
          Array(4).fill('succeeded'),
        );
      });
      const verifier = new Verifier(hook.secret);
      const bodies = rx.got.map((r) =>
        verifier.verify(r.body, r.headers as Record<string, string>),
      ) as Array<{
        type: string;
        seq: number;
        data: Record<string, unknown>;
      }>;
      expect(bodies.map((b) => [b.type, b.data['name']])).toEqual([
        ['model.updated', 'iris'],
        ['model.updated', 'iris'],
        ['model.updated', 'iris'],
        ['model.created', 'wine'],
      ]);
      expect(rx.got.map((r) => r.headers['webhook-id'])).toEqual(bodies.map((b) => `msg_${b.seq}`));
      // The model created before the webhook existed is history, not delivered.
      const deliveries = await registry.webhooks.deliveries(hook.id);
      expect(deliveries.map((d) => [d.status, d.attempts])).toEqual(Array(4).fill(['succeeded', 1]));
      expect(await registry.eventCursor(`webhook:${hook.id}`).position()).toBe(bodies.at(-1)!.seq);
    } finally {
      await rx.close();
    }
  });

  it('retries with backoff until the receiver recovers, without skipping or reordering', async () => {
    let failing = 3;
    const rx = await receiver(() => (failing-- > 0 ? 503 : 200));
    try {
      const hook = await registry.webhooks.create({ url: rx.url, events: ['model.updated'] });
      await registry.webhooks.start();
      await registry.updateModel('iris', { description: 'a' });
      await registry.updateModel('iris', { description: 'b' });
      await eventually(() => expect(rx.got.length).toBe(5));
      const ids = rx.got.map((r) => r.headers['webhook-id']);
      expect(new Set(ids.slice(0, 4)).size).toBe(1); // one message, tried 4 times
      expect(ids[4]).not.toBe(ids[0]);
      await eventually(async () => {
        const [second, first] = await registry.webhooks.deliveries(hook.id);
        expect(first).toMatchObject({
          status: 'succeeded',
          attempts: 4,
          responseStatus: 200,
          lastError: null,
        });
        expect(second).toMatchObject({ status: 'succeeded', attempts: 1 });
      });
      expect(await registry.webhooks.get(hook.id)).toMatchObject({ failureCount: 0, nextAttemptAt: null });
    } finally {
      await rx.close();
    }
  });

  it('a run of failures disables the webhook; enabling it resumes from the undelivered event', async () => {
    await registry.close();
    registry = await open({ maxFailures: 3 });
    let down = true;
    const rx = await receiver(() => (down ? 500 : 204));
    try {
      const hook = await registry.webhooks.create({ url: rx.url, events: ['model.*'] });
      await registry.webhooks.start();
      await registry.updateModel('iris', { description: 'x' });
      await eventually(async () =>
        expect(await registry.webhooks.get(hook.id)).toMatchObject({ status: 'disabled', failureCount: 3 }),
      );
      const [entry] = await registry.webhooks.deliveries(hook.id);
      expect(entry).toMatchObject({
        status: 'failed',
        attempts: 3,
        responseStatus: 500,
        lastError: 'HTTP 500',
      });
      expect((await registry.webhooks.get(hook.id)).disabledReason).toMatch(/3 failed attempts in a row/);
      down = false;
      await registry.webhooks.update(hook.id, { status: 'active' });
      await eventually(() => expect(rx.got).toHaveLength(4));
      expect(await registry.webhooks.get(hook.id)).toMatchObject({ status: 'active', failureCount: 0 });
    } finally {
      await rx.close();
    }
  });

  it('test() sends a signed webhook.test and logs it; an unreachable receiver is logged as failed', async () => {
    const rx = await receiver();
    const hook = await registry.webhooks.create({ url: rx.url, events: ['*'] });
    const ok = await registry.webhooks.test(hook.id);
    expect(ok).toMatchObject({
      status: 'succeeded',
      eventType: 'webhook.test',
      responseStatus: 204,
      seq: null,
    });
    expect(
      new Verifier(hook.secret).verify(rx.got[0]!.body, rx.got[0]!.headers as Record<string, string>),
    ).toMatchObject({
      type: 'webhook.test',
    });
    await rx.close();
    const failed = await registry.webhooks.test(hook.id);
    expect(failed).toMatchObject({ status: 'failed', responseStatus: null });
    expect(failed.lastError).toMatch(/ECONNREFUSED/);
    expect((await registry.webhooks.deliveries(hook.id)).map((d) => d.id)).toEqual([failed.id, ok.id]);
  });
});

describe('registry.eventCursor', () => {
  it('claims, advances, reports and releases a position shared through the store', async () => {
    const a = registry.eventCursor('relay:test', { owner: 'a', leaseMs: 60_000 });
    const b = registry.eventCursor('relay:test', { owner: 'b' });
    expect(await a.position()).toBe(0);
    expect(await a.claim()).toBe(true);
    expect(await b.claim()).toBe(false);
    await a.advance(3);
    await expectCode(b.advance(4), 'CONFLICT');
    expect(await b.position()).toBe(3);
    await a.release();
    expect(await b.claim()).toBe(true);
    await expectCode(a.advance(-1), 'INVALID_ARGUMENT');
    expect(() => registry.eventCursor('bad name')).toThrow(/cursor name/);
  });
});
