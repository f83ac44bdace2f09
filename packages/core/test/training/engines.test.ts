import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { isTreeEnsembleModel } from '../../src/formats/native/native-model.js';
import { fitModel } from '../../src/training/fit.js';
import type { FitModelInput, FitModelResult } from '../../src/training/fit.js';
import type { Trainer } from '../../src/training/trainer.js';
import { decisionTreeTrainer, randomForestTrainer } from '../../src/training/trainers/index.js';
import { loadDataset, targetOf } from './helpers.js';

const data = (name: string): Omit<FitModelInput, 'trainer'> => {
  const table = loadDataset(name);
  return { table, target: targetOf(table) };
};

const modeOf = (r: FitModelResult): string => (isTreeEnsembleModel(r.model) ? r.model.ensemble.mode : '');

async function errorOf(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => new Error('no error'),
    (error: unknown) => error as Error,
  );
  expect(isRegistryError(e, 'INVALID_ARGUMENT')).toBe(true);
  return e;
}

describe('engines of the built-in trainers', () => {
  it('random-forest and decision-tree default to the native learner', async () => {
    const forest = await fitModel({
      ...data('iris'),
      trainer: randomForestTrainer,
      params: { nEstimators: 5 },
    });
    expect(forest.params.engine).toBe('native');
    expect(modeOf(forest)).toBe('leq'); // the native learner's test; the ml-* libraries' is `lt`
    const tree = await fitModel({
      ...data('diabetes'),
      trainer: decisionTreeTrainer,
      params: { maxDepth: 4 },
    });
    expect(tree.params).toEqual({
      engine: 'native',
      maxDepth: 4,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      maxBins: 256,
    });
    expect(modeOf(tree)).toBe('leq');
  });

  it('the library engines stay available with their own params and defaults', async () => {
    const forest = await fitModel({
      ...data('wine'),
      trainer: randomForestTrainer,
      params: { engine: 'ml-random-forest', nEstimators: 5 },
    });
    expect(forest.params).toEqual({
      engine: 'ml-random-forest',
      nEstimators: 5,
      maxFeatures: 0.7,
      minSamplesSplit: 4,
      bootstrap: true,
    });
    expect(modeOf(forest)).toBe('lt');
    expect(forest.metrics.accuracy).toBeGreaterThan(0.85);
    const tree = await fitModel({
      ...data('iris'),
      trainer: decisionTreeTrainer,
      params: { engine: 'ml-cart' },
    });
    expect(tree.params).toEqual({ engine: 'ml-cart', minSamplesSplit: 4 });
    expect(modeOf(tree)).toBe('lt');
  });

  it('native params reach the learner: criterion, minSamplesLeaf, maxFeatures, maxDepth', async () => {
    const r = await fitModel({
      ...data('breast_cancer'),
      trainer: randomForestTrainer,
      params: { nEstimators: 8, criterion: 'entropy', minSamplesLeaf: 3, maxFeatures: 'log2', maxDepth: 5 },
    });
    expect(r.metrics.accuracy).toBeGreaterThan(0.9);
    const trees = isTreeEnsembleModel(r.model) ? r.model.ensemble.trees : [];
    const depth = (t: (typeof trees)[number], node = 0): number =>
      t.feature[node]! < 0 ? 0 : 1 + Math.max(depth(t, t.left[node]!), depth(t, t.right[node]!));
    expect(Math.max(...trees.map((t) => depth(t)))).toBeLessThanOrEqual(5);
  });

  it.each([
    [
      randomForestTrainer,
      { engine: 'ml-random-forest', minSamplesLeaf: 2 },
      /"minSamplesLeaf" does not apply to engine "ml-random-forest".*"native"/,
    ],
    [
      randomForestTrainer,
      { engine: 'ml-random-forest', workers: 2 },
      /"workers" does not apply to engine "ml-random-forest"/,
    ],
    [randomForestTrainer, { nTrees: 3 }, /unknown param "nTrees" for random-forest engine "native"/],
    [randomForestTrainer, { engine: 'xgboost' }, /engine.*'native' \| 'ml-random-forest'/],
    [
      decisionTreeTrainer,
      { engine: 'ml-cart', criterion: 'entropy' },
      /"criterion" does not apply to engine "ml-cart"/,
    ],
    [
      decisionTreeTrainer,
      { nEstimators: 3 },
      /unknown param "nEstimators" for decision-tree engine "native"/,
    ],
    [
      randomForestTrainer,
      { criterion: 'squared_error' },
      /criterion 'squared_error' does not fit the classification task/,
    ],
  ] as [Trainer, Record<string, unknown>, RegExp][])(
    'a param that does not apply is INVALID_ARGUMENT naming it (%#)',
    async (trainer, params, message) => {
      expect((await errorOf(fitModel({ ...data('iris'), trainer, params }))).message).toMatch(message);
    },
  );

  it('the native forest is deterministic by seed and the same on worker threads', async () => {
    const fit = (seed: number, workers?: number) =>
      fitModel({
        ...data('wine'),
        trainer: randomForestTrainer,
        params: { nEstimators: 6, ...(workers ? { workers } : {}) },
        split: { seed },
        createdAt: 0,
      });
    const [a, b, c, w] = [await fit(7), await fit(7), await fit(8), await fit(7, 2)];
    expect(JSON.stringify(b.nativeJson)).toBe(JSON.stringify(a.nativeJson));
    expect(JSON.stringify(c.nativeJson)).not.toBe(JSON.stringify(a.nativeJson));
    expect(JSON.stringify(w.nativeJson)).toBe(JSON.stringify(a.nativeJson));
  });

  it('the native forest reports progress after every tree', async () => {
    const fractions: number[] = [];
    await fitModel({
      ...data('iris'),
      trainer: randomForestTrainer,
      params: { nEstimators: 4 },
      onProgress: (p) => fractions.push(p.fraction),
    });
    expect(fractions).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it.each(['native', 'ml-random-forest'])('the %s engine stops when the signal aborts', async (engine) => {
    const controller = new AbortController();
    const reason = new Error(`stop ${engine}`);
    const fractions: number[] = [];
    const p = fitModel({
      ...data('iris'),
      trainer: randomForestTrainer,
      params: { engine, nEstimators: 100 },
      signal: controller.signal,
      onProgress: ({ fraction }) => {
        fractions.push(fraction);
        if (fraction >= 0.2) controller.abort(reason);
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'RegistryError', code: 'ABORTED', cause: reason });
    expect(Math.max(...fractions)).toBeLessThan(0.5);
  });
});
