import Database from 'better-sqlite3';
import { isRegistryError } from '@modelreg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteMetadataStore } from '../src/index.js';
import { toRegistryError } from '../src/transactions.js';
import { tempDbPath } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function lockedFile(busyTimeoutMs: number) {
  const temp = tempDbPath();
  cleanups.push(temp.cleanup);
  const store = createSqliteMetadataStore({ filename: temp.filename, busyTimeoutMs });
  await store.init();
  cleanups.push(() => void store.close());
  const other = new Database(temp.filename);
  cleanups.push(() => other.close());
  other.prepare('BEGIN IMMEDIATE').run();
  return { store, release: () => other.prepare('COMMIT').run() };
}

describe('locking', () => {
  it('a write that finds the file locked past busy_timeout is retried and succeeds once the lock is gone', async () => {
    const { store, release } = await lockedFile(20);
    const timer = setTimeout(release, 150);
    const model = await store.createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 });
    clearTimeout(timer);
    expect(model.name).toBe('iris');
    expect(await store.lastEventSeq()).toBe(1);
  });

  it('a lock that outlasts every retry is STORE_FAILURE, never a raw SqliteError', async () => {
    const { store, release } = await lockedFile(10);
    const outcome = await store
      .createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 })
      .catch((e) => e);
    release();
    expect(isRegistryError(outcome, 'STORE_FAILURE')).toBe(true);
    expect((outcome as Error).message).toMatch(/\[meta-sqlite\] createModel failed: .*locked/);
    expect(await store.getModel('iris')).toBeNull();
  });

  it('readers are not blocked by a writer holding the lock (WAL)', async () => {
    const { store, release } = await lockedFile(10);
    expect(await store.listModels({ limit: 10, offset: 0 })).toEqual([]);
    release();
  });

  it('SQLite constraint errors map to registry error codes', () => {
    const db = new Database(':memory:');
    cleanups.push(() => db.close());
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE p (id TEXT PRIMARY KEY); CREATE TABLE c (p TEXT NOT NULL REFERENCES p (id))');
    db.exec("INSERT INTO p VALUES ('a')");
    const codeOf = (sql: string): string => {
      try {
        db.exec(sql);
      } catch (error) {
        return toRegistryError(error, 'test').code;
      }
      return 'none';
    };
    expect(codeOf("INSERT INTO p VALUES ('a')")).toBe('ALREADY_EXISTS');
    expect(codeOf("INSERT INTO c VALUES ('zzz')")).toBe('NOT_FOUND');
    expect(codeOf('INSERT INTO c VALUES (NULL)')).toBe('INVALID_ARGUMENT');
    expect(codeOf('SELECT * FROM missing')).toBe('STORE_FAILURE');
  });
});
