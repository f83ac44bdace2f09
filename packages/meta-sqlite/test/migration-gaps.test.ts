import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, migrations } from '../src/migrations.js';
import { createSqliteMetadataStore } from '../src/index.js';

const ledger = (db: Database.Database): number[] =>
  db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];

describe('migration numbers', () => {
  it('gaps are allowed, and a number that arrives later than a higher one is still applied once', () => {
    const db = new Database(':memory:');
    try {
      // A database migrated before a merge brought in 4 and 5 (numbered below the highest one applied).
      const before = migrations.filter((m) => m.version !== 4 && m.version !== 5);
      expect(applyMigrations(db, before)).toEqual(before.map((m) => m.version));
      const merged = migrations;
      expect(applyMigrations(db, merged)).toEqual([4, 5]);
      expect(applyMigrations(db, merged)).toEqual([]);
      expect(ledger(db)).toEqual(merged.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it('a list out of order or with a number twice is INVALID_CONFIG and applies nothing', () => {
    const db = new Database(':memory:');
    try {
      const twice = [...migrations, { version: 6, name: 'again', sql: 'SELECT 1' }];
      expect(() => applyMigrations(db, twice)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
      const swapped = [migrations[1]!, migrations[0]!];
      expect(() => applyMigrations(db, swapped)).toThrow(/listed after migration 2/);
      expect(
        db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'").pluck().get(),
      ).toBe(0);
    } finally {
      db.close();
    }
  });

  it('migration 8 upgrades a database with data: experiments and runs are live, a model renames with its aliases', async () => {
    const db = new Database(':memory:');
    applyMigrations(
      db,
      migrations.filter((m) => m.version < 8),
    );
    db.exec(`
      INSERT INTO experiments (id, name, created_at) VALUES ('e1', 'exp', 1);
      INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES ('r1', 'e1', 'run', 'running', 2);
      INSERT INTO models (name, last_version, created_at, updated_at) VALUES ('old', 1, 3, 3);
      INSERT INTO model_versions (name, version, stage, source, run_id, created_at, updated_at)
        VALUES ('old', 1, 'none', 'runs:/r1/model', 'r1', 4, 4);
      INSERT INTO aliases (name, alias, version) VALUES ('old', 'champion', 1);
    `);
    const store = createSqliteMetadataStore({ database: db });
    await store.init();
    try {
      expect(ledger(db)).toEqual(migrations.map((m) => m.version));
      expect(await store.getExperiment('e1')).toMatchObject({ name: 'exp', deletedAt: null });
      expect(await store.getRun('r1')).toMatchObject({ status: 'running', deletedAt: null });
      expect(await store.renameModel('old', 'new', 5)).toMatchObject({
        name: 'new',
        aliases: { champion: 1 },
      });
      expect(await store.getVersion('new', 1)).toMatchObject({ name: 'new', aliases: ['champion'] });
      // The foreign keys still hold after the rename's deferred check.
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      await store.close();
      db.close();
    }
  });
});
