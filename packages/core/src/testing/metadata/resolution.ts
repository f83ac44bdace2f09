import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import { aliasChange, at, newVersion, seedModel, stageChange } from './fixtures.js';

export function resolutionTests(ctx: SuiteContext): void {
  it('resolveVersion is null for a model that does not exist or was deleted', async () => {
    const store = ctx.store();
    expect(await store.resolveVersion('nope', { type: 'latest' })).toBeNull();
    await seedModel(store, 'iris', 1);
    await store.deleteModel('iris', at(500));
    for (const selector of [
      { type: 'latest' },
      { type: 'version', version: 1 },
      { type: 'stage', stage: 'none' },
      { type: 'alias', alias: 'champion' },
    ] as const) {
      expect(await store.resolveVersion('iris', selector)).toBeNull();
    }
  });

  it('resolveVersion picks nothing (version null) when the model exists but the selector does not match', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 0);
    expect(await store.resolveVersion('iris', { type: 'latest' })).toEqual({ version: null });
    await store.createVersion(newVersion('iris'));
    expect(await store.resolveVersion('iris', { type: 'version', version: 2 })).toEqual({ version: null });
    expect(await store.resolveVersion('iris', { type: 'stage', stage: 'production' })).toEqual({
      version: null,
    });
    expect(await store.resolveVersion('iris', { type: 'alias', alias: 'champion' })).toEqual({
      version: null,
    });
  });

  it('latest is the highest live version and skips deleted ones', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    expect((await store.resolveVersion('iris', { type: 'latest' }))?.version?.version).toBe(3);
    await store.deleteVersion('iris', 3, at(500));
    expect((await store.resolveVersion('iris', { type: 'latest' }))?.version?.version).toBe(2);
  });

  it('a stage resolves to the highest live version in that stage', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 4);
    await store.transitionStage(stageChange('iris', 1, 'production'));
    await store.transitionStage(stageChange('iris', 3, 'production'));
    await store.transitionStage(stageChange('iris', 4, 'staging'));
    expect(
      (await store.resolveVersion('iris', { type: 'stage', stage: 'production' }))?.version?.version,
    ).toBe(3);
    await store.deleteVersion('iris', 3, at(500));
    expect(
      (await store.resolveVersion('iris', { type: 'stage', stage: 'production' }))?.version?.version,
    ).toBe(1);
    expect((await store.resolveVersion('iris', { type: 'stage', stage: 'none' }))?.version?.version).toBe(2);
  });

  it('an alias resolves to the version it points at, the same version getVersion returns', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
    await store.setAlias({ ...aliasChange('iris', 'backup'), version: 2 });
    const resolved = await store.resolveVersion('iris', { type: 'alias', alias: 'champion' });
    expect(resolved).toEqual({ version: await store.getVersion('iris', 2) });
    expect(resolved?.version?.aliases).toEqual(['backup', 'champion']);
    await store.deleteAlias(aliasChange('iris', 'champion'));
    expect(await store.resolveVersion('iris', { type: 'alias', alias: 'champion' })).toEqual({
      version: null,
    });
  });

  it('a version number resolves to that live version only', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    expect(await store.resolveVersion('iris', { type: 'version', version: 1 })).toEqual({
      version: await store.getVersion('iris', 1),
    });
    await store.deleteVersion('iris', 1, at(500));
    expect(await store.resolveVersion('iris', { type: 'version', version: 1 })).toEqual({ version: null });
  });

  it('resolution reads one model only: another model with more versions does not leak in', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 1);
    await seedModel(store, 'iris2', 5);
    await store.transitionStage(stageChange('iris2', 5, 'production'));
    expect((await store.resolveVersion('iris', { type: 'latest' }))?.version?.version).toBe(1);
    expect(await store.resolveVersion('iris', { type: 'stage', stage: 'production' })).toEqual({
      version: null,
    });
  });
}
