import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { fitForest } from '../../src/training/native/forest.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RunHandle } from '../../src/registry/runs.js';
import { createRandom } from '../../src/training/random.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));

const entries = <V>(n: number, value: (i: number) => V): Record<string, V> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value(i)]));

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => null,
    (e: unknown) => e,
  );
}

describe('per-call limits (MLflow batch limits) are refused with INVALID_ARGUMENT and write nothing', () => {
  let registry: ModelRegistry;
  let run: RunHandle;

  beforeEach(async () => {
    registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', irisCsv);
    run = await registry.startRun({ experiment: 'limits' });
    await registry.createModel('m2');
  });
  afterEach(() => registry.close());

  const refused: [string, () => Promise<unknown>, RegExp][] = [
    ['101 params in one logParams', () => run.logParams(entries(101, (i) => i)), /more than 100 entries/],
    ['1,001 metrics in one logMetrics', () => run.logMetrics(entries(1001, (i) => i)), /more than 1000/],
    ['101 tags in one setTags', () => run.setTags(entries(101, String)), /more than 100 entries/],
    [
      'a param value of 6,001 characters',
      () => run.logParams({ long: 'x'.repeat(6001) }),
      /params .* is invalid at long/,
    ],
    [
      '101 tags in startRun',
      () => registry.startRun({ experiment: 'limits', tags: entries(101, String) }),
      /at most 100 entries/,
    ],
    [
      '101 tags in createModel',
      () => registry.createModel('m', { tags: entries(101, String) }),
      /at most 100 entries/,
    ],
    [
      '101 tag changes in updateModel',
      () => registry.updateModel('m2', { tags: entries(101, String) }),
      /at most 100 entries/,
    ],
    [
      '101 tags in train',
      () =>
        registry.train({
          dataset: 'iris',
          target: 'species',
          model: { type: 'decision-tree' },
          tags: entries(101, String),
        }),
      /at most 100 entries/,
    ],
    [
      'a million params in one call (refused before they are read)',
      () => run.logParams(entries(1_000_000, () => 1)),
      /more than 100 entries/,
    ],
  ];

  it.each(refused)('%s', async (_label, call, message) => {
    const before = await snapshot(registry);
    const error = await rejection(call);
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await snapshot(registry)).toEqual(before);
  });

  it('exactly at the limits is accepted: 100 params, 1,000 metrics, 100 tags, a 6,000-character value', async () => {
    await run.logParams(entries(99, (i) => i));
    await run.logParams({ long: 'x'.repeat(6000) });
    await run.logMetrics(entries(1000, (i) => i));
    await run.setTags(entries(100, String));
    const info = await run.info();
    expect(Object.keys(info.params)).toHaveLength(100);
    expect(info.params.long).toHaveLength(6000);
    expect(Object.keys(info.tags).filter((k) => k.startsWith('k'))).toHaveLength(100);
  });

  it("train with 100 tags of the user's keeps them all next to its own tags (logged in batches)", async () => {
    const { run: trained } = await registry.train({
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree' },
      tags: entries(100, String),
    });
    expect(Object.keys(trained.tags).filter((k) => /^k\d+$/.test(k))).toHaveLength(100);
    expect(trained.tags['modelreg.trainer']).toBe('decision-tree');
    expect(trained.tags['modelreg.dataset.name']).toBe('iris');
  });
});

describe('tree size and parallelism have caps', () => {
  let registry: ModelRegistry;
  beforeEach(async () => {
    registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', irisCsv);
  });
  afterEach(() => registry.close());

  const trainWith = (type: string, params: Record<string, unknown>) =>
    registry.train({ dataset: 'iris', target: 'species', model: { type, params } });

  const capped: [string, string, Record<string, unknown>, RegExp][] = [
    ['nEstimators above 5,000', 'random-forest', { nEstimators: 5001 }, /at most 5000 trees/],
    [
      'nEstimators above 5,000 (ml-random-forest)',
      'random-forest',
      { engine: 'ml-random-forest', nEstimators: 5001 },
      /at most 5000 trees/,
    ],
    ['maxDepth above 64 (forest)', 'random-forest', { maxDepth: 65 }, /at most 64/],
    ['maxDepth above 64 (tree)', 'decision-tree', { maxDepth: 65 }, /at most 64/],
    ['maxDepth above 64 (ml-cart)', 'decision-tree', { engine: 'ml-cart', maxDepth: 65 }, /at most 64/],
    [
      'workers above the available parallelism',
      'random-forest',
      { workers: availableParallelism() + 1 },
      /available parallelism/,
    ],
  ];

  it.each(capped)('%s is INVALID_ARGUMENT before any run exists', async (_label, type, params, message) => {
    const before = await snapshot(registry);
    const error = await rejection(() => trainWith(type, params));
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await snapshot(registry)).toEqual(before);
  });

  it('fitForest refuses more workers than the machine runs in parallel', async () => {
    const x = new Float64Array(40).map((_, i) => i);
    const error = await rejection(() =>
      fitForest({
        x,
        nRows: 20,
        nFeatures: 2,
        y: new Float64Array(20).map((_, i) => i),
        task: 'regression',
        params: { nEstimators: 2 },
        workers: availableParallelism() + 1,
      }),
    );
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('without maxDepth a tree is still unlimited in depth (bounded by the rows)', async () => {
    const { run } = await trainWith('decision-tree', {});
    expect(run.status).toBe('finished');
  });
});

describe("maxFeatures: 1 is refused as ambiguous; 'all' and { count } say what they mean", () => {
  let registry: ModelRegistry;
  beforeEach(async () => {
    registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', irisCsv);
  });
  afterEach(() => registry.close());

  it.each([
    ['random-forest', {}],
    ['random-forest', { engine: 'ml-random-forest' }],
    ['decision-tree', {}],
  ])("%s %j: maxFeatures 1 names 'all' and { count: 1 } in its message", async (type, extra) => {
    const before = await snapshot(registry);
    const error = await rejection(() =>
      registry.train({
        dataset: 'iris',
        target: 'species',
        model: { type, params: { ...extra, maxFeatures: 1 } },
      }),
    );
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain("'all'");
    expect((error as Error).message).toContain('{ count: 1 }');
    expect(await snapshot(registry)).toEqual(before);
  });

  /** Friedman #1: the target needs 5 features, so one feature per split fits it worse than all. */
  function friedman(nRows: number) {
    const random = createRandom(3);
    const nFeatures = 5;
    const x = new Float64Array(nRows * nFeatures).map(() => random.next());
    const y = new Float64Array(nRows).map((_, r) => {
      const o = r * nFeatures;
      return (
        10 * Math.sin(Math.PI * x[o]! * x[o + 1]!) +
        20 * (x[o + 2]! - 0.5) ** 2 +
        10 * x[o + 3]! +
        5 * x[o + 4]!
      );
    });
    return { x, y, nRows, nFeatures, task: 'regression' as const };
  }

  it("{ count: n } of every feature is the same forest as 'all'; { count: 1 } is one feature per split", async () => {
    const data = friedman(400);
    const fit = (maxFeatures: unknown) =>
      fitForest({ ...data, params: { nEstimators: 5, maxFeatures: maxFeatures as 'all' }, seed: 1 });
    const all = await fit('all');
    expect(await fit({ count: 5 })).toEqual(all);
    expect(await fit(5)).toEqual(all);
    expect(await fit({ count: 1 })).not.toEqual(all);
  });

  it('{ count } above the number of features is INVALID_ARGUMENT', async () => {
    const error = await rejection(() =>
      registry.train({
        dataset: 'iris',
        target: 'species',
        model: { type: 'random-forest', params: { maxFeatures: { count: 9 } } },
      }),
    );
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/maxFeatures 9 is more than the 4 features/);
  });
});
