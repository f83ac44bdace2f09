import { expect, it } from 'vitest';
import type { MetadataStore, RunSearchQuery } from '../../stores/metadata-store.js';
import type { SuiteContext } from './context.js';
import { at, expectCode, experiment, file, ids, newRun, seedRuns } from './fixtures.js';

/**
 * exp-001: run-001 'delta' finished, run-002 'alpha' running, run-003 'charlie' failed (child of
 * run-001, no acc), run-004 'bravo' finished (child of run-001). exp-002: run-005 finished.
 */
async function seedSearch(store: MetadataStore): Promise<void> {
  await store.createExperiment(experiment(1));
  await store.createExperiment(experiment(2));
  const point = (value: number, step: number) => ({ key: 'acc', value, step, timestamp: at(step) });
  await store.createRun(newRun(1, { name: 'delta', tags: { team: 'a' } }));
  await store.logParams('run-001', { model: 'rf', depth: '3' });
  await store.logMetrics('run-001', [point(0.95, 1), point(0.8, 2)]);
  await store.endRun('run-001', 'finished', at(10));
  await store.createRun(newRun(2, { name: 'alpha', tags: { team: 'b' } }));
  await store.logParams('run-002', { model: 'tree', depth: '5', flag: 'true' });
  await store.logMetrics('run-002', [point(0.9, 1)]);
  await store.createRun(
    newRun(3, { name: 'charlie', parentRunId: 'run-001', tags: { team: 'a', env: 'prod' } }),
  );
  await store.logParams('run-003', { model: 'rf' });
  await store.logMetrics('run-003', [{ key: 'loss', value: 1, step: 0, timestamp: at(3) }]);
  await store.endRun('run-003', 'failed', at(30));
  await store.createRun(newRun(4, { name: 'bravo', parentRunId: 'run-001' }));
  await store.logParams('run-004', { model: 'rf', depth: '4' });
  await store.logMetrics('run-004', [point(0.95, 1)]);
  await store.endRun('run-004', 'finished', at(20));
  await store.createRun(newRun(5, { experimentId: 'exp-002' }));
  await store.logParams('run-005', { model: 'rf' });
  await store.logMetrics('run-005', [point(0.99, 1)]);
  await store.endRun('run-005', 'finished', at(50));
}

export function searchRunTests(ctx: SuiteContext): void {
  const search = async (query: Partial<RunSearchQuery>): Promise<string[]> =>
    ids(await ctx.store().searchRuns({ experimentIds: ['exp-001'], limit: 100, offset: 0, ...query }));

  it('returns only runs of the given experiments, newest start first by default', async () => {
    await seedSearch(ctx.store());
    expect(await search({})).toEqual(['run-004', 'run-003', 'run-002', 'run-001']);
    expect(await search({ experimentIds: ['exp-001', 'exp-002'] })).toEqual([
      'run-005',
      'run-004',
      'run-003',
      'run-002',
      'run-001',
    ]);
    expect(await search({ experimentIds: ['exp-002'] })).toEqual(['run-005']);
    expect(await search({ experimentIds: [] })).toEqual([]);
  });

  it('returns whole runs with params, tags and latest metrics', async () => {
    await seedSearch(ctx.store());
    const [run] = await ctx.store().searchRuns({ experimentIds: ['exp-002'], limit: 10, offset: 0 });
    expect(run).toEqual(await ctx.store().getRun('run-005'));
    expect(run?.latestMetrics).toEqual({ acc: 0.99 });
  });

  it('filters by one status or a list of statuses', async () => {
    await seedSearch(ctx.store());
    expect(await search({ where: { status: 'finished' } })).toEqual(['run-004', 'run-001']);
    expect(await search({ where: { status: ['running', 'failed'] } })).toEqual(['run-003', 'run-002']);
  });

  it('filters by param equality, comparing numbers and booleans as strings', async () => {
    await seedSearch(ctx.store());
    expect(await search({ where: { params: { model: 'rf' } } })).toEqual(['run-004', 'run-003', 'run-001']);
    expect(await search({ where: { params: { depth: 3 } } })).toEqual(['run-001']);
    expect(await search({ where: { params: { model: 'rf', depth: '4' } } })).toEqual(['run-004']);
    expect(await search({ where: { params: { flag: true } } })).toEqual(['run-002']);
    expect(await search({ where: { params: { missing: 'x' } } })).toEqual([]);
  });

  it('filters by tag equality, every given tag must match', async () => {
    await seedSearch(ctx.store());
    expect(await search({ where: { tags: { team: 'a' } } })).toEqual(['run-003', 'run-001']);
    expect(await search({ where: { tags: { team: 'a', env: 'prod' } } })).toEqual(['run-003']);
  });

  it('filters by comparisons on the latest metric value and skips runs without the metric', async () => {
    await seedSearch(ctx.store());
    const acc = async (filter: Record<string, number>) => search({ where: { metrics: { acc: filter } } });
    expect(await acc({ gte: 0.9 })).toEqual(['run-004', 'run-002']);
    expect(await acc({ gt: 0.9 })).toEqual(['run-004']);
    expect(await acc({ lt: 0.9 })).toEqual(['run-001']);
    expect(await acc({ lte: 0.9 })).toEqual(['run-002', 'run-001']);
    expect(await acc({ eq: 0.95 })).toEqual(['run-004']);
    expect(await acc({ gte: 0.85, lt: 0.95 })).toEqual(['run-002']);
    expect(await acc({ lt: 100 })).toEqual(['run-004', 'run-002', 'run-001']);
  });

  it("parentRunId null selects top-level runs and an id selects that run's children", async () => {
    await seedSearch(ctx.store());
    expect(await search({ where: { parentRunId: null } })).toEqual(['run-002', 'run-001']);
    expect(await search({ where: { parentRunId: 'run-001' } })).toEqual(['run-004', 'run-003']);
    expect(await search({ where: { parentRunId: 'run-001', status: 'failed' } })).toEqual(['run-003']);
  });

  it('orders by a metric in either direction with runs missing it last', async () => {
    await seedSearch(ctx.store());
    expect(await search({ orderBy: [{ metric: 'acc', direction: 'desc' }] })).toEqual([
      'run-004',
      'run-002',
      'run-001',
      'run-003',
    ]);
    expect(await search({ orderBy: [{ metric: 'acc', direction: 'asc' }] })).toEqual([
      'run-001',
      'run-002',
      'run-004',
      'run-003',
    ]);
  });

  it('orders by a param as text, ascending by default, with runs missing it last', async () => {
    await seedSearch(ctx.store());
    expect(await search({ orderBy: [{ param: 'depth' }] })).toEqual([
      'run-001',
      'run-004',
      'run-002',
      'run-003',
    ]);
    expect(await search({ orderBy: [{ param: 'depth', direction: 'desc' }] })).toEqual([
      'run-002',
      'run-004',
      'run-001',
      'run-003',
    ]);
  });

  it('orders by name, startTime and endTime, with runs that have not ended last', async () => {
    await seedSearch(ctx.store());
    expect(await search({ orderBy: [{ field: 'name' }] })).toEqual([
      'run-002',
      'run-004',
      'run-003',
      'run-001',
    ]);
    expect(await search({ orderBy: [{ field: 'startTime', direction: 'asc' }] })).toEqual([
      'run-001',
      'run-002',
      'run-003',
      'run-004',
    ]);
    expect(await search({ orderBy: [{ field: 'endTime', direction: 'desc' }] })).toEqual([
      'run-003',
      'run-004',
      'run-001',
      'run-002',
    ]);
    expect(await search({ orderBy: [{ field: 'endTime', direction: 'asc' }] })).toEqual([
      'run-001',
      'run-004',
      'run-003',
      'run-002',
    ]);
  });

  it('applies sort keys in order and breaks ties by startTime desc, then id asc', async () => {
    const store = ctx.store();
    await seedSearch(store);
    expect(await search({ orderBy: [{ param: 'model' }, { metric: 'acc', direction: 'desc' }] })).toEqual([
      'run-004',
      'run-001',
      'run-003',
      'run-002',
    ]);
    expect(await search({ orderBy: [{ param: 'model' }] })).toEqual([
      'run-004',
      'run-003',
      'run-001',
      'run-002',
    ]);
    for (const n of [12, 10, 11])
      await store.createRun(newRun(n, { experimentId: 'exp-002', startTime: at(1) }));
    expect(await search({ experimentIds: ['exp-002'] })).toEqual([
      'run-005',
      'run-010',
      'run-011',
      'run-012',
    ]);
    expect(
      await search({ experimentIds: ['exp-002'], orderBy: [{ param: 'model', direction: 'desc' }] }),
    ).toEqual(['run-005', 'run-010', 'run-011', 'run-012']);
  });

  it('limit and offset page through 25 runs completely without duplicates', async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    for (let n = 1; n <= 25; n++) {
      await store.createRun(newRun(n, { startTime: at(n % 5) }));
      if (n % 4 !== 0)
        await store.logMetrics(newRun(n).id, [{ key: 'score', value: n % 7, step: 0, timestamp: at(n) }]);
    }
    const orderBy = [{ metric: 'score', direction: 'desc' as const }];
    const all = await search({ orderBy });
    const score = (id: string): number => (Number(id.slice(4)) % 4 === 0 ? -1 : Number(id.slice(4)) % 7);
    const expected = [...all].sort(
      (a, b) =>
        score(b) - score(a) ||
        (Number(b.slice(4)) % 5) - (Number(a.slice(4)) % 5) ||
        (a < b ? -1 : a > b ? 1 : 0),
    );
    expect(all).toHaveLength(25);
    expect(all).toEqual(expected);
    const paged: string[] = [];
    for (let offset = 0; offset < 30; offset += 4) {
      const page = await search({ orderBy, limit: 4, offset });
      expect(page.length).toBeLessThanOrEqual(4);
      paged.push(...page);
    }
    expect(paged).toEqual(all);
    expect(new Set(paged).size).toBe(25);
    expect(await search({ orderBy, limit: 10, offset: 25 })).toEqual([]);
  });
}

export function runArtifactTests(ctx: SuiteContext): void {
  it('records run artifacts and lists them sorted by path, optionally under a prefix', async () => {
    const store = ctx.store();
    await seedRuns(store, 2);
    await store.recordRunArtifacts('run-001', [file('plots/roc.png', 1), file('model/MODEL.json', 2)]);
    await store.recordRunArtifacts('run-001', [file('model/model.onnx', 3)]);
    await store.recordRunArtifacts('run-002', [file('other.txt', 4, 'runs/run-002/artifacts')]);
    const all = await store.listRunArtifacts('run-001');
    expect(all).toEqual([file('model/MODEL.json', 2), file('model/model.onnx', 3), file('plots/roc.png', 1)]);
    expect((await store.listRunArtifacts('run-001', 'model/')).map((f) => f.path)).toEqual([
      'model/MODEL.json',
      'model/model.onnx',
    ]);
    expect(await store.listRunArtifacts('run-001', 'nothing/')).toEqual([]);
    expect(await store.listRunArtifacts('run-404')).toEqual([]);
  });

  it('recording a path again with the same sha256 is accepted and keeps one record', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.recordRunArtifacts('run-001', [file('a.txt', 1)]);
    await store.recordRunArtifacts('run-001', [file('a.txt', 1), file('b.txt', 2)]);
    expect(await store.listRunArtifacts('run-001')).toEqual([file('a.txt', 1), file('b.txt', 2)]);
  });

  it('recording a path again with another sha256 is ALREADY_EXISTS and nothing of that call is written', async () => {
    const store = ctx.store();
    await seedRuns(store, 1);
    await store.recordRunArtifacts('run-001', [file('m.txt', 1)]);
    await expectCode(
      store.recordRunArtifacts('run-001', [file('a.txt', 2), file('m.txt', 3), file('z.txt', 4)]),
      'ALREADY_EXISTS',
    );
    expect(await store.listRunArtifacts('run-001')).toEqual([file('m.txt', 1)]);
  });
}
