import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataConformanceOptions } from '@modelreg/core/testing';

type MetadataInspector = ReturnType<NonNullable<MetadataConformanceOptions['inspect']>>;

/** A fresh folder for one test's SQLite file; `cleanup` removes it. */
export function tempDbPath(): { dir: string; filename: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'modelreg-meta-sqlite-'));
  return {
    dir,
    filename: join(dir, 'registry.db'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Reads what is really stored, through a connection of its own (or the store's own in-memory one). */
export function sqliteInspector(source: string | Database.Database): MetadataInspector {
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    if (typeof source !== 'string') return fn(source);
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const count = (table: 'events' | 'history') =>
    withDb((db) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
  return {
    countEvents: async () => count('events'),
    countHistory: async () => count('history'),
    rawVersion: async (name, version) =>
      withDb(
        (db) =>
          db.prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?').get(name, version) ??
          null,
      ),
  };
}
