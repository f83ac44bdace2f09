import type pg from 'pg';
import { expect, it } from 'vitest';
import type { MetadataStore, RegistryEvent } from '@modelreg/core';
import { defaultNotifyChannel } from '../src/options.js';

export interface ListenNotifyContext {
  /** A fresh, initialized store with its own schema (closed by the suite). */
  create: () => Promise<MetadataStore>;
  /** Another initialized store on the same schema as `store`, with its own pool (closed by the caller). */
  sibling: (store: MetadataStore) => Promise<MetadataStore>;
  schemaOf: (store: MetadataStore) => string;
  admin: pg.Pool;
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A reader that keeps its last seq and, on each wake-up, reads every event after it (one drain at a time). */
function consumer(store: MetadataStore): { seen: RegistryEvent[]; drain: () => Promise<void> } {
  const seen: RegistryEvent[] = [];
  let last = 0;
  let chain = Promise.resolve();
  const drain = (): Promise<void> =>
    (chain = chain.then(async () => {
      for (;;) {
        const batch = await store.readEvents(last, 25);
        if (batch.length === 0) return;
        seen.push(...batch);
        last = batch.at(-1)?.seq ?? last;
      }
    }));
  return { seen, drain };
}

const model = (store: MetadataStore, name: string): Promise<unknown> =>
  store.createModel({ name, description: '', tags: {}, createdAt: Date.now() });

export function listenNotifyTests(ctx: ListenNotifyContext): void {
  const listenerPids = async (store: MetadataStore): Promise<number[]> => {
    const query = `LISTEN "${defaultNotifyChannel(ctx.schemaOf(store))}"`;
    const { rows } = await ctx.admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE query = $1 AND datname = current_database()',
      [query],
    );
    return rows.map((r) => r.pid);
  };

  it('subscribe wakes on a change made by another store instance', async () => {
    const store = await ctx.create();
    const other = await ctx.sibling(store);
    try {
      let wakes = 0;
      const unsubscribe = await store.subscribe?.(() => void (wakes += 1));
      await model(other, 'from-elsewhere');
      await waitFor(() => wakes > 0, 'a wake-up');
      await unsubscribe?.();
    } finally {
      await other.close();
    }
  });

  it('unsubscribing releases the listening connection', async () => {
    const store = await ctx.create();
    const unsubscribe = await store.subscribe?.(() => undefined);
    expect(await listenerPids(store)).toHaveLength(1);
    await unsubscribe?.();
    await waitFor(async () => (await listenerPids(store)).length === 0, 'the LISTEN connection to go away');
  });

  it('subscribe survives a killed connection: it reconnects, wakes once, and still wakes on changes', async () => {
    const store = await ctx.create();
    const other = await ctx.sibling(store);
    try {
      let wakes = 0;
      const unsubscribe = await store.subscribe?.(() => void (wakes += 1));
      const [pid] = await listenerPids(store);
      expect(pid).toBeTypeOf('number');
      await ctx.admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // After reconnecting, the listener wakes its subscribers once (notifications may have been missed).
      await waitFor(() => wakes > 0, 'the wake-up after reconnecting');
      await waitFor(
        async () => (await listenerPids(store)).some((p) => p !== pid),
        'a new LISTEN connection',
      );
      const before = wakes;
      await model(other, 'after-reconnect');
      await waitFor(() => wakes > before, 'a wake-up after reconnecting');
      await unsubscribe?.();
    } finally {
      await other.close();
    }
  });

  it('a consumer that disconnects for a while receives every event exactly once, in order', async () => {
    const store = await ctx.create();
    const writer = await ctx.sibling(store);
    try {
      const reader = consumer(store);
      let unsubscribe = await store.subscribe?.(() => void reader.drain());
      for (let i = 0; i < 5; i++) await model(writer, `before-${i}`);
      await waitFor(() => reader.seen.length === 5, 'the first 5 events');

      await unsubscribe?.();
      for (let i = 0; i < 7; i++) await model(writer, `while-away-${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(reader.seen).toHaveLength(5);

      unsubscribe = await store.subscribe?.(() => void reader.drain());
      await reader.drain(); // a consumer catches up from its last seq when it comes back
      for (let i = 0; i < 3; i++) await model(writer, `after-${i}`);
      await waitFor(() => reader.seen.length >= 15, 'all 15 events');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await reader.drain();
      await unsubscribe?.();

      expect(reader.seen.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(reader.seen.map((e) => e.payload.name)).toEqual([
        ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
        ...Array.from({ length: 7 }, (_, i) => `while-away-${i}`),
        ...Array.from({ length: 3 }, (_, i) => `after-${i}`),
      ]);
    } finally {
      await writer.close();
    }
  });

  it('events of concurrent transactions are read back with no gap: a polling reader never skips one', async () => {
    const store = await ctx.create();
    const writers = await Promise.all(Array.from({ length: 4 }, () => ctx.sibling(store)));
    try {
      const reader = consumer(store);
      let writing = true;
      const polling = (async () => {
        while (writing) {
          await reader.drain();
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all(
        writers.flatMap((writer, w) =>
          Array.from({ length: 30 }, async (_, i) => {
            const name = `m-${w}-${i}`;
            await model(writer, name);
            await writer.createVersion({
              name,
              source: 'test',
              runId: null,
              files: [],
              description: '',
              tags: {},
              stage: 'none',
              createdAt: Date.now(),
            });
          }),
        ),
      );
      writing = false;
      await polling;
      await reader.drain();
      const total = 4 * 30 * 2;
      expect(await store.lastEventSeq()).toBe(total);
      // The reader only ever asked for seq > last: a late commit of a smaller seq would be missing here.
      expect(reader.seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // Each model's events are in causal order.
      const position = new Map(reader.seen.map((e, i) => [`${e.type}:${String(e.payload.name)}`, i]));
      for (let w = 0; w < 4; w++) {
        for (let i = 0; i < 30; i++) {
          const created = position.get(`model.created:m-${w}-${i}`) ?? -1;
          expect(position.get(`version.created:m-${w}-${i}`)).toBeGreaterThan(created);
        }
      }
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });
}
