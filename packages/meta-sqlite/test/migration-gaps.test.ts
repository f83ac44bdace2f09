import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, migrations } from '../src/migrations.js';

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
});
