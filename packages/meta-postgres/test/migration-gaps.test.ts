import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, migrations } from '../src/migrations.js';
import { adminPool, dropSchema, pgReachable, randomSchema } from './pg-env.js';

describe.skipIf(!pgReachable)('meta-postgres migration numbers', () => {
  const admin = adminPool();
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin.end();
  });

  const withClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await admin.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  };

  it('gaps are allowed, and a number that arrives later than a higher one is still applied once', async () => {
    const schema = randomSchema('mr_gaps');
    schemas.push(schema);
    const quoted = `"${schema}"`;
    // A schema migrated before a merge brought in 4 and 5 (numbered below the highest one applied).
    const before = migrations.filter((m) => m.version !== 4 && m.version !== 5);
    expect(await withClient((c) => migrate(c, schema, quoted, before))).toEqual(before.map((m) => m.version));
    const merged = migrations;
    expect(await withClient((c) => migrate(c, schema, quoted, merged))).toEqual([4, 5]);
    expect(await withClient((c) => migrate(c, schema, quoted, merged))).toEqual([]);
    const { rows } = await admin.query<{ version: number }>(
      `SELECT version FROM ${quoted}.schema_migrations ORDER BY version`,
    );
    expect(rows.map((r) => r.version)).toEqual(merged.map((m) => m.version));
  });

  it('a list out of order or with a number twice is INVALID_CONFIG', async () => {
    const schema = randomSchema('mr_gaps');
    const twice = [...migrations, { version: 6, name: 'again', sql: 'SELECT 1' }];
    await expect(withClient((c) => migrate(c, schema, `"${schema}"`, twice))).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});
