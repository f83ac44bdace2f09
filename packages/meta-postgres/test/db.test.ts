import { afterAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import { createDb, isRetryable, translateError } from '../src/db.js';
import { adminPool, pgReachable, randomSchema } from './pg-env.js';

const pgError = (code: string, constraint?: string): Error =>
  Object.assign(new Error(`fake ${code}`), { code, ...(constraint ? { constraint } : {}) });

describe('meta-postgres error handling', () => {
  it('retries serialization failures, deadlocks and unique violations of race-only constraints', () => {
    expect(isRetryable(pgError('40001'))).toBe(true);
    expect(isRetryable(pgError('40P01'))).toBe(true);
    expect(isRetryable(pgError('23505', 'model_versions_unique'))).toBe(true);
    expect(isRetryable(pgError('23505', 'experiments_name_key'))).toBe(false);
    expect(isRetryable(pgError('42P01'))).toBe(false);
    expect(isRetryable(new Error('socket hang up'))).toBe(false);
  });

  it('maps constraint violations to RegistryError codes and everything else to STORE_FAILURE with the raw error as cause', () => {
    expect(isRegistryError(translateError(pgError('23505', 'x')), 'ALREADY_EXISTS')).toBe(true);
    expect(isRegistryError(translateError(pgError('23503', 'x')), 'NOT_FOUND')).toBe(true);
    const other = translateError(pgError('42P01'), 3);
    expect(isRegistryError(other, 'STORE_FAILURE')).toBe(true);
    expect(other.message).toBe(
      '[modelreg] [meta-postgres] PostgreSQL error 42P01 after 3 attempts: fake 42P01',
    );
    expect(other.cause).toBeInstanceOf(Error);
  });

  it('connection failures and unknown throws are STORE_FAILURE naming the store, never plain Errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const connection = translateError(refused);
    expect(isRegistryError(connection, 'STORE_FAILURE')).toBe(true);
    expect(connection.message).toBe(
      '[modelreg] [meta-postgres] PostgreSQL connection failed: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(connection.cause).toBe(refused);
    const odd = translateError('a string');
    expect(isRegistryError(odd, 'STORE_FAILURE')).toBe(true);
    expect(odd.message).toBe('[modelreg] [meta-postgres] unexpected error: a string');
  });
});

describe.skipIf(!pgReachable)('meta-postgres transactions', () => {
  const pool = adminPool(2);
  afterAll(() => pool.end());
  const db = (maxRetries: number) =>
    createDb({ pool, schema: 'unused', maxRetries, notifyChannel: 'unused' });

  it('retries the whole transaction on a retryable error, up to maxRetries', async () => {
    let calls = 0;
    const result = await db(3).transaction(async (tx) => {
      calls += 1;
      await tx.query('SELECT 1');
      if (calls < 3) throw pgError(calls === 1 ? '40001' : '40P01');
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after maxRetries with a message naming the SQLSTATE', async () => {
    let calls = 0;
    const failing = db(2).transaction(async () => {
      calls += 1;
      throw pgError('40001');
    });
    await expect(failing).rejects.toThrow('PostgreSQL error 40001 after 3 attempts');
    expect(calls).toBe(3);
  });

  it('does not retry RegistryErrors and rolls back what the attempt wrote', async () => {
    const schema = randomSchema('mr_rollback');
    let calls = 0;
    const failing = db(5).transaction(async (tx) => {
      calls += 1;
      await tx.query(`CREATE SCHEMA "${schema}"`);
      throw translateError(pgError('23505', 'x'));
    });
    await expect(failing).rejects.toSatisfy((e: unknown) => isRegistryError(e, 'ALREADY_EXISTS'));
    expect(calls).toBe(1);
    expect((await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rows).toEqual([]);
  });
});
