import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isRegistryError } from '@modelreg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteMetadataStore, sqliteMetadataStoreOptionsSchema } from '../src/index.js';
import { tempDbPath } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function configError(options: unknown): { code: string; message: string; option: unknown } {
  try {
    createSqliteMetadataStore(options as never);
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return { code: error.code, message: error.message, option: error.details?.option };
  }
  throw new Error('expected INVALID_CONFIG, but the factory accepted the options');
}

describe('options', () => {
  it.each([
    ['a missing filename', {}, 'filename'],
    ['an empty filename', { filename: '' }, 'filename'],
    ['a filename that is not a string', { filename: 42 }, 'filename'],
    ['a negative busy timeout', { filename: ':memory:', busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    ['a fractional busy timeout', { filename: ':memory:', busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
    ['a busy timeout that is not a number', { filename: ':memory:', busyTimeoutMs: '5s' }, 'busyTimeoutMs'],
    ['a database that is not a better-sqlite3 Database', { database: { prepare: 1 } }, 'database'],
  ])('%s is INVALID_CONFIG naming the option', (_label, options, option) => {
    const error = configError(options);
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain('[meta-sqlite]');
  });

  it('an unknown option is INVALID_CONFIG naming it', () => {
    const error = configError({ filename: ':memory:', fileName: 'x.db' });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('fileName');
  });

  it('options that are not an object are INVALID_CONFIG', () => {
    expect(configError(undefined).code).toBe('INVALID_CONFIG');
    expect(configError('registry.db').code).toBe('INVALID_CONFIG');
  });

  it('a closed database is INVALID_CONFIG', () => {
    const db = new Database(':memory:');
    db.close();
    expect(configError({ database: db }).option).toBe('database');
  });

  it('busyTimeoutMs defaults to 5000 ms', () => {
    expect(sqliteMetadataStoreOptionsSchema.parse({ filename: 'x.db' }).busyTimeoutMs).toBe(5000);
  });

  it('creates the missing parent folders of the file with mode 0750', async () => {
    const temp = tempDbPath();
    cleanups.push(temp.cleanup);
    const filename = join(temp.dir, 'deep', 'er', 'registry.db');
    const store = createSqliteMetadataStore({ filename });
    await store.init();
    await store.close();
    expect(statSync(join(temp.dir, 'deep')).mode & 0o777).toBe(0o750 & ~process.umask());
    expect(statSync(filename).isFile()).toBe(true);
  });

  it('uses a database it is given, migrates it and leaves it open on close', async () => {
    const database = new Database(':memory:');
    const store = createSqliteMetadataStore({ database });
    await store.init();
    await store.createModel({ name: 'iris', description: '', tags: {}, createdAt: 1 });
    await store.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT name FROM models').pluck().all()).toEqual(['iris']);
    database.close();
  });

  it('a store used before init or after close is STORE_FAILURE, not a crash', async () => {
    const store = createSqliteMetadataStore({ filename: ':memory:' });
    await expect(store.getModel('iris')).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    await store.init();
    await store.close();
    await expect(store.listModels({ limit: 1, offset: 0 })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
  });
});

describe('opening', () => {
  it('a file that cannot be opened is STORE_FAILURE from init, not a raw SqliteError', async () => {
    const temp = tempDbPath();
    cleanups.push(temp.cleanup);
    const store = createSqliteMetadataStore({ filename: temp.dir });
    await expect(store.init()).rejects.toMatchObject({ code: 'STORE_FAILURE', where: 'meta-sqlite' });
  });
});
