import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { RegistryErrorCode } from '../../src/errors.js';
import { parseManifest } from '../../src/formats/manifest.js';
import { fitModel } from '../../src/training/fit.js';
import type { FitModelInput } from '../../src/training/fit.js';
import { createTrainerRegistry } from '../../src/training/trainer.js';
import {
  createDefaultTrainerRegistry,
  decisionTreeTrainer,
  randomForestTrainer,
} from '../../src/training/trainers/index.js';
import { loadDataset, tableFromRows, targetOf } from './helpers.js';
import { linearRegressionTrainer } from './linear-regression-trainer.js';

async function codeOf(p: Promise<unknown>): Promise<RegistryErrorCode | 'none' | 'other'> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return isRegistryError(e) ? e.code : 'other';
  }
}

const iris = (): Omit<FitModelInput, 'trainer'> => {
  const table = loadDataset('iris');
  return { table, target: targetOf(table) };
};

describe('fitModel quality', () => {
  it('random-forest reaches sane test scores on a 25% stratified holdout (seed 42)', async () => {
    const scores: Record<string, number> = {};
    for (const name of ['iris', 'wine', 'breast_cancer', 'diabetes']) {
      const table = loadDataset(name);
      const result = await fitModel({
        table,
        target: targetOf(table),
        trainer: randomForestTrainer,
        params: { nEstimators: 30 },
        split: { testSize: 0.25, seed: 42 },
      });
      scores[name] =
        result.manifest.task === 'classification' ? result.metrics.accuracy! : result.metrics.r2!;
    }
    console.log('random-forest (30 trees, 25% holdout, seed 42):', JSON.stringify(scores));
    expect(scores.iris).toBeGreaterThanOrEqual(0.9);
    expect(scores.wine).toBeGreaterThanOrEqual(0.9);
    expect(scores.breast_cancer).toBeGreaterThanOrEqual(0.92);
    expect(scores.diabetes).toBeGreaterThanOrEqual(0.35);
  });

  it('the result carries the manifest, metrics, confusion matrix, effective params and the test set', async () => {
    const r = await fitModel({
      ...iris(),
      trainer: randomForestTrainer,
      params: { nEstimators: 10 },
      createdAt: 1,
    });
    expect(r.trainRows + r.testRows).toBe(150);
    expect(r.testRows).toBe(30);
    expect(r.params).toEqual({
      engine: 'native',
      nEstimators: 10,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      bootstrap: true,
      maxBins: 256,
    });
    expect(Object.keys(r.metrics).sort()).toEqual(['accuracy', 'f1_macro', 'log_loss']);
    expect(r.confusionMatrix!.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(r.confusionMatrix!.matrix.flat().reduce((a, b) => a + b, 0)).toBe(30);
    expect(r.confusionMatrix!.matrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([10, 10, 10]);
    expect(r.testSet.x).toHaveLength(30 * 4);
    expect(r.nativeJson).toMatchObject({
      format: 'modelreg-native',
      formatVersion: 1,
      kind: 'tree-ensemble',
    });
    const manifest = parseManifest(JSON.parse(JSON.stringify(r.manifest)));
    expect(manifest).toMatchObject({
      formatVersion: 1,
      task: 'classification',
      target: 'species',
      classes: ['setosa', 'versicolor', 'virginica'],
      files: [],
      trainer: { name: 'random-forest' },
      createdAt: 1,
    });
    expect(manifest.features.map((f) => f.name)).toEqual([
      'sepal_length_cm',
      'sepal_width_cm',
      'petal_length_cm',
      'petal_width_cm',
    ]);
  });

  it('the same seed gives the same model JSON; another seed another model', async () => {
    const fit = (seed: number) =>
      fitModel({
        ...iris(),
        trainer: randomForestTrainer,
        params: { nEstimators: 12 },
        split: { seed },
        createdAt: 0,
      });
    const [a, b, c] = await Promise.all([fit(7), fit(7), fit(8)]);
    expect(JSON.stringify(b.nativeJson)).toBe(JSON.stringify(a.nativeJson));
    expect(b.manifest).toEqual(a.manifest);
    expect(JSON.stringify(c.nativeJson)).not.toBe(JSON.stringify(a.nativeJson));
  });

  it('the decision-tree trainer fits regression too', async () => {
    const table = loadDataset('diabetes');
    const r = await fitModel({
      table,
      target: 'progression',
      trainer: decisionTreeTrainer,
      params: { maxDepth: 4 },
    });
    expect(r.manifest.task).toBe('regression');
    expect(Object.keys(r.metrics).sort()).toEqual(['mae', 'r2', 'rmse']);
    expect(r.metrics.r2).toBeGreaterThan(0.1);
  });
  it('random-forest trains on tiny tables without out-of-bag failures', async () => {
    const table = tableFromRows([1, 2, 3, 4, 5, 6].map((x) => ({ x, y: x % 2 === 0 ? 'even' : 'odd' })));
    const r = await fitModel({
      table,
      target: 'y',
      trainer: randomForestTrainer,
      params: { nEstimators: 5 },
      split: { testSize: 0.34 },
    });
    expect(r.trainRows).toBe(4);
    expect(r.testRows).toBe(2);
  });
});

describe('fitModel bad input', () => {
  const rf = randomForestTrainer;

  it('a missing target is INVALID_ARGUMENT listing the columns', async () => {
    await expect(fitModel({ ...iris(), target: 'nope', trainer: rf })).rejects.toThrow(
      /"nope" is not a column; columns: sepal_length_cm/,
    );
  });

  it('a single-class target, a one-row table and an all-null target are INVALID_ARGUMENT', async () => {
    const single = tableFromRows([1, 2, 3, 4].map((x) => ({ x, y: 'a' })));
    await expect(fitModel({ table: single, target: 'y', trainer: rf })).rejects.toThrow(
      'target "y" has a single class "a"; classification needs at least two',
    );
    const one = tableFromRows([{ x: 1, y: 2.5 }]);
    expect(await codeOf(fitModel({ table: one, target: 'y', trainer: rf }))).toBe('INVALID_ARGUMENT');
    const nulls = tableFromRows(
      [1, 2, 3].map((x) => ({ x, y: null })),
      { y: 'number' },
    );
    await expect(fitModel({ table: nulls, target: 'y', trainer: rf })).rejects.toThrow(/has no values/);
  });

  it('testSize 1.5, unknown params and a task the trainer lacks are INVALID_ARGUMENT', async () => {
    expect(await codeOf(fitModel({ ...iris(), trainer: rf, split: { testSize: 1.5 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    await expect(fitModel({ ...iris(), trainer: rf, params: { nTrees: 3 } })).rejects.toThrow(
      /params of model type "random-forest"/,
    );
    await expect(fitModel({ ...iris(), trainer: rf, params: { maxFeatures: 9 } })).rejects.toThrow(
      /maxFeatures 9 is more than the 4 features/,
    );
    await expect(fitModel({ ...iris(), trainer: linearRegressionTrainer })).rejects.toThrow(
      /does not support classification/,
    );
  });

  it('a throwing trainer becomes INVALID_ARGUMENT saying which trainer failed', async () => {
    const broken = {
      ...linearRegressionTrainer,
      name: 'broken',
      fit: () => {
        throw new Error('boom');
      },
    };
    const table = loadDataset('diabetes');
    await expect(fitModel({ table, target: 'progression', trainer: broken })).rejects.toThrow(
      'trainer "broken" failed: boom',
    );
  });
});

describe('fitModel abort', () => {
  it('an aborted signal rejects with ABORTED (its reason as the cause) before fitting', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    controller.abort(reason);
    await expect(
      fitModel({ ...iris(), trainer: randomForestTrainer, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'RegistryError', code: 'ABORTED', cause: reason });
  });

  it('random-forest stops between chunks of trees when the signal aborts', async () => {
    const controller = new AbortController();
    const fractions: number[] = [];
    const p = fitModel({
      ...iris(),
      trainer: randomForestTrainer,
      params: { nEstimators: 100 },
      signal: controller.signal,
      onProgress: ({ fraction }) => {
        fractions.push(fraction);
        if (fraction >= 0.2) controller.abort();
      },
    });
    const error = await p.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'ABORTED' });
    expect((error as Error).cause).toBeInstanceOf(DOMException);
    expect(Math.max(...fractions)).toBeLessThan(0.5);
  });
});

describe('trainers', () => {
  it('a user trainer (least squares) works through the pipeline', async () => {
    const registry = createDefaultTrainerRegistry();
    registry.register(linearRegressionTrainer);
    expect(registry.names()).toEqual([
      'decision-tree',
      'gradient-boosting',
      'linear',
      'linear-regression',
      'random-forest',
    ]);
    const rows = Array.from({ length: 60 }, (_, i) => {
      const a = (i * 37) % 11;
      const b = (i * 17) % 7;
      return { a, b, y: 3 * a - 2 * b + 5 + ((i % 3) - 1) * 0.01 };
    });
    const r = await fitModel({
      table: tableFromRows(rows),
      target: 'y',
      trainer: registry.get('linear-regression'),
    });
    expect(r.manifest.task).toBe('regression');
    expect(r.metrics.r2).toBeGreaterThan(0.999);
    expect(r.params).toEqual({ ridge: 1e-8 });
    expect(r.nativeJson.kind).toBe('linear-regression');
    const w = (r.nativeJson.model as { weights: number[] }).weights;
    expect(w[0]).toBeCloseTo(3, 2);
    expect(w[1]).toBeCloseTo(-2, 2);
  });

  it('a duplicate trainer name is ALREADY_EXISTS and an unknown one INVALID_ARGUMENT listing the known', () => {
    const registry = createTrainerRegistry([randomForestTrainer]);
    expect(() => registry.register(randomForestTrainer)).toThrow(
      expect.objectContaining({ code: 'ALREADY_EXISTS' }),
    );
    expect(() => registry.get('xgboost')).toThrow(/unknown model type "xgboost"; known: random-forest/);
    expect(() => registry.register({ ...linearRegressionTrainer, name: 'bad name' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
