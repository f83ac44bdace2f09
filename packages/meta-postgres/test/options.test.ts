import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import { createPostgresMetadataStore, postgresMetadataStoreOptionsSchema } from '../src/index.js';
import type { PostgresMetadataStoreOptions } from '../src/index.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from './pg-env.js';

const configError = (options: unknown): unknown => {
  try {
    createPostgresMetadataStore(options as PostgresMetadataStoreOptions);
    return null;
  } catch (error) {
    return error;
  }
};

describe('meta-postgres options', () => {
  it.each([
    ['neither connectionString nor pool', {}],
    ['both connectionString and pool', { connectionString: pgUrl, pool: new pg.Pool() }],
    ['an empty connectionString', { connectionString: '' }],
    ['a pool that is not a pool', { pool: { query: 1 } }],
    ['a schema that is not an identifier', { connectionString: pgUrl, schema: 'my-schema' }],
    ['a schema with SQL in it', { connectionString: pgUrl, schema: 'x"; DROP TABLE t; --' }],
    ['a schema longer than 63 characters', { connectionString: pgUrl, schema: 'a'.repeat(64) }],
    ['a negative maxRetries', { connectionString: pgUrl, maxRetries: -1 }],
    ['a fractional maxRetries', { connectionString: pgUrl, maxRetries: 1.5 }],
    ['a notifyChannel that is not an identifier', { connectionString: pgUrl, notifyChannel: 'a b' }],
    ['an unknown option', { connectionString: pgUrl, schemaName: 'x' }],
    ['no options at all', undefined],
  ])('rejects %s with INVALID_CONFIG', (_, options) => {
    const error = configError(options);
    expect(isRegistryError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/^\[modelreg\] \[meta-postgres\] invalid option/);
  });

  it('defaults the schema to modelreg and maxRetries to 10', () => {
    const parsed = postgresMetadataStoreOptionsSchema.parse({ connectionString: pgUrl });
    expect(parsed.schema).toBe('modelreg');
    expect(parsed.maxRetries).toBe(10);
  });

  it('names the store meta-postgres', () => {
    expect(createPostgresMetadataStore({ connectionString: pgUrl }).name).toBe('meta-postgres');
  });
});

describe.skipIf(!pgReachable)('meta-postgres pool ownership', () => {
  const admin = adminPool();
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin.end();
  });

  it('does not end a pool it was given', async () => {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
    const schema = randomSchema('mr_pool');
    schemas.push(schema);
    const store = createPostgresMetadataStore({ pool, schema });
    await store.init();
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    expect(pool.ended).toBe(false);
    await pool.end();
  });

  it('ends the pool it created on close', async () => {
    const schema = randomSchema('mr_pool');
    schemas.push(schema);
    const store = createPostgresMetadataStore({ connectionString: pgUrl, schema });
    await store.init();
    await store.createModel({ name: 'm', description: '', tags: {}, createdAt: 1 });
    await store.close();
    await expect(store.getModel('m')).rejects.toThrow();
  });
});
