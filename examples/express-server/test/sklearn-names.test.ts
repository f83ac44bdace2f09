import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, irisCsv, testApp } from './helpers.js';

/** The ML Mini Platform seed trains by scikit-learn class name: `{ module, class, params }`. */
describe('POST /train with scikit-learn names (the ML Mini Platform request)', () => {
  let backend: TestBackend;
  let app: Application;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    await request(app).post('/datasets').attach('file', irisCsv).expect(201);
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('RandomForestClassifier with n_estimators, and LogisticRegression with C and max_iter, train and predict', async () => {
    const forest = await request(app)
      .post('/train?wait=true')
      .send({
        dataset: 'iris',
        target: 'species',
        model: { module: 'ensemble', class: 'RandomForestClassifier', params: { n_estimators: 10 } },
        register: { name: 'mini_rf' },
      })
      .expect(201);
    expect(forest.body.run.params).toMatchObject({
      model_type: 'random-forest',
      model_class: 'RandomForestClassifier',
      nEstimators: '10',
    });
    const logistic = await request(app)
      .post('/train?wait=true')
      .send({
        dataset: 'iris',
        target: 'species',
        model: { module: 'linear_model', class: 'LogisticRegression', params: { C: 1.0, max_iter: 200 } },
        register: { name: 'mini_lr' },
      })
      .expect(201);
    expect(logistic.body.run.params).toMatchObject({ model_type: 'linear', C: '1', maxIter: '200' });
    expect(logistic.body.metrics.accuracy).toBeGreaterThan(0.85);
    for (const name of ['mini_rf', 'mini_lr']) {
      const res = await request(app)
        .post(`/models/${name}/predict?version=1`)
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(res.body.predictions).toEqual(['setosa', 'virginica', 'versicolor']);
    }
  });

  it('422 naming what exists for an unknown class or param, and the server limits apply to n_estimators', async () => {
    const unknownClass = await request(app)
      .post('/train')
      .send({ dataset: 'iris', target: 'species', model: { module: 'svm', class: 'SVC', params: {} } })
      .expect(422);
    expect(unknownClass.body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(unknownClass.body.error.message).toMatch(
      /"SVC" has no modelreg counterpart; known: RandomForestClassifier/,
    );
    const unknownParam = await request(app)
      .post('/train')
      .send({
        dataset: 'iris',
        target: 'species',
        model: { class: 'RandomForestClassifier', params: { warm_start: true } },
      })
      .expect(422);
    expect(unknownParam.body.error.message).toMatch(
      /warm_start is not a param of RandomForestClassifier.*supported: n_estimators/,
    );
    const tooMany = await request(app)
      .post('/train')
      .send({
        dataset: 'iris',
        target: 'species',
        model: { class: 'RandomForestClassifier', params: { n_estimators: 100_000 } },
      })
      .expect(422);
    expect(tooMany.body.error.message).toMatch(/nEstimators is 100000, above this server's limit/);
  });
});
