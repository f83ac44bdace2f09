import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import type { ArtifactStore } from '../../src/stores/artifact-store.js';
import { forestModel, irisRows, seededRandom, sleep, trainIris, treeModel } from '../serving/helpers.js';
import { snapshot } from './helpers.js';

let metadata: MetadataStore;
let artifacts: ArtifactStore;
let registry: ModelRegistry;
const open = (actor = 'tester') =>
  ModelRegistry.open({ metadata, artifacts, actor, eventPollIntervalMs: 20 });

beforeEach(async () => {
  metadata = createMemoryMetadataStore();
  artifacts = createMemoryArtifactStore();
  registry = await open();
  await trainIris(registry, 'iris', treeModel, { stage: 'production', alias: 'champion' });
  await trainIris(registry, 'iris', forestModel, { stage: 'staging' });
});
afterEach(async () => {
  await registry.close();
});

/** Waits until `check` passes (each try after 20 ms), at most 2 s. */
async function eventually(check: () => void | Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await check();
      return;
    } catch (e) {
      if (i >= 100) throw e;
      await sleep(20);
    }
  }
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => irisRows[i % irisRows.length]!);

describe('registry.deployments', () => {
  it('set stores the canonical references, the actor and revision 1; get and list read it back', async () => {
    const d = await registry.deployments.set('iris', {
      current: 'PRODUCTION',
      next: '2',
      weight: 0.25,
      stickyKey: 'user',
      comment: 'try the forest',
    });
    expect(d).toMatchObject({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.25,
      stickyKey: 'user',
      mode: 'canary',
      revision: 1,
      updatedBy: 'tester',
    });
    expect(await registry.deployments.get('iris')).toEqual(d);
    expect(await registry.deployments.list()).toEqual([d]);
    expect(await registry.deployments.history('iris')).toMatchObject([
      { action: 'set', revision: 1, actor: 'tester', comment: 'try the forest', weight: 0.25 },
    ]);
  });

  it('refuses unknown models, references and bad options, and leaves state unchanged', async () => {
    const before = await snapshot(registry);
    const cases: Array<[unknown, string]> = [
      [registry.deployments.set('nope', { current: 1, next: 2, weight: 0.1 }), 'NOT_FOUND'],
      [registry.deployments.set('iris', { current: 1, next: 9, weight: 0.1 }), 'NOT_FOUND'],
      [registry.deployments.set('iris', { current: '@ghost', next: 2, weight: 0.1 }), 'NOT_FOUND'],
      [registry.deployments.set('iris', { current: 'nowhere', next: 2, weight: 0.1 }), 'INVALID_ARGUMENT'],
      [registry.deployments.set('iris', { current: 1, next: 2, weight: 1.5 }), 'INVALID_ARGUMENT'],
      [
        registry.deployments.set('iris', { current: 1, next: 2, weight: 0.1, mode: 'blue' as 'canary' }),
        'INVALID_ARGUMENT',
      ],
      [registry.deployments.set('../x', { current: 1, next: 2, weight: 0.1 }), 'INVALID_ARGUMENT'],
      [registry.deployments.promote('iris'), 'NOT_FOUND'],
      [registry.deployments.rollback('iris'), 'NOT_FOUND'],
      [registry.deployments.delete('iris'), 'NOT_FOUND'],
    ];
    for (const [promise, code] of cases) {
      await expect(promise).rejects.toMatchObject({ code });
    }
    expect(await snapshot(registry)).toEqual(before);
    expect(await registry.deployments.list()).toEqual([]);
  });

  it('promote moves the stage, sets weight 0 and records the deployment and stage history', async () => {
    await registry.deployments.set('iris', { current: 'production', next: 'staging', weight: 0.5 });
    const promoted = await registry.deployments.promote('iris', { comment: 'forest wins' });
    expect(promoted).toMatchObject({
      from: 1,
      to: 2,
      target: { stage: 'production' },
      deployment: { revision: 2, weight: 0 },
    });
    expect((await registry.getVersion('iris', 2))?.stage).toBe('production');
    expect((await registry.getVersion('iris', 1))?.stage).toBe('archived');
    expect((await registry.getStageHistory('iris')).at(-2)).toMatchObject({
      version: 2,
      toStage: 'production',
      comment: 'forest wins',
      actor: 'tester',
    });
    expect((await registry.deployments.history('iris')).map((h) => h.action)).toEqual(['set', 'promote']);
  });

  it('promote and rollback are compare-and-set: a stale revision is CONFLICT and moves nothing', async () => {
    await registry.deployments.set('iris', { current: '@champion', next: 2, weight: 0.5 });
    await registry.deployments.setWeight('iris', 0.7);
    await expect(registry.deployments.promote('iris', { ifRevision: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(registry.deployments.rollback('iris', { ifRevision: 1 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await registry.getModel('iris'))?.aliases).toEqual({ champion: 1 });
    expect(await registry.deployments.get('iris')).toMatchObject({ revision: 2, weight: 0.7 });
    // Two promotes from the same revision: one wins.
    const outcomes = await Promise.allSettled([
      registry.deployments.promote('iris', { ifRevision: 2 }),
      registry.deployments.promote('iris', { ifRevision: 2 }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await registry.getModel('iris'))?.aliases).toEqual({ champion: 2 });
  });

  it('promote refuses a fixed current and equal arms', async () => {
    await registry.deployments.set('iris', { current: 1, next: 2, weight: 0.5 });
    await expect(registry.deployments.promote('iris')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await registry.deployments.set('iris', { current: 'production', next: 1, weight: 0.5 });
    await expect(registry.deployments.promote('iris')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('delete ends it; a new set continues the revisions', async () => {
    await registry.deployments.set('iris', { current: 1, next: 2, weight: 0.5 });
    await registry.deployments.delete('iris', { comment: 'done' });
    expect(await registry.deployments.get('iris')).toBeNull();
    const again = await registry.deployments.set('iris', {
      current: 1,
      next: 2,
      weight: 0.1,
      ifRevision: null,
    });
    expect(again.revision).toBe(3);
    await expect(
      registry.deployments.set('iris', { current: 1, next: 2, weight: 0.1, ifRevision: null }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('registry.canary({ model }) follows the stored deployment', () => {
  it('serves the stored split and applies changes made by another registry on the same stores', async () => {
    const other = await open('other-process');
    try {
      await other.deployments.set('iris', { current: 'production', next: 2, weight: 0.2 });
      const canary = registry.canary({ model: 'iris', random: seededRandom(7) });
      await canary.ready();
      expect(canary.deployment).toMatchObject({ revision: 1, weight: 0.2 });
      const first = await canary.predict(rows(1000));
      const share = first.arms.filter((a) => a === 'next').length / 1000;
      expect(share).toBeGreaterThan(0.15);
      expect(share).toBeLessThan(0.25);

      await other.deployments.setWeight('iris', 1);
      await eventually(() => expect(canary.weight).toBe(1));
      expect((await canary.predict(rows(10))).arms).toEqual(new Array(10).fill('next'));

      await other.deployments.set('iris', { current: 'production', next: 2, weight: 0, mode: 'shadow' });
      await eventually(() => expect(canary.shadow).toBe(true));

      await other.deployments.delete('iris');
      await eventually(() => expect(canary.deployment).toBeNull());
      await expect(canary.predict(rows(1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await other.close();
    }
  });

  it('a new registry over the same stores starts from the stored deployment', async () => {
    await registry.deployments.set('iris', { current: 1, next: 2, weight: 1, stickyKey: 'user' });
    const later = await open();
    try {
      const canary = later.canary({ model: 'iris' });
      await canary.ready();
      const users = rows(6).map((r, i) => ({ ...r, user: `u${i}` }));
      expect((await canary.predict(users)).arms).toEqual(new Array(6).fill('next'));
      await expect(canary.predict(rows(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await later.close();
    }
  });

  it('setWeight, rollback and promote go through the store with compare-and-set', async () => {
    await registry.deployments.set('iris', { current: 'production', next: 'staging', weight: 0.1 });
    const canary = registry.canary({ model: 'iris' });
    await canary.ready();
    expect((await canary.setWeight(0.6)).revision).toBe(2);
    expect((await registry.deployments.get('iris'))?.weight).toBe(0.6);
    expect((await canary.rollback()).weight).toBe(0);

    // Another writer changes it after this canary's last read, before the canary hears of it.
    const other = await open('other');
    try {
      await other.deployments.setWeight('iris', 0.4);
      await expect(canary.promote()).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await registry.getVersion('iris', 2))?.stage).toBe('staging');
      await eventually(() => expect(canary.deployment?.revision).toBe(4));
      expect(await canary.promote()).toEqual({ from: 1, to: 2, target: { stage: 'production' } });
      expect((await canary.predict(rows(3))).versions.current).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('a model without a deployment: ready and predict are NOT_FOUND until one is set', async () => {
    const canary = registry.canary({ model: 'iris' });
    await expect(canary.ready()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await registry.deployments.set('iris', { current: 1, next: 2, weight: 0 });
    await eventually(() => expect(canary.deployment).not.toBeNull());
    expect((await canary.predict(rows(2))).versions.current).toBe(1);
  });

  it('the in-process form with a stickyKey function still works and stores nothing', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 1,
      next: 2,
      weight: 0.5,
      stickyKey: (row) => String(row['petal_length_cm']),
    });
    await canary.ready();
    expect((await canary.predict(rows(4))).predictions).toHaveLength(4);
    expect(await registry.deployments.list()).toEqual([]);
  });
});
