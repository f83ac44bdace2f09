import Database from 'better-sqlite3';
import { describeMetadataStoreConformance } from '@modelreg/core/testing';
import type { MetadataStore } from '@modelreg/core';
import { expect, it, vi } from 'vitest';
import { createSqliteMetadataStore } from '../src/index.js';
import { applyMigrations, migrations } from '../src/migrations.js';
import { sqliteInspector, tempDbPath } from './helpers.js';

const files = new Map<MetadataStore, { filename: string; cleanup: () => void }>();

describeMetadataStoreConformance({
  name: 'meta-sqlite (file)',
  create: () => {
    const temp = tempDbPath();
    const store = createSqliteMetadataStore({ filename: temp.filename });
    files.set(store, temp);
    return store;
  },
  destroy: async (store) => {
    files.get(store)?.cleanup();
    files.delete(store);
  },
  inspect: (store) => sqliteInspector(files.get(store)!.filename),
  additionalTests: ({ create }) => {
    const fileOf = (store: MetadataStore): string => files.get(store)!.filename;

    it('records every migration once, and reopening the file applies nothing again', async () => {
      const store = await create();
      const filename = fileOf(store);
      const read = () => {
        const db = new Database(filename, { readonly: true });
        try {
          return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
        } finally {
          db.close();
        }
      };
      const first = read();
      expect(first.map((m) => (m as { version: number }).version)).toEqual(migrations.map((m) => m.version));
      const again = createSqliteMetadataStore({ filename });
      await again.init();
      await again.close();
      expect(read()).toEqual(first);
    });

    it('a file made before run heartbeats keeps its running runs, which expire by their start time', async () => {
      const { filename, cleanup } = tempDbPath();
      try {
        const old = new Database(filename);
        applyMigrations(
          old,
          migrations.filter((m) => m.version < 3),
        );
        old.prepare("INSERT INTO experiments (id, name, created_at) VALUES ('e', 'e', 1)").run();
        old
          .prepare(
            "INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES ('old', 'e', 'old', 'running', 1000), ('new', 'e', 'new', 'running', 5000)",
          )
          .run();
        old.close();
        const store = createSqliteMetadataStore({ filename });
        await store.init();
        try {
          expect(await store.getRegistryId()).toBeNull();
          expect(await store.expireRuns({ heartbeatBefore: 3000, endTime: 9000 })).toEqual(['old']);
          expect(await store.getRun('new')).toMatchObject({ status: 'running' });
        } finally {
          await store.close();
        }
      } finally {
        cleanup();
      }
    });

    it('opens the file in WAL mode with foreign keys on', async () => {
      const store = await create();
      const db = new Database(fileOf(store));
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        db.close();
      }
    });

    it("a second store on the same file sees the first store's writes and events", async () => {
      const first = await create();
      const second = createSqliteMetadataStore({ filename: fileOf(first) });
      await second.init();
      try {
        await first.createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 });
        const version = await second.createVersion({
          name: 'iris',
          source: 'runs:/r/model',
          runId: null,
          files: [],
          description: '',
          tags: {},
          stage: 'none',
          createdAt: 2,
        });
        expect(version.version).toBe(1);
        expect((await first.getModel('iris'))?.lastVersion).toBe(1);
        expect((await first.readEvents(0, 10)).map((e) => e.type)).toEqual([
          'model.created',
          'version.created',
        ]);
        expect(await second.lastEventSeq()).toBe(2);
      } finally {
        await second.close();
      }
    });

    it('subscribe wakes up when another connection appends events, and stops after unsubscribe', async () => {
      const first = await create();
      const second = createSqliteMetadataStore({ filename: fileOf(first) });
      await second.init();
      try {
        let wakes = 0;
        let wake = (): void => undefined;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const unsubscribe = await first.subscribe!(() => {
          wakes++;
          wake();
        });
        await second.createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 });
        await woken;
        await unsubscribe();
        expect(wakes).toBeGreaterThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 50));
        const after = wakes;
        await second.createModel({ name: 'other', description: '', tags: {}, createdAt: 2 });
        await new Promise((r) => setTimeout(r, 600));
        expect(wakes).toBe(after);
      } finally {
        await second.close();
      }
    });

    it('subscribe wakes up at once for changes made through the same store', async () => {
      const store = await create();
      let woke = false;
      const unsubscribe = await store.subscribe!(() => {
        woke = true;
      });
      await store.createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 });
      // The local wake is a setImmediate after the commit; a loaded machine may run a short timer
      // first, so the test waits for it, but less than the 250 ms poll that would also wake it.
      await vi.waitFor(() => expect(woke).toBe(true), { timeout: 200, interval: 5 });
      await unsubscribe();
    });
  },
});

describeMetadataStoreConformance({
  name: 'meta-sqlite (:memory:)',
  create: () => createSqliteMetadataStore({ filename: ':memory:' }),
});
