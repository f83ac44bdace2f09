import type Database from 'better-sqlite3';
import { RegistryError, isRegistryError, storeRules } from '@modelreg/core';
import type { RegistryErrorCode } from '@modelreg/core';

export const STORE_NAME = 'meta-sqlite';
/** The store's errors, worded as in every store. */
export const errors = storeRules.storeErrors(STORE_NAME);

/** Attempts after the first when SQLite stays busy past `busy_timeout` (writes are short, so this is rare). */
const BUSY_RETRIES = 6;

function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function isBusyError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const constraintCodes: Record<string, RegistryErrorCode> = {
  SQLITE_CONSTRAINT_PRIMARYKEY: 'ALREADY_EXISTS',
  SQLITE_CONSTRAINT_UNIQUE: 'ALREADY_EXISTS',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'NOT_FOUND',
  SQLITE_CONSTRAINT_NOTNULL: 'INVALID_ARGUMENT',
  SQLITE_CONSTRAINT_CHECK: 'INVALID_ARGUMENT',
};

/** Turns anything thrown inside a store call into a RegistryError; SqliteErrors never escape raw. */
export function toRegistryError(error: unknown, method: string): RegistryError {
  if (isRegistryError(error)) return error;
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined) {
    const mapped = constraintCodes[code];
    if (mapped) {
      return new RegistryError(mapped, `${method}: ${message}`, {
        where: STORE_NAME,
        cause: error,
        details: { sqlite: code },
      });
    }
    const hint = isBusyError(error) ? ' (the database stayed locked by another connection)' : '';
    return new RegistryError('STORE_FAILURE', `${method} failed: ${message}${hint}`, {
      where: STORE_NAME,
      cause: error,
      details: { sqlite: code },
    });
  }
  return new RegistryError('STORE_FAILURE', `${method} failed: ${message}`, {
    where: STORE_NAME,
    cause: error,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` (synchronous: one SQLite transaction), retrying with jittered exponential backoff when
 * the database is still busy after `busy_timeout`. Other errors are mapped to RegistryErrors at once.
 */
export async function withBusyRetry<T>(method: string, fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (isBusyError(error) && attempt < BUSY_RETRIES) {
        await sleep(storeRules.backoffMs(attempt));
        continue;
      }
      throw toRegistryError(error, method);
    }
  }
}

/** A write: one `BEGIN IMMEDIATE` transaction (validate, write, append events), retried when busy. */
export const immediate = <T>(db: Database.Database, method: string, fn: () => T): Promise<T> =>
  withBusyRetry(method, () => db.transaction(fn).immediate());

/** A read: one deferred transaction, so multi-statement reads see one snapshot. */
export const snapshot = <T>(db: Database.Database, method: string, fn: () => T): Promise<T> =>
  withBusyRetry(method, () => db.transaction(fn).deferred());
