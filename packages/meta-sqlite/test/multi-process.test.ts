import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { createSqliteMetadataStore } from '../src/index.js';
import { migrations } from '../src/migrations.js';
import { tempDbPath } from './helpers.js';
import { runTogether } from './fixtures/spawn-children.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('several processes on one SQLite file', () => {
  let writer: string;
  let initializer: string;

  beforeAll(async () => {
    [writer, initializer] = await Promise.all([
      bundleForChildProcess(fixture('version-writer.ts')),
      bundleForChildProcess(fixture('initializer.ts')),
    ]);
  });

  it('4 processes × 50 createVersion calls on one model get versions 1..200 with no duplicate, gap or error', async () => {
    const temp = tempDbPath();
    cleanups.push(temp.cleanup);
    const store = createSqliteMetadataStore({ filename: temp.filename });
    await store.init();
    await store.createModel({ name: 'iris', description: '', tags: {}, createdAt: Date.now() });

    const started = Date.now();
    const reports = await runTogether(
      writer,
      ['a', 'b', 'c', 'd'].map((child) => [temp.filename, 'iris', '50', child]),
    );
    const elapsed = Date.now() - started;

    for (const report of reports) {
      expect(report.errors, `errors of child ${report.child}`).toEqual([]);
      expect(report.versions).toHaveLength(50);
      const own = report.versions as number[];
      expect(own, 'each child sees its own versions increase').toEqual([...own].sort((a, b) => a - b));
    }
    const all = reports.flatMap((r) => r.versions as number[]).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    expect((await store.getModel('iris'))?.lastVersion).toBe(200);
    const stored = await store.listVersions('iris');
    expect(stored.map((v) => v.version)).toEqual(all);
    const created = (await store.readEvents(0, 1000)).filter((e) => e.type === 'version.created');
    expect(created.map((e) => e.payload.version).sort((a, b) => Number(a) - Number(b))).toEqual(all);
    await store.close();

    console.info(`[meta-sqlite] 4 processes x 50 createVersion: ${elapsed} ms (spawn to last report)`);
  });

  it('processes initializing a fresh file at the same moment all succeed and migrate it once', async () => {
    const temp = tempDbPath();
    cleanups.push(temp.cleanup);
    const reports = await runTogether(
      initializer,
      ['1', '2', '3', '4'].map((child) => [temp.filename, 'store', child]),
    );
    expect(reports.map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok']);

    const db = new Database(temp.filename, { readonly: true });
    try {
      const ledger = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(ledger).toEqual(migrations.map((m) => m.version));
      expect(db.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(4);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('racing migrators apply each migration exactly once between them', async () => {
    const temp = tempDbPath();
    cleanups.push(temp.cleanup);
    const reports = await runTogether(
      initializer,
      ['1', '2', '3', '4'].map((child) => [temp.filename, 'raw', child]),
    );
    expect(reports.map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok']);
    const applied = reports.flatMap((r) => r.applied as number[]).sort((a, b) => a - b);
    expect(applied).toEqual(migrations.map((m) => m.version));
  });
});
