import { expect, it } from 'vitest';
import type { StoredWebhook, WebhookDelivery } from '../../domain/webhooks.js';
import type { SuiteContext } from './context.js';
import { at, expectCode } from './fixtures.js';

const hook = (n: number, over: Partial<StoredWebhook> = {}): StoredWebhook => ({
  id: `wh_${String(n).padStart(24, '0')}`,
  url: `https://hooks.example.com/${n}`,
  events: ['version.*', 'alias.set'],
  status: 'active',
  description: '',
  disabledReason: null,
  failureCount: 0,
  nextAttemptAt: null,
  startSeq: 0,
  createdAt: at(n),
  updatedAt: at(n),
  createdBy: 'admin',
  secret: `whsec_${Buffer.from(`secret-${n}-0123456789abcdef`).toString('base64')}`,
  ...over,
});

const delivery = (webhookId: string, seq: number, over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: `msg_${seq}`,
  webhookId,
  seq,
  eventType: 'alias.set',
  status: 'pending',
  attempts: 1,
  responseStatus: 503,
  lastError: 'HTTP 503',
  latencyMs: 12,
  createdAt: at(seq),
  updatedAt: at(seq),
  ...over,
});

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function cursorTests(ctx: SuiteContext): void {
  it('claimCursor creates the cursor at 0 with a lease; the owner renews it, another owner is refused', async () => {
    const store = ctx.store();
    expect(await store.getCursor('relay')).toBeNull();
    const before = Date.now();
    expect(await store.claimCursor('relay', 'a', 60_000)).toBe(true);
    const state = await store.getCursor('relay');
    expect(state).toMatchObject({ name: 'relay', seq: 0, leaseOwner: 'a' });
    expect(state!.leaseUntil).toBeInstanceOf(Date);
    // The store's clock may be another machine's (Postgres): allow some skew.
    expect(state!.leaseUntil!.getTime()).toBeGreaterThan(before + 30_000);
    expect(await store.claimCursor('relay', 'b', 60_000)).toBe(false);
    expect(await store.claimCursor('relay', 'a', 60_000)).toBe(true);
    expect((await store.getCursor('relay'))!.leaseOwner).toBe('a');
  });

  it('of concurrent claims of a free cursor exactly one wins', async () => {
    const store = ctx.store();
    const owners = ['a', 'b', 'c', 'd', 'e', 'f'];
    const won = await Promise.all(owners.map((o) => store.claimCursor('race', o, 60_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await store.getCursor('race'))!.leaseOwner).toBe(owners[won.indexOf(true)]);
  });

  it('an expired lease can be taken by another owner, and its old owner can no longer advance', async () => {
    const store = ctx.store();
    expect(await store.claimCursor('c', 'a', 1)).toBe(true);
    await tick(20);
    expect(await store.claimCursor('c', 'b', 60_000)).toBe(true);
    await expectCode(store.advanceCursor('c', 'a', 5), 'CONFLICT');
    await store.advanceCursor('c', 'b', 5);
    expect((await store.getCursor('c'))!.seq).toBe(5);
  });

  it('advanceCursor only grows the position and needs a live lease', async () => {
    const store = ctx.store();
    await expectCode(store.advanceCursor('missing', 'a', 1), 'NOT_FOUND');
    await store.claimCursor('c', 'a', 60_000);
    await store.advanceCursor('c', 'a', 7);
    await store.advanceCursor('c', 'a', 3);
    expect((await store.getCursor('c'))!.seq).toBe(7);
    await expectCode(store.advanceCursor('c', 'b', 9), 'CONFLICT');
    expect((await store.getCursor('c'))!.seq).toBe(7);
  });

  it('releaseCursor frees the lease and keeps the position; another owner may claim at once', async () => {
    const store = ctx.store();
    await store.claimCursor('c', 'a', 60_000);
    await store.advanceCursor('c', 'a', 4);
    await store.releaseCursor('c', 'b');
    expect((await store.getCursor('c'))!.leaseOwner).toBe('a');
    await store.releaseCursor('c', 'a');
    expect(await store.getCursor('c')).toEqual({ name: 'c', seq: 4, leaseOwner: null, leaseUntil: null });
    await expectCode(store.advanceCursor('c', 'a', 5), 'CONFLICT');
    expect(await store.claimCursor('c', 'b', 60_000)).toBe(true);
    await store.releaseCursor('missing', 'a');
  });

  it('cursors write no events', async () => {
    const store = ctx.store();
    await store.claimCursor('c', 'a', 60_000);
    await store.advanceCursor('c', 'a', 2);
    await store.releaseCursor('c', 'a');
    expect(await store.lastEventSeq()).toBe(0);
  });
}

export function webhookTests(ctx: SuiteContext): void {
  it('createWebhook stores the webhook with its secret; a taken id is ALREADY_EXISTS', async () => {
    const store = ctx.store();
    const created = await store.createWebhook(hook(1));
    expect(created).toEqual(hook(1));
    expect(await store.getWebhook(hook(1).id)).toEqual(hook(1));
    await expectCode(store.createWebhook(hook(2, { id: hook(1).id })), 'ALREADY_EXISTS');
    expect(await store.getWebhook('wh_missing')).toBeNull();
    expect(await store.lastEventSeq()).toBe(0);
  });

  it('listWebhooks lists oldest first, then by id', async () => {
    const store = ctx.store();
    await store.createWebhook(hook(3));
    await store.createWebhook(hook(2, { createdAt: at(1) }));
    await store.createWebhook(hook(1));
    expect((await store.listWebhooks()).map((w) => w.id)).toEqual([hook(1).id, hook(2).id, hook(3).id]);
  });

  it('updateWebhook changes the given fields only; unknown is NOT_FOUND', async () => {
    const store = ctx.store();
    await store.createWebhook(hook(1));
    const updated = await store.updateWebhook(hook(1).id, {
      events: ['*'],
      status: 'disabled',
      disabledReason: '33 failures in a row',
      failureCount: 33,
      nextAttemptAt: at(50),
      time: at(9),
    });
    expect(updated).toEqual({
      ...hook(1),
      events: ['*'],
      status: 'disabled',
      disabledReason: '33 failures in a row',
      failureCount: 33,
      nextAttemptAt: at(50),
      updatedAt: at(9),
    });
    const again = await store.updateWebhook(hook(1).id, {
      status: 'active',
      disabledReason: null,
      nextAttemptAt: null,
      url: 'http://other.example.com/x',
      time: at(10),
    });
    expect(again).toMatchObject({
      status: 'active',
      disabledReason: null,
      nextAttemptAt: null,
      failureCount: 33,
    });
    expect(await store.getWebhook(hook(1).id)).toEqual(again);
    await expectCode(store.updateWebhook('wh_missing', { status: 'active', time: at(1) }), 'NOT_FOUND');
  });

  it('the delivery log keeps one entry per message, replaced on each attempt, newest first', async () => {
    const store = ctx.store();
    const { id } = await store.createWebhook(hook(1));
    await store.saveWebhookDelivery(
      delivery(id, 1, { status: 'succeeded', lastError: null, responseStatus: 204 }),
    );
    await store.saveWebhookDelivery(delivery(id, 2));
    await store.saveWebhookDelivery(
      delivery(id, 2, { attempts: 2, updatedAt: at(5), lastError: 'timeout', responseStatus: null }),
    );
    await store.saveWebhookDelivery(
      delivery(id, 3, {
        id: 'msg_test_1',
        seq: null,
        eventType: 'webhook.test',
        status: 'failed',
        createdAt: at(3),
      }),
    );
    expect(await store.getWebhookDelivery(id, 'msg_2')).toEqual(
      delivery(id, 2, { attempts: 2, updatedAt: at(5), lastError: 'timeout', responseStatus: null }),
    );
    expect(await store.getWebhookDelivery(id, 'msg_9')).toBeNull();
    expect((await store.listWebhookDeliveries(id, 10)).map((d) => d.id)).toEqual([
      'msg_test_1',
      'msg_2',
      'msg_1',
    ]);
    expect((await store.listWebhookDeliveries(id, 2)).map((d) => d.id)).toEqual(['msg_test_1', 'msg_2']);
    await expectCode(store.saveWebhookDelivery(delivery('wh_missing', 1)), 'NOT_FOUND');
  });

  it('deleteWebhook deletes the webhook and its delivery log; unknown is NOT_FOUND', async () => {
    const store = ctx.store();
    await store.createWebhook(hook(1));
    await store.createWebhook(hook(2));
    await store.saveWebhookDelivery(delivery(hook(1).id, 1));
    await store.saveWebhookDelivery(delivery(hook(2).id, 1));
    await store.deleteWebhook(hook(1).id);
    expect(await store.getWebhook(hook(1).id)).toBeNull();
    expect(await store.listWebhookDeliveries(hook(1).id, 10)).toEqual([]);
    expect(await store.listWebhookDeliveries(hook(2).id, 10)).toHaveLength(1);
    await expectCode(store.deleteWebhook(hook(1).id), 'NOT_FOUND');
  });
}
