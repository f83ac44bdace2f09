import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { resolveSql } from '../src/model-registry.js';
import { createSqliteMetadataStore } from '../src/index.js';

/**
 * Resolution cost must not grow with history: every statement behind `resolveVersion` is answered
 * by index searches (no table scan of model_versions, no temporary sort), whatever the row count.
 */
describe('meta-sqlite resolution plans', () => {
  it.each(Object.entries(resolveSql))(
    'the %s statement searches indexes and never scans or sorts',
    async (_, sql) => {
      const db = new Database(':memory:');
      const store = createSqliteMetadataStore({ database: db });
      await store.init();
      const args = (sql.match(/\?/g) ?? []).map(() => 'x');
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map(
        (row) => row.detail,
      );
      expect(plan.some((d) => d.startsWith('SEARCH m USING'))).toBe(true);
      expect(plan.filter((d) => /^SCAN\b|TEMP B-TREE/.test(d))).toEqual([]);
      await store.close();
    },
  );

  it('latest and stage pick through the partial live-version indexes of migration 2', async () => {
    const db = new Database(':memory:');
    const store = createSqliteMetadataStore({ database: db });
    await store.init();
    const detail = (sql: string, n: number) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(n).fill('x')) as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('\n');
    expect(detail(resolveSql.latest, 1)).toContain('USING INDEX model_versions_live (name=?)');
    expect(detail(resolveSql.stage, 2)).toContain(
      'USING INDEX model_versions_live_by_stage (name=? AND stage=?)',
    );
    await store.close();
  });
});
