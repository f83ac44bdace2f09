import type pg from 'pg';
import { RegistryError, isRegistryError, storeRules } from '@modelreg/core';
import type { EventPayload, EventType } from '@modelreg/core';

export const WHERE = 'meta-postgres';
/** The store's errors, worded as in every store. */
export const errors = storeRules.storeErrors(WHERE);

/** One transaction: run statements, and queue events that are appended when it commits. */
export interface Tx {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  emit(type: EventType, payload: EventPayload): void;
}

export interface Db {
  /** The quoted schema name, for schema-qualified SQL: `${db.s}.models`. */
  readonly s: string;
  read<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in a transaction, retried on serialization failures, deadlocks and race-caused unique violations. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface DbOptions {
  pool: pg.Pool;
  schema: string;
  maxRetries: number;
  notifyChannel: string;
}

interface PgError {
  code: string;
  constraint?: string;
  message: string;
  detail?: string;
}

const isPgError = (e: unknown): e is PgError => {
  if (!(e instanceof Error)) return false;
  const code: unknown = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
};

/** SQLSTATEs worth retrying the whole transaction for: the database itself says "try again". */
const RETRYABLE_STATES = new Set(['40001', '40P01']);
/**
 * Unique constraints that only a race can violate (the version counter row makes them unreachable
 * otherwise): they are backstops, so a violation means "retry", not "already exists".
 */
const RACE_CONSTRAINTS = new Set(['model_versions_unique', 'datasets_unique', 'dataset_names_pkey']);

export function isRetryable(e: unknown): boolean {
  if (!isPgError(e)) return false;
  if (RETRYABLE_STATES.has(e.code)) return true;
  return e.code === '23505' && e.constraint !== undefined && RACE_CONSTRAINTS.has(e.constraint);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Turns anything a driver call threw into a RegistryError that says what failed: constraint errors
 * become their code, every other database or connection error `STORE_FAILURE` with the driver's
 * error as `cause`.
 */
export function translateError(e: unknown, attempts = 1): RegistryError {
  if (isRegistryError(e)) return e;
  if (isPgError(e)) {
    const where = e.constraint ? ` (constraint ${e.constraint})` : '';
    if (e.code === '23505') {
      return new RegistryError('ALREADY_EXISTS', `${e.detail ?? e.message}${where}`, {
        where: WHERE,
        cause: e,
      });
    }
    if (e.code === '23503') {
      return new RegistryError('NOT_FOUND', `${e.detail ?? e.message}${where}`, { where: WHERE, cause: e });
    }
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new RegistryError('STORE_FAILURE', `PostgreSQL error ${e.code}${tries}: ${e.message}${where}`, {
      where: WHERE,
      cause: e,
      details: { sqlstate: e.code },
    });
  }
  if (isConnectionError(e)) {
    return new RegistryError('STORE_FAILURE', `PostgreSQL connection failed: ${e.message}`, {
      where: WHERE,
      cause: e,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new RegistryError('STORE_FAILURE', `unexpected error: ${message}`, { where: WHERE, cause: e });
}

/** Socket errors (`ECONNREFUSED`, ...) and the driver's own "connection terminated" family. */
function isConnectionError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  const code: unknown = (e as Error & { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return /connection|connect|terminat|not queryable|timeout/i.test(e.message);
}

export function createDb(options: DbOptions): Db {
  const { pool, schema, maxRetries, notifyChannel } = options;
  const s = `"${schema}"`;
  const eventLockKey = `modelreg.events.${schema}`;

  const read = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => {
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (e) {
      throw translateError(e);
    }
  };

  /**
   * Appends the transaction's events as its last statements. The advisory lock serializes this tail
   * across every writer of the schema and is held until commit, so `seq` values are taken and
   * committed in the same order: a reader that has seen `seq = n` will never later see a smaller one
   * appear (plain bigserial alone can commit out of order across concurrent transactions, and a
   * reader paging by `seq > last` would skip the late one forever).
   */
  const appendEvents = async (
    client: pg.PoolClient,
    drafts: Array<{ type: EventType; payload: EventPayload }>,
  ): Promise<void> => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [eventLockKey]);
    const time = Date.now();
    const params: unknown[] = [notifyChannel, time];
    const values = drafts.map((d) => {
      params.push(d.type, JSON.stringify(d.payload));
      return `($${params.length - 1}, $2::bigint, $${params.length}::jsonb)`;
    });
    await client.query(
      `WITH inserted AS (INSERT INTO ${s}.events (type, time, payload) VALUES ${values.join(', ')} RETURNING seq)
       SELECT pg_notify($1, max(seq)::text) FROM inserted`,
      params,
    );
  };

  const attempt = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const drafts: Array<{ type: EventType; payload: EventPayload }> = [];
      const tx: Tx = {
        query: async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
          (await client.query<R>(sql, params)).rows,
        emit: (type, payload) => void drafts.push({ type, payload }),
      };
      const result = await fn(tx);
      if (drafts.length > 0) await appendEvents(client, drafts);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw e;
    } finally {
      client.release(broken);
    }
  };

  const transaction = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt(fn);
      } catch (e) {
        if (tries <= maxRetries && isRetryable(e)) {
          await sleep(storeRules.backoffMs(tries));
          continue;
        }
        throw translateError(e, tries);
      }
    }
  };

  return { s, read, transaction };
}
