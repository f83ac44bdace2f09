import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataConformanceOptions, StoredFile } from '@modelreg/core/testing';

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
      withDb((db) => {
        const row = db
          .prepare('SELECT stage, deleted_at, tags, files FROM model_versions WHERE name = ? AND version = ?')
          .get(name, version) as
          { stage: string; deleted_at: number | null; tags: string; files: string } | undefined;
        if (!row) return null;
        return {
          stage: row.stage,
          deletedAt: row.deleted_at,
          tags: JSON.parse(row.tags) as Record<string, string>,
          files: JSON.parse(row.files) as StoredFile[],
        };
      }),
    rawModel: async (name) =>
      withDb((db) => {
        const row = db
          .prepare('SELECT deleted_at, last_version, tags FROM models WHERE name = ?')
          .get(name) as { deleted_at: number | null; last_version: number; tags: string } | undefined;
        if (!row) return null;
        return {
          deletedAt: row.deleted_at,
          lastVersion: row.last_version,
          tags: JSON.parse(row.tags) as Record<string, string>,
        };
      }),
    rawAlias: async (name, alias) =>
      withDb(
        (db) =>
          (
            db.prepare('SELECT version FROM aliases WHERE name = ? AND alias = ?').get(name, alias) as
              { version: number } | undefined
          )?.version ?? null,
      ),
    rawRunArtifacts: async (runId) =>
      withDb(
        (db) =>
          db
            .prepare('SELECT path, key, sha256, size FROM run_artifacts WHERE run_id = ? ORDER BY path')
            .all(runId) as StoredFile[],
      ),
  };
}
