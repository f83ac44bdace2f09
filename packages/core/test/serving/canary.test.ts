import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { Canary, CanaryArm } from '../../src/serving/canary.js';
import { stableFraction } from '../../src/serving/canary-stats.js';
import { openMemoryRegistry } from '../registry/helpers.js';
import { forestModel, irisRows, seededRandom, trainIris, treeModel } from './helpers.js';

let registry: ModelRegistry;
beforeEach(async () => {
  registry = await openMemoryRegistry({ now: Date.now });
  await trainIris(registry, 'iris', treeModel, { stage: 'production', alias: 'champion' });
  await trainIris(registry, 'iris', forestModel, { stage: 'staging' });
});
afterEach(async () => {
  await registry.close();
});

const rows = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => irisRows[(offset + i) % irisRows.length]!);

/** Runs `total` rows through the canary in batches; returns how many each arm served. */
async function split(canary: Canary, total: number, batch: number): Promise<Record<CanaryArm, number>> {
  const counts = { current: 0, next: 0 };
  for (let done = 0; done < total; done += batch) {
    const result = await canary.predict(rows(batch, done));
    expect(result.predictions).toHaveLength(batch);
    for (const arm of result.arms) counts[arm]++;
  }
  return counts;
}

describe('registry.canary routing', () => {
  it('at weight 0.1 a seeded random sends 10% ± 1.5% of 10,000 rows to next, reproducibly', async () => {
    const make = () =>
      registry.canary({
        model: 'iris',
        current: 'production',
        next: 2,
        weight: 0.1,
        random: seededRandom(42),
      });
    const a = make();
    const counts = await split(a, 10_000, 100);
    const share = counts.next / 10_000;
    console.info(
      `[canary] seeded random, weight 0.1: next served ${counts.next}/10000 = ${(share * 100).toFixed(2)}%`,
    );
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
    expect(a.stats()).toMatchObject({
      weight: 0.1,
      current: { rows: counts.current, version: 1, errors: 0 },
      next: { rows: counts.next, version: 2, errors: 0 },
    });
    expect(await split(make(), 10_000, 100)).toEqual(counts);
  });

  it('at weight 0.1 Math.random sends 10% ± 1.5% of 10,000 single-row predictions to next', async () => {
    const canary = registry.canary({ model: 'iris', current: 'production', next: 'staging', weight: 0.1 });
    const counts = await split(canary, 10_000, 1);
    const share = counts.next / 10_000;
    console.info(
      `[canary] Math.random, weight 0.1: next served ${counts.next}/10000 = ${(share * 100).toFixed(2)}%`,
    );
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
    expect(canary.stats().next.requests).toBe(counts.next);
  });

  it('merges both arms back in input order, each row answered by the version of its arm', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: '@champion',
      next: 2,
      weight: 0.5,
      random: seededRandom(7),
    });
    const input = rows(150);
    const result = await canary.predict(input);
    expect(result.versions).toEqual({ current: 1, next: 2 });
    const [v1, v2] = await Promise.all([
      registry.predict('models:/iris/1', input),
      registry.predict('models:/iris/2', input),
    ]);
    result.arms.forEach((arm, i) => expect(result.predictions[i]).toBe(arm === 'current' ? v1[i] : v2[i]));
    expect(new Set(result.arms)).toEqual(new Set(['current', 'next']));
  });

  it('a sticky key always goes to the same arm, and about `weight` of the distinct keys go to next', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.1,
      stickyKey: (row) => String(row.userId),
    });
    const armOf = new Map<string, CanaryArm>();
    for (let round = 0; round < 3; round++) {
      for (let start = 0; start < 2000; start += 200) {
        const batch = rows(200, start).map((r, i) => ({ ...r, userId: `user-${start + i}` }));
        const result = await canary.predict(batch);
        result.arms.forEach((arm, i) => {
          const key = batch[i]!.userId;
          if (armOf.has(key)) expect(armOf.get(key), key).toBe(arm);
          armOf.set(key, arm);
        });
      }
    }
    const toNext = [...armOf.values()].filter((a) => a === 'next').length;
    console.info(`[canary] sticky, weight 0.1: ${toNext}/2000 distinct keys routed to next`);
    expect(toNext / 2000).toBeGreaterThan(0.07);
    expect(toNext / 2000).toBeLessThan(0.13);

    // Raising the weight only moves keys from current to next.
    canary.setWeight(0.3);
    const batch = rows(2000).map((r, i) => ({ ...r, userId: `user-${i}` }));
    const wider = await canary.predict(batch);
    wider.arms.forEach((arm, i) => {
      if (armOf.get(`user-${i}`) === 'next') expect(arm).toBe('next');
    });
    expect(stableFraction('user-1')).toBe(stableFraction('user-1'));
  });

  it('sticky routing needs records and a string key', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.5,
      stickyKey: () => 'k',
    });
    await expect(canary.predict([[5.1, 3.5, 1.4, 0.2]])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const bad = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.5,
      stickyKey: () => ({}) as unknown as string,
    });
    await expect(bad.predict(rows(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('accepts CSV and matrix input', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.5,
      random: seededRandom(3),
    });
    const csv =
      'sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n';
    expect((await canary.predict({ csv })).predictions).toHaveLength(2);
    expect((await canary.predict([[5.1, 3.5, 1.4, 0.2]])).predictions).toHaveLength(1);
    expect((await canary.predict([])).predictions).toEqual([]);
  });

  it('shadow mode answers with current only, and runs next on its rows in the background', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.5,
      shadow: true,
      random: seededRandom(11),
    });
    const input = rows(150);
    const expected = await registry.predict('models:/iris/1', input);
    let shadowed = 0;
    for (let i = 0; i < 10; i++) {
      const result = await canary.predict(input);
      expect(result.predictions).toEqual(expected);
      expect(result.arms.every((a) => a === 'current')).toBe(true);
      expect(result.versions.current).toBe(1);
      shadowed += result.shadowed;
    }
    expect(shadowed).toBeGreaterThan(500);
    expect(shadowed).toBeLessThan(1000);
    await vi.waitFor(() => expect(canary.stats().next.rows).toBe(shadowed), { timeout: 2000, interval: 5 });
    const stats = canary.stats();
    expect(stats.shadow).toBe(true);
    expect(stats.current).toMatchObject({ rows: 1500, requests: 10, errors: 0 });
    expect(stats.next).toMatchObject({ requests: 10, errors: 0, version: 2 });
    expect(stats.next.latencyMs).not.toBeNull();
  });

  it('in shadow mode a failing next is counted but never surfaced', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 'none', // no version is in stage "none": next never loads
      weight: 1,
      shadow: true,
      onError: () => undefined,
    });
    const result = await canary.predict(rows(10));
    expect(result.predictions).toHaveLength(10);
    expect(result.shadowed).toBe(10);
    await vi.waitFor(() => expect(canary.stats().next.errors).toBe(1), { timeout: 2000, interval: 5 });
  });
});

describe('registry.canary lifecycle', () => {
  it('promote over a stage moves production to next, archives the old version and records it', async () => {
    const canary = registry.canary({ model: 'iris', current: 'production', next: 'staging', weight: 0.2 });
    await canary.ready();
    const result = await canary.promote({ comment: 'canary looked good', actor: 'ci' });
    expect(result).toEqual({ from: 1, to: 2, target: { stage: 'production' } });
    expect((await registry.getVersion('iris', 2))?.stage).toBe('production');
    expect((await registry.getVersion('iris', 1))?.stage).toBe('archived');
    const history = await registry.getStageHistory('iris');
    expect(history.slice(-2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'stage',
          version: 2,
          fromStage: 'staging',
          toStage: 'production',
          actor: 'ci',
          comment: 'canary looked good',
        }),
        expect.objectContaining({ kind: 'stage', version: 1, fromStage: 'production', toStage: 'archived' }),
      ]),
    );
    expect(canary.weight).toBe(0);
    const after = await canary.predict(rows(50));
    expect(after.arms.every((a) => a === 'current')).toBe(true);
    expect(after.versions.current).toBe(2);
  });

  it('promote over an alias is a compare-and-set recorded in the history', async () => {
    const canary = registry.canary({ model: 'iris', current: '@champion', next: 2, weight: 0.2 });
    await canary.ready();
    expect(await canary.promote()).toEqual({ from: 1, to: 2, target: { alias: 'champion' } });
    expect((await registry.getModel('iris'))?.aliases.champion).toBe(2);
    const last = (await registry.getStageHistory('iris')).at(-1);
    expect(last).toMatchObject({ kind: 'alias_set', alias: 'champion', version: 2, fromVersion: 1 });
    expect(last?.comment).toMatch(/canary: promote version 2 over version 1/);
    expect((await canary.predict(rows(5))).versions.current).toBe(2);
  });

  it('promote refuses when the alias moved since the canary compared (CONFLICT), leaving it as is', async () => {
    const v3 = await trainIris(registry, 'iris', { type: 'random-forest', params: { nEstimators: 3 } });
    const canary = registry.canary({ model: 'iris', current: '@champion', next: 2, weight: 0.2 });
    await canary.ready();
    await registry.setAlias('iris', 'champion', v3);
    await expect(canary.promote()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await registry.getModel('iris'))?.aliases.champion).toBe(v3);
  });

  it('promote refuses a numeric current with INVALID_ARGUMENT', async () => {
    const canary = registry.canary({ model: 'iris', current: 1, next: 2, weight: 0.2 });
    await expect(canary.promote()).rejects.toThrow(/fixed version 1.*stage.*alias/);
    await expect(canary.promote()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rollback sends every row to current; setWeight validates', async () => {
    const canary = registry.canary({ model: 'iris', current: 'production', next: 2, weight: 1 });
    expect((await canary.predict(rows(20))).arms.every((a) => a === 'next')).toBe(true);
    canary.rollback();
    expect(canary.weight).toBe(0);
    expect((await canary.predict(rows(20))).arms.every((a) => a === 'current')).toBe(true);
    expect(() => canary.setWeight(1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => canary.setWeight(-0.1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => canary.setWeight(Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    canary.setWeight(0.25);
    expect(canary.weight).toBe(0.25);
  });

  it('stats count rows, requests and errors per arm, with latency percentiles', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 2,
      weight: 0.5,
      random: seededRandom(5),
    });
    for (let i = 0; i < 40; i++) await canary.predict(rows(25, i * 25));
    await expect(canary.predict([{ sepal_length_cm: 1 }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const stats = canary.stats();
    expect(stats.current.rows + stats.next.rows).toBe(1000);
    expect(stats.current.requests).toBeGreaterThanOrEqual(40);
    expect(stats.current.errors + stats.next.errors).toBe(1);
    for (const arm of [stats.current, stats.next]) {
      const l = arm.latencyMs!;
      expect(l.p50).toBeGreaterThanOrEqual(0);
      expect(l.p50).toBeLessThanOrEqual(l.p95);
      expect(l.p95).toBeLessThanOrEqual(l.p99);
    }
  });

  it('validates options and input with INVALID_ARGUMENT', async () => {
    const base = { model: 'iris', current: 'production', next: 2 };
    expect(() => registry.canary({ ...base, weight: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => registry.canary({ ...base, current: 'prod', weight: 0.1 })).toThrow(/not a version number/);
    expect(() => registry.canary({ ...base, next: '@latest', weight: 0.1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => registry.canary({ ...base, model: 'a/b', weight: 0.1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const canary = registry.canary({ ...base, weight: 0.1 });
    await expect(canary.predict('rows' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('follows its stage when production moves elsewhere, and closes with the registry', async () => {
    const canary = registry.canary({
      model: 'iris',
      current: 'production',
      next: 'staging',
      weight: 0,
      onError: () => undefined, // staging empties: next keeps its last good version
    });
    await canary.ready();
    await registry.transitionStage('iris', 2, 'production', { archiveExisting: true });
    await vi.waitFor(() => expect(canary.stats().current.version).toBe(2), { timeout: 2000, interval: 5 });
    await registry.close();
    await expect(canary.predict(rows(1))).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
