import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import { aliasChange, at, expectCode, file, newVersion, seedModel } from './fixtures.js';

export function modelTests(ctx: SuiteContext): void {
  it('createModel returns a model with no versions and no aliases', async () => {
    const store = ctx.store();
    const model = { name: 'iris', description: 'flowers', tags: { owner: 'ml' }, createdAt: at(1) };
    const expected = { ...model, aliases: {}, lastVersion: 0, updatedAt: at(1) };
    expect(await store.createModel(model)).toEqual(expected);
    expect(await store.getModel('iris')).toEqual(expected);
    expect(await store.getModel('nope')).toBeNull();
  });

  it('creating a model whose name is taken is ALREADY_EXISTS and changes nothing', async () => {
    const store = ctx.store();
    await store.createModel({ name: 'iris', description: 'first', tags: {}, createdAt: at(1) });
    await expectCode(
      store.createModel({ name: 'iris', description: 'second', tags: {}, createdAt: at(2) }),
      'ALREADY_EXISTS',
    );
    expect(await store.getModel('iris')).toMatchObject({ description: 'first', createdAt: at(1) });
  });

  it('listModels returns live models sorted by name, filtered by name substring and tags, paged', async () => {
    const store = ctx.store();
    for (const [name, team] of [
      ['delta', 'a'],
      ['alpha', 'b'],
      ['charlie', 'a'],
      ['bravo', 'a'],
      ['echo', 'b'],
    ]) {
      await store.createModel({
        name: `${name}`,
        description: '',
        tags: { team: `${team}` },
        createdAt: at(1),
      });
    }
    await store.deleteModel('echo', at(2));
    const names = async (query: {
      nameContains?: string;
      tags?: Record<string, string>;
      limit?: number;
      offset?: number;
    }) => (await store.listModels({ limit: 100, offset: 0, ...query })).map((m) => m.name);
    expect(await names({})).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
    expect(await names({ nameContains: 'ha' })).toEqual(['alpha', 'charlie']);
    expect(await names({ nameContains: 'HA' })).toEqual([]);
    expect(await names({ tags: { team: 'a' } })).toEqual(['bravo', 'charlie', 'delta']);
    expect(await names({ tags: { team: 'a' }, nameContains: 'r' })).toEqual(['bravo', 'charlie']);
    expect(await names({ limit: 2, offset: 1 })).toEqual(['bravo', 'charlie']);
    expect(await names({ limit: 2, offset: 3 })).toEqual(['delta']);
  });

  it('updateModel sets the description, merges tags, deletes tags set to null and sets updatedAt', async () => {
    const store = ctx.store();
    await store.createModel({ name: 'iris', description: 'old', tags: { a: '1', b: '2' }, createdAt: at(1) });
    const updated = await store.updateModel('iris', {
      description: 'new',
      tags: { b: null, c: '3' },
      time: at(5),
    });
    expect(updated).toMatchObject({
      description: 'new',
      tags: { a: '1', c: '3' },
      updatedAt: at(5),
      createdAt: at(1),
    });
    await store.updateModel('iris', { tags: { a: 'x' }, time: at(6) });
    expect(await store.getModel('iris')).toMatchObject({ description: 'new', tags: { a: 'x', c: '3' } });
    await expectCode(store.updateModel('nope', { description: 'x', time: at(7) }), 'NOT_FOUND');
  });

  it('deleteModel is soft: the model, its versions and aliases become invisible', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    await store.deleteModel('iris', at(9));
    expect(await store.getModel('iris')).toBeNull();
    expect(await store.listModels({ limit: 10, offset: 0 })).toEqual([]);
    expect(await store.getVersion('iris', 1)).toBeNull();
    expect(await store.listVersions('iris')).toEqual([]);
    const kept = await store.getVersion('iris', 1, { includeDeleted: true });
    expect(kept).toMatchObject({ version: 1, deletedAt: at(9), aliases: [] });
    await expectCode(store.deleteModel('iris', at(10)), 'NOT_FOUND');
    await expectCode(store.deleteModel('nope', at(10)), 'NOT_FOUND');
  });

  it('a re-created model starts fresh but continues version numbering', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.deleteModel('iris', at(9));
    const revived = await store.createModel({
      name: 'iris',
      description: 'again',
      tags: { v: '2' },
      createdAt: at(20),
    });
    expect(revived).toMatchObject({ description: 'again', tags: { v: '2' }, aliases: {}, lastVersion: 3 });
    expect(await store.listVersions('iris')).toEqual([]);
    expect((await store.createVersion(newVersion('iris'))).version).toBe(4);
  });

  ctx.itWithInspector('deleting a model keeps the stored version records', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.deleteModel('iris', at(9));
    expect(await ctx.inspector().rawVersion('iris', 1)).not.toBeNull();
    expect(await ctx.inspector().rawVersion('iris', 2)).not.toBeNull();
    expect(await ctx.inspector().rawVersion('iris', 3)).toBeNull();
    expect(await ctx.inspector().rawVersion('iris', 1)).toMatchObject({ deletedAt: at(9), stage: 'none' });
    expect(await ctx.inspector().rawVersion('iris', 2)).toMatchObject({ deletedAt: at(9), stage: 'none' });
    expect(await ctx.inspector().rawModel('iris')).toEqual({ deletedAt: at(9), lastVersion: 2, tags: {} });
  });
}

export function versionTests(ctx: SuiteContext): void {
  it('createVersion stores every field, starts with no aliases and numbers from 1', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    const input = newVersion('iris', {
      source: 'runs:/run-007/model',
      runId: 'run-007',
      files: [
        file('MODEL.json', 1, 'runs/run-007/artifacts/model'),
        file('model.onnx', 2, 'runs/run-007/artifacts/model'),
      ],
      description: 'first',
      tags: { framework: 'onnx' },
      stage: 'dev',
      createdAt: at(70),
    });
    const expected = { ...input, version: 1, aliases: [], updatedAt: at(70), deletedAt: null };
    expect(await store.createVersion(input)).toEqual(expected);
    expect(await store.getVersion('iris', 1)).toEqual(expected);
  });

  it('version numbers are allocated 1..N and recorded as the model lastVersion', async () => {
    const store = ctx.store();
    const versions = await seedModel(store, 'iris', 3);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect((await store.getModel('iris'))?.lastVersion).toBe(3);
    await seedModel(store, 'other', 1);
    expect((await store.getVersion('other', 1))?.name).toBe('other');
  });

  it('version numbers are never reused after delete', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.deleteVersion('iris', 3, at(9));
    await store.deleteVersion('iris', 2, at(9));
    expect((await store.createVersion(newVersion('iris'))).version).toBe(4);
    expect((await store.getModel('iris'))?.lastVersion).toBe(4);
  });

  it('concurrent createVersion calls get distinct consecutive numbers', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    const created = await Promise.all(
      Array.from({ length: 8 }, () => store.createVersion(newVersion('iris'))),
    );
    expect(created.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('createVersion for a missing or deleted model is NOT_FOUND', async () => {
    const store = ctx.store();
    await expectCode(store.createVersion(newVersion('nope')), 'NOT_FOUND');
    await seedModel(store, 'iris', 1);
    await store.deleteModel('iris', at(9));
    await expectCode(store.createVersion(newVersion('iris')), 'NOT_FOUND');
  });

  it('getVersion hides deleted versions unless includeDeleted, and returns null for unknown ones', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.deleteVersion('iris', 1, at(9));
    expect(await store.getVersion('iris', 1)).toBeNull();
    expect(await store.getVersion('iris', 1, { includeDeleted: true })).toMatchObject({
      version: 1,
      deletedAt: at(9),
    });
    expect(await store.getVersion('iris', 2)).toMatchObject({ version: 2, deletedAt: null });
    expect(await store.getVersion('iris', 3, { includeDeleted: true })).toBeNull();
    expect(await store.getVersion('nope', 1)).toBeNull();
  });

  it('listVersions returns live versions ascending, optionally of one stage or with deleted ones', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    for (const stage of ['staging', 'none', 'staging', 'staging']) {
      await store.createVersion(newVersion('iris', { stage }));
    }
    await store.deleteVersion('iris', 3, at(9));
    const numbers = async (options?: { stage?: string; includeDeleted?: boolean }) =>
      (await store.listVersions('iris', options)).map((v) => v.version);
    expect(await numbers()).toEqual([1, 2, 4]);
    expect(await numbers({ stage: 'staging' })).toEqual([1, 4]);
    expect(await numbers({ includeDeleted: true })).toEqual([1, 2, 3, 4]);
    expect(await numbers({ stage: 'staging', includeDeleted: true })).toEqual([1, 3, 4]);
    expect(await store.listVersions('nope')).toEqual([]);
  });

  it('updateVersion sets the description, merges tags and sets updatedAt', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris');
    await store.createVersion(newVersion('iris', { tags: { a: '1', b: '2' }, createdAt: at(1) }));
    const updated = await store.updateVersion('iris', 1, {
      description: 'tuned',
      tags: { a: null, c: '3' },
      time: at(5),
    });
    expect(updated).toMatchObject({
      description: 'tuned',
      tags: { b: '2', c: '3' },
      updatedAt: at(5),
      createdAt: at(1),
    });
    expect(await store.getVersion('iris', 1)).toEqual(updated);
  });

  it('changing a missing or deleted version is NOT_FOUND', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await store.deleteVersion('iris', 1, at(9));
    for (const version of [1, 7]) {
      await expectCode(store.updateVersion('iris', version, { description: 'x', time: at(10) }), 'NOT_FOUND');
      await expectCode(store.deleteVersion('iris', version, at(10)), 'NOT_FOUND');
    }
    await expectCode(store.deleteVersion('nope', 1, at(10)), 'NOT_FOUND');
    expect(await store.getVersion('iris', 1, { includeDeleted: true })).toMatchObject({
      description: '',
      deletedAt: at(9),
    });
  });

  ctx.itWithInspector('deleting a version keeps its stored record', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await store.deleteVersion('iris', 1, at(9));
    expect(await ctx.inspector().rawVersion('iris', 1)).not.toBeNull();
    expect(await ctx.inspector().rawVersion('iris', 1)).toEqual({
      stage: 'none',
      deletedAt: at(9),
      tags: {},
      files: [file('model/MODEL.json', 7)],
    });
    expect(await ctx.inspector().rawModel('iris')).toMatchObject({ deletedAt: null, lastVersion: 1 });
  });
}
