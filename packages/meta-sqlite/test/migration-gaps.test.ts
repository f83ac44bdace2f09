import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../src/migrations.js';
import { applyMigrations, migrations } from '../src/migrations.js';

const ledger = (db: Database.Database): number[] =>
  db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];

describe('migration numbers', () => {
  it('gaps are allowed, and a number that arrives later than a higher one is still applied once', () => {
    const db = new Database(':memory:');
    try {
      expect(applyMigrations(db)).toEqual(migrations.map((m) => m.version));
      // A merge brings in migrations numbered below the highest one applied.
      const later: Migration[] = [
        { version: 4, name: 'late four', sql: 'CREATE TABLE late_four (x INTEGER)' },
        { version: 5, name: 'late five', sql: 'CREATE TABLE late_five (x INTEGER)' },
      ];
      const merged = [
        ...migrations.filter((m) => m.version < 4),
        ...later,
        ...migrations.filter((m) => m.version > 5),
      ];
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
