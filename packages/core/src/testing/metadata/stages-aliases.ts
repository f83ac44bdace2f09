import { isRegistryError } from '../../errors.js';
import { expect, it } from 'vitest';
import type { HistoryEntry } from '../../domain/types.js';
import type { SuiteContext } from './context.js';
import { aliasChange, at, expectCode, newVersion, seedModel, stageChange } from './fixtures.js';

const stageEntry = (
  version: number,
  fromStage: string,
  toStage: string,
  extra: Partial<HistoryEntry> = {},
) => ({
  name: 'iris',
  kind: 'stage',
  version,
  fromStage,
  toStage,
  alias: null,
  fromVersion: null,
  actor: 'alice',
  comment: '',
  time: at(300),
  ...extra,
});

const aliasEntry = (
  kind: 'alias_set' | 'alias_deleted',
  alias: string,
  version: number,
  fromVersion: number | null,
) => ({
  name: 'iris',
  kind,
  version,
  fromStage: null,
  toStage: null,
  alias,
  fromVersion,
  actor: 'alice',
  comment: '',
  time: at(400),
});

const withoutIds = (entries: HistoryEntry[]) => entries.map(({ id: _id, ...rest }) => rest);

export function stageTests(ctx: SuiteContext): void {
  it('transitionStage moves a version and records who, when, from, to and why', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    const change = stageChange('iris', 1, 'staging', { actor: 'bob', comment: 'passed eval', time: at(301) });
    const result = await store.transitionStage(change);
    expect(result.version).toMatchObject({ version: 1, stage: 'staging', updatedAt: at(301) });
    expect(result.archived).toEqual([]);
    expect(await store.getVersion('iris', 1)).toEqual(result.version);
    expect(withoutIds(await store.getHistory('iris'))).toEqual([
      stageEntry(1, 'none', 'staging', { actor: 'bob', comment: 'passed eval', time: at(301) }),
    ]);
  });

  it('archiveExisting leaves exactly the target in the stage and archives the others, target first in history', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 4);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    await store.transitionStage(stageChange('iris', 2, 'production'));
    await store.transitionStage(stageChange('iris', 3, 'production'));
    await store.deleteVersion('iris', 3, at(350));
    const before = (await store.getHistory('iris')).length;
    const result = await store.transitionStage(
      stageChange('iris', 4, 'production', { archiveExisting: true }),
    );
    expect(result.version).toMatchObject({ version: 4, stage: 'production' });
    expect(result.archived.map((v) => [v.version, v.stage])).toEqual([
      [1, 'archived'],
      [2, 'archived'],
    ]);
    expect((await store.listVersions('iris', { stage: 'production' })).map((v) => v.version)).toEqual([4]);
    expect((await store.listVersions('iris', { stage: 'archived' })).map((v) => v.version)).toEqual([1, 2]);
    expect((await store.getVersion('iris', 3, { includeDeleted: true }))?.stage).toBe('production');
    expect(withoutIds((await store.getHistory('iris')).slice(before))).toEqual([
      stageEntry(4, 'none', 'production'),
      stageEntry(1, 'production', 'archived'),
      stageEntry(2, 'production', 'archived'),
    ]);
  });

  it('without archiveExisting other versions keep their stage', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    const result = await store.transitionStage(stageChange('iris', 2, 'production'));
    expect(result.archived).toEqual([]);
    expect((await store.listVersions('iris', { stage: 'production' })).map((v) => v.version)).toEqual([1, 2]);
  });

  it('moving a version to the stage it is in records nothing and returns it unchanged', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.transitionStage(stageChange('iris', 1, 'staging', { time: at(301) }));
    const version = await store.getVersion('iris', 1);
    const history = await store.getHistory('iris');
    const seq = await store.lastEventSeq();
    const result = await store.transitionStage(stageChange('iris', 1, 'staging', { time: at(302) }));
    expect(result).toEqual({ version, archived: [] });
    expect(await store.getHistory('iris')).toEqual(history);
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('transitioning an unknown or deleted version is NOT_FOUND and records nothing', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.deleteVersion('iris', 2, at(9));
    await expectCode(store.transitionStage(stageChange('iris', 7, 'staging')), 'NOT_FOUND');
    await expectCode(store.transitionStage(stageChange('iris', 2, 'staging')), 'NOT_FOUND');
    await expectCode(store.transitionStage(stageChange('nope', 1, 'staging')), 'NOT_FOUND');
    expect(await store.getHistory('iris')).toEqual([]);
    expect((await store.getVersion('iris', 2, { includeDeleted: true }))?.stage).toBe('none');
  });
}

export function aliasTests(ctx: SuiteContext): void {
  it('a lost compare-and-set says where the alias points and what was expected, in the shared wording', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    const lost = await store
      .setAlias({ ...aliasChange('iris', 'champion', { ifVersion: 2 }), version: 3 })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isRegistryError(lost, 'CONFLICT')).toBe(true);
    expect((lost as Error).message).toContain(
      'alias "champion" of model "iris" points at version 1, not version 2',
    );
    const missing = await store.deleteAlias(aliasChange('iris', 'champion', { ifVersion: null })).then(
      () => null,
      (e: unknown) => e,
    );
    expect((missing as Error).message).toContain('points at version 1, not nothing');
  });

  it('setAlias points an alias at a version, shown on the model and on the version', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'best'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'old'), version: 1 });
    expect((await store.getModel('iris'))?.aliases).toEqual({ best: 2, champion: 2, old: 1 });
    expect([...((await store.getVersion('iris', 2))?.aliases ?? [])].sort()).toEqual(['best', 'champion']);
    expect((await store.getVersion('iris', 1))?.aliases).toEqual(['old']);
    expect(withoutIds(await store.getHistory('iris'))).toEqual([
      aliasEntry('alias_set', 'champion', 2, null),
      aliasEntry('alias_set', 'best', 2, null),
      aliasEntry('alias_set', 'old', 1, null),
    ]);
  });

  it('moving an alias records the version it pointed at before', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 2 });
    expect((await store.getVersion('iris', 1))?.aliases).toEqual([]);
    expect(withoutIds(await store.getHistory('iris')).at(-1)).toEqual(
      aliasEntry('alias_set', 'champion', 2, 1),
    );
  });

  it('ifVersion null succeeds for a new alias and is CONFLICT when the alias exists', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: null }), version: 1 });
    await expectCode(
      store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: null }), version: 2 }),
      'CONFLICT',
    );
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 1 });
  });

  it('ifVersion with the wrong number is CONFLICT and changes nothing: no history, no event', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    const history = await store.getHistory('iris');
    const seq = await store.lastEventSeq();
    await expectCode(
      store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: 2 }), version: 3 }),
      'CONFLICT',
    );
    await expectCode(
      store.setAlias({ ...aliasChange('iris', 'other', { ifVersion: 1 }), version: 3 }),
      'CONFLICT',
    );
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 1 });
    expect(await store.getHistory('iris')).toEqual(history);
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('ifVersion with the current number moves the alias', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    await store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: 1 }), version: 2 });
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 2 });
  });

  it('concurrent compare-and-set with ifVersion null lets exactly one writer win', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 4);
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((version) =>
        store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: null }), version }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.getHistory('iris')).filter((h) => h.kind === 'alias_set')).toHaveLength(1);
  });

  it('setAlias to an unknown or deleted version is NOT_FOUND', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.deleteVersion('iris', 2, at(9));
    await expectCode(store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 }), 'NOT_FOUND');
    await expectCode(store.setAlias({ ...aliasChange('iris', 'champion'), version: 9 }), 'NOT_FOUND');
    await expectCode(store.setAlias({ ...aliasChange('nope', 'champion'), version: 1 }), 'NOT_FOUND');
    expect((await store.getModel('iris'))?.aliases).toEqual({});
  });

  it('deleteAlias removes the alias and records the version it pointed at', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.deleteAlias(aliasChange('iris', 'champion'));
    expect((await store.getModel('iris'))?.aliases).toEqual({});
    expect((await store.getVersion('iris', 2))?.aliases).toEqual([]);
    expect(withoutIds(await store.getHistory('iris')).at(-1)).toEqual(
      aliasEntry('alias_deleted', 'champion', 2, 2),
    );
  });

  it('deleteAlias of a missing alias is NOT_FOUND, and with the wrong ifVersion is CONFLICT', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await expectCode(store.deleteAlias(aliasChange('iris', 'champion')), 'NOT_FOUND');
    await expectCode(store.deleteAlias(aliasChange('nope', 'champion')), 'NOT_FOUND');
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await expectCode(store.deleteAlias(aliasChange('iris', 'champion', { ifVersion: 1 })), 'CONFLICT');
    await expectCode(store.deleteAlias(aliasChange('iris', 'champion', { ifVersion: null })), 'CONFLICT');
    expect((await store.getModel('iris'))?.aliases).toEqual({ champion: 2 });
    await store.deleteAlias(aliasChange('iris', 'champion', { ifVersion: 2 }));
    expect((await store.getModel('iris'))?.aliases).toEqual({});
  });

  it('deleting a version drops its aliases with alias_deleted history by actor system', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'best'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'old'), version: 1 });
    const before = (await store.getHistory('iris')).length;
    await store.deleteVersion('iris', 2, at(500));
    expect((await store.getModel('iris'))?.aliases).toEqual({ old: 1 });
    const dropped = withoutIds((await store.getHistory('iris')).slice(before));
    const system = { actor: 'system', time: at(500) };
    expect(dropped.sort((a, b) => String(a.alias).localeCompare(String(b.alias)))).toEqual([
      { ...aliasEntry('alias_deleted', 'best', 2, 2), ...system, comment: expect.any(String) },
      { ...aliasEntry('alias_deleted', 'champion', 2, 2), ...system, comment: expect.any(String) },
    ]);
  });
}

export function historyTests(ctx: SuiteContext): void {
  it('history is append-only and ordered by increasing ids', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.transitionStage(stageChange('iris', 1, 'staging'));
    const first = await store.getHistory('iris');
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 1 });
    await store.transitionStage(stageChange('iris', 2, 'production', { archiveExisting: true }));
    await store.transitionStage(stageChange('iris', 1, 'production', { archiveExisting: true }));
    const all = await store.getHistory('iris');
    expect(all.slice(0, first.length)).toEqual(first);
    expect(all.map((h) => [h.kind, h.version, h.toStage])).toEqual([
      ['stage', 1, 'staging'],
      ['alias_set', 1, null],
      ['stage', 2, 'production'],
      ['stage', 1, 'production'],
      ['stage', 2, 'archived'],
    ]);
    const idsInOrder = all.map((h) => h.id);
    expect(idsInOrder).toEqual([...idsInOrder].sort((a, b) => a - b));
    expect(new Set(idsInOrder).size).toBe(all.length);
  });

  it('history can be read for one version and is empty for an unknown model', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await seedModel(store, 'other', 1);
    await store.transitionStage(stageChange('iris', 1, 'staging'));
    await store.transitionStage(stageChange('iris', 2, 'staging'));
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.transitionStage(stageChange('other', 1, 'staging'));
    expect((await store.getHistory('iris', { version: 2 })).map((h) => h.kind)).toEqual([
      'stage',
      'alias_set',
    ]);
    expect((await store.getHistory('iris', { version: 1 })).map((h) => h.kind)).toEqual(['stage']);
    expect((await store.getHistory('other')).map((h) => h.name)).toEqual(['other']);
    expect(await store.getHistory('nope')).toEqual([]);
  });

  it('history entries do not change when versions change later', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await store.createVersion(newVersion('iris'));
    await store.transitionStage(stageChange('iris', 1, 'staging'));
    const [entry] = await store.getHistory('iris');
    await store.updateVersion('iris', 1, { description: 'x', time: at(600) });
    await store.transitionStage(stageChange('iris', 1, 'production', { time: at(601) }));
    expect((await store.getHistory('iris'))[0]).toEqual(entry);
  });
}
