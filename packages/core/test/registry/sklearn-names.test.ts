import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveSklearnModel } from '../../src/training/sklearn-names.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

const csv = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url));

describe('scikit-learn class and param names', () => {
  it('map to modelreg trainers and params with scikit-learn meaning and defaults', () => {
    expect(
      resolveSklearnModel({
        module: 'ensemble',
        class: 'RandomForestClassifier',
        params: {
          n_estimators: 50,
          max_depth: null,
          max_features: 1.0,
          min_samples_leaf: 2,
          random_state: 0,
        },
      }),
    ).toEqual({
      type: 'random-forest',
      task: 'classification',
      params: { nEstimators: 50, maxFeatures: 'all', minSamplesLeaf: 2 },
    });
    expect(resolveSklearnModel({ class: 'DecisionTreeRegressor', params: { max_features: 3 } })).toEqual({
      type: 'decision-tree',
      task: 'regression',
      params: { maxFeatures: { count: 3 } },
    });
    expect(resolveSklearnModel({ class: 'Ridge' }).params).toEqual({ alpha: 1 });
    expect(resolveSklearnModel({ class: 'LogisticRegression', params: { C: 0.5, max_iter: 200 } })).toEqual({
      type: 'linear',
      task: 'classification',
      params: { C: 0.5, maxIter: 200 },
    });
    expect(
      resolveSklearnModel({
        class: 'HistGradientBoostingRegressor',
        params: { max_iter: 200, learning_rate: 0.05, l2_regularization: 1 },
      }),
    ).toEqual({
      type: 'gradient-boosting',
      task: 'regression',
      params: {
        maxDepth: null,
        maxLeafNodes: 31,
        learningRate: 0.05,
        nEstimators: 200,
        minSamplesLeaf: 20,
        l2Regularization: 1,
        minChildWeight: 1e-3,
        maxBins: 256,
      },
    });
    expect(
      resolveSklearnModel({
        class: 'GradientBoostingClassifier',
        params: { subsample: 0.8, max_features: 0.5 },
      }).params,
    ).toEqual({
      maxDepth: 3,
      learningRate: 0.1,
      nEstimators: 100,
      minSamplesLeaf: 1,
      l2Regularization: 0,
      minChildWeight: 1e-3,
      subsample: 0.8,
      colsampleByTree: 0.5,
    });
  });

  it('the boosting names train the native gradient-boosting trainer with the mapped params', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', csv('iris'));
    const gb = await registry.train({
      dataset: 'iris',
      target: 'species',
      model: { class: 'GradientBoostingClassifier', params: { n_estimators: 5 } },
    });
    const hgb = await registry.train({
      dataset: 'iris',
      target: 'species',
      model: { class: 'HistGradientBoostingClassifier', params: { max_iter: 5, min_samples_leaf: 5 } },
    });
    for (const [result, cls] of [
      [gb, 'GradientBoostingClassifier'],
      [hgb, 'HistGradientBoostingClassifier'],
    ] as const) {
      expect(result.manifest.trainer.name).toBe('gradient-boosting');
      expect(result.run.params).toMatchObject({ model_class: cls, nEstimators: '5' });
      expect(result.metrics['accuracy']).toBeGreaterThan(0.8);
    }
    expect(gb.manifest.trainer.params).toMatchObject({ maxDepth: 3, l2Regularization: 0 });
    expect(hgb.manifest.trainer.params).toMatchObject({
      maxDepth: null,
      maxLeafNodes: 31,
      minSamplesLeaf: 5,
    });
    await registry.close();
  });

  it('an unknown class, param, module or unsupported value is INVALID_ARGUMENT naming what exists', () => {
    expect(() => resolveSklearnModel({ class: 'SVC' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(
          /"SVC" has no modelreg counterpart; known: RandomForestClassifier, .*LogisticRegression/,
        ),
      }),
    );
    expect(() =>
      resolveSklearnModel({ class: 'RandomForestRegressor', params: { oob_score: true } }),
    ).toThrow(
      /model.params.oob_score is not a param of RandomForestRegressor that modelreg supports; supported: n_estimators, max_depth/,
    );
    expect(() => resolveSklearnModel({ module: 'tree', class: 'RandomForestClassifier' })).toThrow(
      /does not hold RandomForestClassifier; it is in "ensemble"/,
    );
    expect(() => resolveSklearnModel({ class: 'LogisticRegression', params: { penalty: 'l1' } })).toThrow(
      /model.params.penalty "l1" is not supported; supported: "l2"/,
    );
    expect(() =>
      resolveSklearnModel({ class: 'LogisticRegression', params: { __proto__: 1 } as never }),
    ).not.toThrow();
  });

  it('registry.train accepts them, logs the class, and stores coefficients and importance in MODEL.json', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', csv('iris'));
    const logistic = await registry.train({
      dataset: 'iris',
      target: 'species',
      model: { module: 'linear_model', class: 'LogisticRegression', params: { C: 2, max_iter: 500 } },
      register: { name: 'iris_lr' },
    });
    expect(logistic.manifest.trainer).toEqual({
      name: 'linear',
      params: { C: 2, maxIter: 500, tol: 1e-8, fitIntercept: true },
    });
    expect(logistic.run.params).toMatchObject({
      model_type: 'linear',
      model_class: 'LogisticRegression',
      C: '2',
    });
    expect(logistic.manifest.files.map((f) => f.format).sort()).toEqual(['native', 'onnx']);
    const { coefficients, importance } = logistic.manifest;
    expect(coefficients).toMatchObject({ link: 'softmax', outputs: ['setosa', 'versicolor', 'virginica'] });
    expect(coefficients!.terms.map((t) => t.feature)).toEqual([
      'sepal_length_cm',
      'sepal_width_cm',
      'petal_length_cm',
      'petal_width_cm',
    ]);
    expect(importance!.gain!.method).toBe('abs-standardised-coef');
    const gains = Object.values(importance!.gain!.values);
    expect(gains.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(importance!.permutation).toMatchObject({ metric: 'accuracy', repeats: 3, rows: 30 });
    // The petals separate iris; shuffling one of them costs accuracy.
    const perm = importance!.permutation!.mean;
    expect(Math.max(perm.petal_length_cm!, perm.petal_width_cm!)).toBeGreaterThan(0.05);

    const model = await registry.load('models:/iris_lr/1');
    expect(model.format).toBe('onnx');
    expect(
      await model.predict([
        { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
      ]),
    ).toEqual(['setosa']);

    const before = await snapshot(registry);
    await expect(
      registry.train({
        dataset: 'iris',
        target: 'species',
        model: { class: 'RandomForestRegressor', params: {} },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      registry.train({
        dataset: 'iris',
        target: 'species',
        task: 'regression',
        model: { class: 'LogisticRegression', params: {} },
      }),
    ).rejects.toThrow(/LogisticRegression is a classification model, but task is "regression"/);
    await expect(
      registry.jobs.submit({ dataset: 'iris', target: 'species', model: { class: 'KMeans', params: {} } }),
    ).rejects.toThrow(/"KMeans" has no modelreg counterpart/);
    expect(await snapshot(registry)).toEqual(before);
    await registry.close();
  });
});
