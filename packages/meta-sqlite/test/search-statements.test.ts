import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { createSqliteMetadataStore } from '../src/index.js';

/**
 * List and search SQL depends on the filters, so it is prepared per shape: once, then cached apart
 * from the fixed statements (the oldest shape dropped first past 64), never once per call.
 */
describe('meta-sqlite search statements', () => {
  it('prepares a list query once per shape, keeps answering from live data, drops the oldest shape past 64', async () => {
    const db = new Database(':memory:');
    const store = createSqliteMetadataStore({ database: db });
    await store.init();
    const prepare = vi.spyOn(db, 'prepare');
    const listSql = () =>
      prepare.mock.calls
        .map(([sql]) => sql)
        .filter(
          (sql) =>
            sql.startsWith('SELECT * FROM models WHERE deleted_at IS NULL') && sql.endsWith('OFFSET ?'),
        );

    await store.createModel({ name: 'a', description: '', tags: { team: 'x' }, createdAt: 1 });
    for (let i = 0; i < 5; i++) await store.listModels({ limit: 1, offset: 0 });
    expect(listSql()).toHaveLength(1);

    // The cached statement reads what is there now, not what was there when it was prepared.
    await store.createModel({ name: '0', description: '', tags: {}, createdAt: 2 });
    expect((await store.listModels({ limit: 1, offset: 0 })).map((m) => m.name)).toEqual(['0']);
    expect((await store.listModels({ limit: 5, offset: 0, tags: { team: 'x' } })).map((m) => m.name)).toEqual(
      ['a'],
    );
    expect(listSql()).toHaveLength(2);

    // 64 more shapes (1 to 64 tag filters): the first shape, least recently used, is dropped.
    const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    for (let n = 1; n <= 64; n++) await store.listModels({ limit: 1, offset: 0, tags: tags(n) });
    expect(listSql()).toHaveLength(2 + 63); // tags(1) is the shape prepared above
    await store.listModels({ limit: 1, offset: 0 });
    expect(listSql()).toHaveLength(66);
    // The most recently used shape is still cached.
    await store.listModels({ limit: 1, offset: 0, tags: tags(64) });
    expect(listSql()).toHaveLength(66);
    await store.close();
  });

  it('binds no bare LIMIT parameter, which SQLite would re-prepare on every run, and still pages right', async () => {
    const db = new Database(':memory:');
    const store = createSqliteMetadataStore({ database: db });
    await store.init();
    for (const name of ['a', 'b', 'c'])
      await store.createModel({ name, description: '', tags: {}, createdAt: 1 });
    const prepare = vi.spyOn(db, 'prepare');
    const page = await store.listModels({ limit: 2, offset: 1 });
    expect(page.map((m) => m.name)).toEqual(['b', 'c']);
    expect((await store.readEvents(0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    await store.listJobs({ limit: 5, offset: 0 });
    await store.searchRuns({ experimentIds: ['none'], limit: 5, offset: 0 });
    await store.listWebhookDeliveries('none', 5);
    const limited = prepare.mock.calls.map(([sql]) => sql).filter((sql) => /\bLIMIT\b/.test(sql));
    expect(limited).toHaveLength(5);
    for (const sql of limited) expect(sql).toMatch(/LIMIT \? \+ 0\b/);
    await store.close();
  });
});
