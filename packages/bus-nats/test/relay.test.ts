import type { NatsConnection } from 'nats';
import { AckPolicy, connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { relayEvents } from '../src/index.js';
import { deleteStreams, natsReachable, natsUrl, runTag } from '../../../test-utils/nats-env.js';
import { cursorRow, memoryCursor } from './memory-cursor.js';

describe('relayEvents options', () => {
  it('a bad option is INVALID_CONFIG naming it, before any connection', async () => {
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
    const cursor = memoryCursor(cursorRow(), 'a');
    await expect(
      relayEvents({ registry, servers: natsUrl, prefix: 'bad prefix', cursor }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/prefix/) });
    await expect(relayEvents({ registry, prefix: 'p', cursor })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/exactly one of "nats"/),
    });
    await registry.close();
  });
});

describe.skipIf(!natsReachable)('relayEvents on JetStream', () => {
  const tag = runTag('mrrelay');
  let nc: NatsConnection;
  let registry: ModelRegistry;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
    registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
  });
  afterAll(async () => {
    await registry.close();
    await deleteStreams(nc, tag);
    await nc.close();
  });

  it('a consumer of <prefix>.events.> sees seqs 1..N exactly once across a relay restart', async () => {
    const row = cursorRow();
    const relay1 = await relayEvents({ registry, nats: nc, prefix: tag, cursor: memoryCursor(row, 'r1') });
    expect(relay1.stream).toBe(`${tag.toUpperCase()}_EVENTS`);
    for (let i = 0; i < 10; i++) await registry.createModel(`m${i}`);
    await relay1.flush();
    // A crash after publishing, before the cursor moved: the restarted relay re-publishes 6..10.
    row.position = 5;
    await relay1.stop();
    for (let i = 10; i < 20; i++) await registry.createModel(`m${i}`);
    const relay2 = await relayEvents({ registry, nats: nc, prefix: tag, cursor: memoryCursor(row, 'r2') });
    const last = await registry.stores.metadata.lastEventSeq();
    expect(await relay2.flush()).toBe(last);
    expect(relay2.stats()).toEqual({ published: 10, duplicates: 5, standby: false });
    await relay2.stop();

    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(relay1.stream, {
      durable_name: 'reader',
      ack_policy: AckPolicy.None,
      filter_subject: `${tag}.events.>`,
    });
    const consumer = await nc.jetstream().consumers.get(relay1.stream, 'reader');
    const seen: Array<{ seq: number; subject: string; msgId: string | undefined }> = [];
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    for await (const m of batch) {
      const event = m.json<{ seq: number; type: string }>();
      seen.push({ seq: event.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') });
      if (seen.length === last) break;
    }
    expect(seen.map((s) => s.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(seen[0]).toEqual({ seq: 1, subject: `${tag}.events.model.created`, msgId: '1' });
    expect((await jsm.streams.info(relay1.stream)).state.messages).toBe(last);
  });

  it('by default its cursor lives in the metadata store: a new relay publishes only what came after', async () => {
    const prefix = `${tag}d`;
    const relay1 = await relayEvents({ registry, nats: nc, prefix });
    const first = await relay1.flush();
    await relay1.stop();
    expect((await registry.stores.metadata.getCursor(`nats-relay:${prefix}`))?.seq).toBe(first);
    for (let i = 0; i < 3; i++) await registry.createModel(`after${i}`);
    const relay2 = await relayEvents({ registry, nats: nc, prefix });
    expect(await relay2.flush()).toBe(first + 3);
    expect(relay2.stats()).toEqual({ published: 3, duplicates: 0, standby: false });
    await relay2.stop();
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(relay2.stream)).state.messages).toBe(first + 3);
  });

  it('a second relay on a held cursor stands by, and takes over when the holder stops', async () => {
    const row = cursorRow();
    const prefix = `${tag}b`;
    const a = await relayEvents({ registry, nats: nc, prefix, cursor: memoryCursor(row, 'a') });
    await a.flush();
    const b = await relayEvents({ registry, nats: nc, prefix, cursor: memoryCursor(row, 'b') });
    await b.flush();
    expect(b.stats().standby).toBe(true);
    await a.stop();
    await registry.createModel('after-handover');
    expect(await b.flush()).toBe(await registry.stores.metadata.lastEventSeq());
    expect(b.stats()).toMatchObject({ standby: false, published: 1 });
    await b.stop();
  });
});
