import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import {
  aliasChange,
  at,
  expectCode,
  experiment,
  newDataset,
  newRun,
  newVersion,
  seedModel,
  seedRuns,
} from './fixtures.js';

/** Valid names that are also members of `Object.prototype`: a plain-object lookup or build mistakes them. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** An object with one own key per prototype name (built with `Object.fromEntries`, so `__proto__` is a key). */
const keyed = <V>(value: (key: string) => V): Record<string, V> =>
  Object.fromEntries(PROTOTYPE_NAMES.map((key) => [key, value(key)]));

/** The own entries, sorted: what a store must hand back for a `keyed` input. */
const entries = (record: Record<string, unknown>): Array<[string, unknown]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function prototypeNameTests(ctx: SuiteContext): void {
  it('prototype names round-trip as model names, with their tags and versions', async () => {
    const store = ctx.store();
    for (const name of PROTOTYPE_NAMES) {
      const model = await store.createModel({
        name,
        description: '',
        tags: keyed((k) => `m-${k}`),
        createdAt: at(1),
      });
      expect(model.name).toBe(name);
      expect(entries(model.tags)).toEqual(entries(keyed((k) => `m-${k}`)));
      expect(entries(model.aliases)).toEqual([]);
      const version = await store.createVersion(newVersion(name));
      expect(version).toMatchObject({ name, version: 1 });
      expect((await store.getModel(name))?.name).toBe(name);
      expect((await store.resolveVersion(name, { type: 'latest' }))?.version?.name).toBe(name);
    }
    const listed = await store.listModels({ limit: 100, offset: 0 });
    expect(listed.map((m) => m.name).sort()).toEqual([...PROTOTYPE_NAMES].sort());
  });

  it('prototype names as model and version tag keys merge, delete and filter like any key', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await store.createModel({ name: 'other', description: '', tags: { team: 'a' }, createdAt: at(1) });
    let model = await store.updateModel('iris', { tags: keyed((k) => `v-${k}`), time: at(2) });
    expect(entries(model.tags)).toEqual(entries(keyed((k) => `v-${k}`)));
    for (const key of PROTOTYPE_NAMES) {
      const found = await store.listModels({
        tags: Object.fromEntries([[key, `v-${key}`]]),
        limit: 10,
        offset: 0,
      });
      expect(found.map((m) => m.name)).toEqual(['iris']);
    }
    model = await store.updateModel('iris', { tags: keyed(() => null), time: at(3) });
    expect(entries(model.tags)).toEqual([]);

    let version = await store.updateVersion('iris', 1, { tags: keyed((k) => `t-${k}`), time: at(4) });
    expect(entries(version.tags)).toEqual(entries(keyed((k) => `t-${k}`)));
    expect(entries((await store.getVersion('iris', 1))!.tags)).toEqual(entries(keyed((k) => `t-${k}`)));
    version = await store.updateVersion('iris', 1, {
      tags: Object.fromEntries([['__proto__', null]]),
      time: at(5),
    });
    expect(Object.keys(version.tags).sort()).toEqual(PROTOTYPE_NAMES.filter((k) => k !== '__proto__').sort());
    const created = await store.createVersion(newVersion('iris', { tags: keyed((k) => k) }));
    expect(entries(created.tags)).toEqual(entries(keyed((k) => k)));
  });

  it('prototype names are aliases that set, resolve, list and delete; unset ones resolve to nothing', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    for (const alias of PROTOTYPE_NAMES) {
      expect(await store.resolveVersion('iris', { type: 'alias', alias })).toEqual({ version: null });
      await expectCode(store.deleteAlias(aliasChange('iris', alias)), 'NOT_FOUND');
    }
    for (const alias of PROTOTYPE_NAMES) await store.setAlias({ ...aliasChange('iris', alias), version: 2 });
    const model = await store.getModel('iris');
    expect(entries(model!.aliases)).toEqual(entries(keyed(() => 2)));
    expect((await store.getVersion('iris', 2))!.aliases).toEqual([...PROTOTYPE_NAMES].sort());
    for (const alias of PROTOTYPE_NAMES) {
      expect((await store.resolveVersion('iris', { type: 'alias', alias }))?.version?.version).toBe(2);
    }
    await store.setAlias({ ...aliasChange('iris', '__proto__', { ifVersion: 2 }), version: 1 });
    expect(
      (await store.resolveVersion('iris', { type: 'alias', alias: '__proto__' }))?.version?.version,
    ).toBe(1);
    await store.deleteAlias(aliasChange('iris', '__proto__', { ifVersion: 1 }));
    expect(await store.resolveVersion('iris', { type: 'alias', alias: '__proto__' })).toEqual({
      version: null,
    });
    expect(Object.keys((await store.getModel('iris'))!.aliases)).not.toContain('__proto__');
  });

  it('prototype names round-trip as experiment names and tags, run tags, params and metric keys', async () => {
    const store = ctx.store();
    for (const [n, name] of PROTOTYPE_NAMES.entries()) {
      const created = await store.createExperiment(
        experiment(n + 10, { name, tags: keyed((k) => `e-${k}`) }),
      );
      expect((await store.getExperimentByName(name))?.id).toBe(created.id);
      expect(entries(created.tags)).toEqual(entries(keyed((k) => `e-${k}`)));
    }
    await seedRuns(store, 0);
    await store.createRun(newRun(1, { tags: keyed((k) => `r-${k}`) }));
    await store.logParams(
      'run-001',
      keyed((k) => `p-${k}`),
    );
    await store.logParams(
      'run-001',
      keyed((k) => `p-${k}`),
    );
    await expectCode(store.logParams('run-001', Object.fromEntries([['__proto__', 'other']])), 'CONFLICT');
    await store.logMetrics(
      'run-001',
      PROTOTYPE_NAMES.map((key, i) => ({ key, value: i, step: 0, timestamp: at(2) })),
    );
    let run = await store.getRun('run-001');
    expect(entries(run!.tags)).toEqual(entries(keyed((k) => `r-${k}`)));
    expect(entries(run!.params)).toEqual(entries(keyed((k) => `p-${k}`)));
    expect(entries(run!.latestMetrics)).toEqual(entries(keyed((k) => PROTOTYPE_NAMES.indexOf(k as never))));
    for (const [i, key] of PROTOTYPE_NAMES.entries()) {
      expect((await store.getMetricHistory('run-001', key)).map((p) => p.value)).toEqual([i]);
    }
    await store.setRunTags(
      'run-001',
      keyed((k) => `s-${k}`),
    );
    await store.deleteRunTag('run-001', 'constructor');
    run = await store.getRun('run-001');
    expect(Object.keys(run!.tags).sort()).toEqual(PROTOTYPE_NAMES.filter((k) => k !== 'constructor').sort());
    expect(run!.tags['__proto__']).toBe('s-__proto__');
  });

  it('searchRuns filters and sorts on params, tags and metrics with prototype names', async () => {
    const store = ctx.store();
    await seedRuns(store, 2);
    await store.logParams(
      'run-001',
      keyed(() => 'a'),
    );
    await store.logParams(
      'run-002',
      keyed(() => 'b'),
    );
    await store.setRunTags(
      'run-001',
      keyed(() => 'x'),
    );
    await store.logMetrics(
      'run-001',
      PROTOTYPE_NAMES.map((key) => ({ key, value: 1, step: 0, timestamp: at(3) })),
    );
    await store.logMetrics(
      'run-002',
      PROTOTYPE_NAMES.map((key) => ({ key, value: 2, step: 0, timestamp: at(3) })),
    );
    const search = async (where: object, orderBy?: object[]) =>
      (
        await store.searchRuns({
          experimentIds: ['exp-001'],
          where,
          ...(orderBy ? { orderBy: orderBy as never } : {}),
          limit: 10,
          offset: 0,
        })
      ).map((r) => r.id);
    for (const key of PROTOTYPE_NAMES) {
      expect(await search({ params: Object.fromEntries([[key, 'b']]) })).toEqual(['run-002']);
      expect(await search({ tags: Object.fromEntries([[key, 'x']]) })).toEqual(['run-001']);
      expect(await search({ metrics: Object.fromEntries([[key, { gt: 1 }]]) })).toEqual(['run-002']);
      expect(await search({}, [{ metric: key, direction: 'asc' }])).toEqual(['run-001', 'run-002']);
      expect(await search({}, [{ param: key, direction: 'desc' }])).toEqual(['run-002', 'run-001']);
    }
  });

  it('prototype names round-trip as dataset names', async () => {
    const store = ctx.store();
    for (const [i, name] of PROTOTYPE_NAMES.entries()) {
      const { dataset } = await store.createDatasetVersion(newDataset(name, i + 1));
      expect(dataset).toMatchObject({ name, version: 1 });
      expect((await store.getDataset(name))?.name).toBe(name);
    }
    expect((await store.listDatasets()).map((d) => d.name).sort()).toEqual([...PROTOTYPE_NAMES].sort());
  });
}
