import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseStoreOptions } from '@modelreg/core';
import type { MetadataStore } from '@modelreg/core';
import { createIdentityMethods } from './auth.js';
import { createContext } from './context.js';
import { createDeploymentMethods } from './deployments.js';
import { createWebhookMethods } from './webhooks.js';
import { LAST_EVENT_SEQ, createDatasetAndEventMethods } from './datasets.js';
import { applyMigrations } from './migrations.js';
import { createHousekeepingMethods } from './housekeeping.js';
import { createJobMethods } from './jobs.js';
import { createRegistryMethods } from './model-registry.js';
import { sqliteMetadataStoreOptionsSchema } from './options.js';
import type { SqliteMetadataStoreOptions } from './options.js';
import { createTrackingMethods } from './tracking.js';
import { STORE_NAME, withBusyRetry } from './transactions.js';

/** How often `subscribe` checks the event log for changes made by other connections. */
const POLL_INTERVAL_MS = 250;

const isMemory = (filename: string): boolean =>
  filename === ':memory:' || filename.startsWith('file::memory:');

function configure(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  if (!db.memory) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
}

/**
 * A {@link MetadataStore} in one SQLite file (or `':memory:'`), safe to share between processes:
 * every change is one `BEGIN IMMEDIATE` transaction that also appends its events, and version
 * numbers come from a per-model counter updated in that same transaction.
 */
export function createSqliteMetadataStore(options: SqliteMetadataStoreOptions): MetadataStore {
  const config = parseStoreOptions(sqliteMetadataStoreOptionsSchema, options, STORE_NAME);
  const subscribers = new Set<() => void>();
  const wakeLocal = (): void => {
    for (const onWake of [...subscribers]) setImmediate(onWake);
  };
  const handle = createContext(wakeLocal);
  const ctx = handle.context;
  const timers = new Set<NodeJS.Timeout>();
  let owned: Database.Database | undefined;

  const open = (): Database.Database => {
    if (config.database) return config.database;
    const filename = config.filename!;
    if (!isMemory(filename)) mkdirSync(dirname(resolve(filename)), { recursive: true, mode: 0o750 });
    return new Database(filename, { timeout: config.busyTimeoutMs });
  };

  return {
    name: STORE_NAME,

    async init() {
      const db = await withBusyRetry('init', open);
      if (!config.database) owned = db;
      try {
        await withBusyRetry('init', () => configure(db, config.busyTimeoutMs));
        await withBusyRetry('init', () => applyMigrations(db));
      } catch (error) {
        owned?.close();
        owned = undefined;
        throw error;
      }
      handle.attach(db);
    },

    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      subscribers.clear();
      handle.detach();
      owned?.close();
      owned = undefined;
    },

    ...createTrackingMethods(ctx),
    ...createRegistryMethods(ctx),
    ...createDatasetAndEventMethods(ctx),
    ...createHousekeepingMethods(ctx),
    ...createJobMethods(ctx),
    ...createIdentityMethods(ctx),
    ...createDeploymentMethods(ctx),
    ...createWebhookMethods(ctx),

    async subscribe(onWake) {
      const current = (): number | undefined => {
        if (!handle.database()?.open) return undefined;
        try {
          return ctx.get<{ seq: number }>(LAST_EVENT_SEQ)?.seq;
        } catch {
          return undefined; // busy or closing: try again on the next tick
        }
      };
      let seen = current() ?? 0;
      let active = true;
      const wake = (): void => {
        if (!active) return;
        seen = Math.max(seen, current() ?? seen);
        onWake();
      };
      subscribers.add(wake);
      const timer = setInterval(() => {
        const seq = current();
        if (active && seq !== undefined && seq > seen) wake();
      }, POLL_INTERVAL_MS);
      timer.unref();
      timers.add(timer);
      return async () => {
        active = false;
        clearInterval(timer);
        timers.delete(timer);
        subscribers.delete(wake);
      };
    },
  };
}
