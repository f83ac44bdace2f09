import { beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { PROTOTYPE_NAMES } from '../../src/testing/metadata/prototype-names.js';
import { openMemoryRegistry, runWithModel, snapshot } from './helpers.js';

/** One own key per prototype name; `Object.fromEntries` makes `__proto__` a key, not the prototype. */
const keyed = <V>(value: (key: string) => V): Record<string, V> =>
  Object.fromEntries(PROTOTYPE_NAMES.map((key) => [key, value(key)]));
const entries = (record: Record<string, unknown>): Array<[string, unknown]> =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const sorted = [...PROTOTYPE_NAMES].sort();

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return isRegistryError(error) ? error.code : `not a RegistryError: ${String(error)}`;
}

describe('names that are Object.prototype members are ordinary names', () => {
  let registry: ModelRegistry;
  let runId: string;

  beforeEach(async () => {
    registry = await openMemoryRegistry();
    runId = await runWithModel(registry);
  });

  it('are valid model names that round-trip with their tags, versions and URIs', async () => {
    for (const name of PROTOTYPE_NAMES) {
      const model = await registry.createModel(name, { tags: keyed((k) => `m-${k}`) });
      expect(model.name).toBe(name);
      expect(entries(model.tags)).toEqual(entries(keyed((k) => `m-${k}`)));
      const version = await registry.registerModel(name, { runId, tags: keyed((k) => `v-${k}`) });
      expect(entries(version.tags)).toEqual(entries(keyed((k) => `v-${k}`)));
      await registry.transitionStage(name, 1, 'production');
      for (const uri of [`models:/${name}/1`, `models:/${name}/latest`, `models:/${name}/production`]) {
        expect((await registry.resolve(uri)).modelVersion).toMatchObject({ name, version: 1 });
      }
    }
    expect((await registry.listModels()).map((m) => m.name).sort()).toEqual(sorted);
  });

  it('an unset alias with a prototype name is NOT_FOUND, never STORE_FAILURE', async () => {
    await registry.registerModel('iris', { runId });
    for (const alias of PROTOTYPE_NAMES) {
      expect(await codeOf(registry.resolve(`models:/iris@${alias}`))).toBe('NOT_FOUND');
      expect(await codeOf(registry.load(`models:/iris@${alias}`))).toBe('NOT_FOUND');
      expect(await codeOf(registry.deleteAlias('iris', alias))).toBe('NOT_FOUND');
    }
    await expect(registry.resolve('models:/iris@constructor')).rejects.toThrow(
      'model "iris" has no alias "constructor"',
    );
  });

  it('aliases with prototype names set, resolve, move and delete like any alias', async () => {
    await registry.registerModel('iris', { runId });
    await registry.registerModel('iris', { runId });
    for (const alias of PROTOTYPE_NAMES) await registry.setAlias('iris', alias, 2);
    expect(entries((await registry.getModel('iris'))!.aliases)).toEqual(entries(keyed(() => 2)));
    expect((await registry.getVersion('iris', 2))!.aliases).toEqual(sorted);
    for (const alias of PROTOTYPE_NAMES) {
      expect((await registry.resolve(`models:/iris@${alias}`)).modelVersion?.version).toBe(2);
    }
    await registry.setAlias('iris', '__proto__', 1, { ifVersion: 2 });
    expect((await registry.resolve('models:/iris@__proto__')).modelVersion?.version).toBe(1);
    await registry.deleteAlias('iris', '__proto__');
    expect(await codeOf(registry.resolve('models:/iris@__proto__'))).toBe('NOT_FOUND');
    const history = await registry.getStageHistory('iris');
    expect(history.filter((h) => h.alias === '__proto__').map((h) => h.kind)).toEqual([
      'alias_set',
      'alias_set',
      'alias_deleted',
    ]);
  });

  it('model and version tag keys with prototype names are kept, merged, filtered and deleted', async () => {
    await registry.createModel('iris');
    await registry.createModel('other', { tags: { team: 'a' } });
    await registry.registerModel('iris', { runId });
    const updated = await registry.updateModel('iris', { tags: keyed((k) => `t-${k}`) });
    expect(entries(updated.tags)).toEqual(entries(keyed((k) => `t-${k}`)));
    const byKey = await registry.listModels({ tags: Object.fromEntries([['__proto__', 'nope']]) });
    expect(byKey.map((m) => m.name)).toEqual([]);
    const found = await registry.listModels({ tags: Object.fromEntries([['__proto__', 't-__proto__']]) });
    expect(found.map((m) => m.name)).toEqual(['iris']);
    const cleared = await registry.updateModel('iris', { tags: keyed(() => null) });
    expect(entries(cleared.tags)).toEqual([]);
    const version = await registry.updateVersion('iris', 1, { tags: keyed((k) => `v-${k}`) });
    expect(entries(version.tags)).toEqual(entries(keyed((k) => `v-${k}`)));
  });

  it('run tags, params and metric keys with prototype names round-trip and are searchable', async () => {
    const run = await registry.startRun({ experiment: '__proto__', tags: keyed((k) => `r-${k}`) });
    await run.logParams(keyed((k) => k.length));
    await run.logParams(keyed((k) => k.length));
    await run.logMetrics(
      keyed((k) => k.length / 10),
      { step: 1 },
    );
    await run.setTags(Object.fromEntries([['constructor', 'changed']]));
    const info = await registry.getRun(run.id);
    expect(entries(info!.params)).toEqual(entries(keyed((k) => String(k.length))));
    expect(entries(info!.latestMetrics)).toEqual(entries(keyed((k) => k.length / 10)));
    expect(entries(info!.tags)).toEqual(entries(keyed((k) => (k === 'constructor' ? 'changed' : `r-${k}`))));
    expect((await registry.getMetricHistory(run.id, '__proto__')).map((p) => p.value)).toEqual([0.9]);
    for (const key of PROTOTYPE_NAMES) {
      const where = {
        params: Object.fromEntries([[key, key.length]]),
        tags: Object.fromEntries([[key, info!.tags[key]!]]),
        metrics: Object.fromEntries([[key, { gte: key.length / 10 }]]),
      };
      const { runs } = await registry.searchRuns({ experiment: '__proto__', where });
      expect(runs.map((r) => r.id)).toEqual([run.id]);
    }
    await run.deleteTag('__proto__');
    expect(Object.keys((await registry.getRun(run.id))!.tags)).not.toContain('__proto__');
  });

  it('a param with a prototype name is write-once: another value is CONFLICT and changes nothing', async () => {
    const run = await registry.startRun({ experiment: 'exp' });
    await run.logParams(keyed(() => 1));
    const before = await snapshot(registry);
    expect(await codeOf(run.logParams(Object.fromEntries([['__proto__', 2]])))).toBe('CONFLICT');
    expect(await codeOf(run.logParams({ fresh: 1, constructor: 2 }))).toBe('CONFLICT');
    expect(await snapshot(registry)).toEqual(before);
    expect(entries((await registry.getRun(run.id))!.params)).toEqual(entries(keyed(() => '1')));
  });

  it('a model param named like a prototype member is an unknown param, not one of another engine', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ x: (i * 7) % 13, y: i % 2 ? 'a' : 'b' }));
    const before = await snapshot(registry);
    for (const key of PROTOTYPE_NAMES) {
      const params = Object.fromEntries([[key, 3]]);
      const error = await registry
        .train({ dataset: { rows }, target: 'y', model: { type: 'decision-tree', params } })
        .catch((e: unknown) => e);
      expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain(`unknown param "${key}"`);
    }
    expect(await snapshot(registry)).toEqual(before);
  });
});
