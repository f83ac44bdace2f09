import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test database; every test run creates its own schemas in it and drops them afterwards. */
export const pgUrl = process.env.MODELREG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const failure = await probe();
if (failure !== null) {
  const message = `PostgreSQL is unreachable at ${pgUrl} (${failure}); set MODELREG_TEST_PG_URL or start it`;
  // In CI a missing database is a broken pipeline, never a silent pass.
  if (process.env.CI) throw new Error(`[postgres tests] ${message}`);
  console.warn(`\n!!!!!!!!!! [postgres tests] SKIPPED: ${message} !!!!!!!!!!\n`);
}

/** False when the database is unreachable outside CI: the suites skip, loudly. */
export const pgReachable = failure === null;

export const randomSchema = (prefix = 'mr_test'): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** A small pool for test bookkeeping (inspecting rows, dropping schemas). */
export function adminPool(max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: pgUrl, max });
  pool.on('error', () => undefined);
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
