import { expect } from 'vitest';
import type { SuiteContext } from './context.js';
import { aliasChange, at, file, newVersion, seedModel, seedRuns, stageChange } from './fixtures.js';

/** What the store really keeps, read through the inspector rather than the store's read methods. */
export function storedValueTests(ctx: SuiteContext): void {
  ctx.itWithInspector(
    'a live version is stored with no delete mark, its stage, tags and each file sha256 and size',
    async () => {
      const store = ctx.store();
      await seedModel(store, 'iris');
      const files = [file('model/MODEL.json', 3), file('model/model.onnx', 4)];
      await store.createVersion(newVersion('iris', { files, tags: { team: 'ml' }, stage: 'staging' }));
      expect(await ctx.inspector().rawVersion('iris', 1)).toEqual({
        stage: 'staging',
        deletedAt: null,
        tags: { team: 'ml' },
        files,
      });
      expect(await ctx.inspector().rawModel('iris')).toEqual({ deletedAt: null, lastVersion: 1, tags: {} });
    },
  );

  ctx.itWithInspector(
    'tag changes are stored merged: set keys added or replaced, null keys removed',
    async () => {
      const store = ctx.store();
      await seedModel(store, 'iris');
      await store.createVersion(newVersion('iris', { tags: { a: '1', b: '2' } }));
      await store.updateVersion('iris', 1, { tags: { b: null, c: '3', a: '9' }, time: at(7) });
      expect((await ctx.inspector().rawVersion('iris', 1))?.tags).toEqual({ a: '9', c: '3' });
      await store.updateModel('iris', { tags: { owner: 'ml' }, time: at(8) });
      await store.updateModel('iris', { tags: { owner: null, tier: 'gold' }, time: at(9) });
      expect((await ctx.inspector().rawModel('iris'))?.tags).toEqual({ tier: 'gold' });
    },
  );

  ctx.itWithInspector(
    'archiveExisting stores the archive stage on the other versions, and the target stage on the moved one',
    async () => {
      const store = ctx.store();
      await seedModel(store, 'iris', 3);
      await store.transitionStage(stageChange('iris', 1, 'production'));
      await store.transitionStage(stageChange('iris', 2, 'production'));
      await store.transitionStage(stageChange('iris', 3, 'production', { archiveExisting: true }));
      const stages = await Promise.all(
        [1, 2, 3].map(async (v) => (await ctx.inspector().rawVersion('iris', v))?.stage),
      );
      expect(stages).toEqual(['archived', 'archived', 'production']);
    },
  );

  ctx.itWithInspector(
    'an alias is stored pointing at its version; deleting the version removes the stored alias',
    async () => {
      const store = ctx.store();
      await seedModel(store, 'iris', 2);
      await store.setAlias({ ...aliasChange('iris', 'champion'), version: 2 });
      expect(await ctx.inspector().rawAlias('iris', 'champion')).toBe(2);
      await store.setAlias({ ...aliasChange('iris', 'champion', { ifVersion: 2 }), version: 1 });
      expect(await ctx.inspector().rawAlias('iris', 'champion')).toBe(1);
      await store.deleteVersion('iris', 1, at(9));
      expect(await ctx.inspector().rawAlias('iris', 'champion')).toBeNull();
      expect(await ctx.inspector().rawVersion('iris', 1)).toMatchObject({ deletedAt: at(9) });
      expect(await ctx.inspector().rawVersion('iris', 2)).toMatchObject({ deletedAt: null });
    },
  );

  ctx.itWithInspector(
    'run artifact records are stored with the sha256 and size given, once per path',
    async () => {
      const store = ctx.store();
      const [run] = await seedRuns(store, 1);
      const files = [file('plots/roc.png', 5), file('model/MODEL.json', 6)];
      await store.recordRunArtifacts(run!.id, files);
      await store.recordRunArtifacts(run!.id, [file('plots/roc.png', 5)]);
      expect(await ctx.inspector().rawRunArtifacts(run!.id)).toEqual([files[1], files[0]]);
      expect(await ctx.inspector().rawRunArtifacts('no-such-run')).toEqual([]);
    },
  );
}
