import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { pgReachable } from '../../../test-utils/pg-env.js';
import { embeddedBackend, postgresS3Backend, testApp } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
/** A scikit-learn LogisticRegression on iris as ONNX, made by fixtures/make-sklearn-onnx.py. */
const sklearnOnnx = readFileSync(fixture('iris-logreg.onnx'));
const sklearnExpected = JSON.parse(readFileSync(fixture('iris-logreg.expected.json'), 'utf8')) as {
  features: string[];
  classes: string[];
  rows: number[][];
  predictions: string[];
  probabilities: number[][];
};

const expectError = (res: request.Response, status: number, code: string) => {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect((res.body as ErrorAnswer).error.code).toBe(code);
};

function describeTracking(label: string, open: () => Promise<TestBackend>) {
  describe(`tracking over HTTP (${label})`, () => {
    let backend: TestBackend;
    let app: Application;
    beforeAll(async () => {
      backend = await open();
      app = testApp(backend.registry, { limits: { artifactUploadBytes: 4096 } });
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    it('creates an experiment once (201, then 200) and refuses a bad name', async () => {
      const first = await request(app).post('/experiments').send({ name: 'churn' }).expect(201);
      expect(first.body).toMatchObject({ created: true, experiment: { name: 'churn' } });
      const again = await request(app).post('/experiments').send({ name: 'churn' }).expect(200);
      expect(again.body.experiment.id).toBe(first.body.experiment.id);
      expectError(await request(app).post('/experiments').send({ name: '../x' }), 400, 'INVALID_REQUEST');
      expectError(
        await request(app).post('/experiments').send({ name: 'x', extra: 1 }),
        400,
        'INVALID_REQUEST',
      );
    });

    it('starts a run, logs params, metrics and tags in batches, uploads an artifact, and ends it', async () => {
      const started = await request(app)
        .post('/runs')
        .send({ experiment: 'churn', name: 'gbm-1', tags: { team: 'growth' } })
        .expect(201);
      const id = started.body.run.id as string;
      expect(started.body.run).toMatchObject({ name: 'gbm-1', status: 'running', tags: { team: 'growth' } });

      await request(app)
        .post(`/runs/${id}/log-batch`)
        .send({
          params: { lr: 0.1, depth: 6, loss: 'logloss' },
          metrics: [
            { key: 'auc', value: 0.71, step: 0 },
            { key: 'loss', value: 0.9, step: 0 },
            { key: 'auc', value: 0.78, step: 1 },
            { key: 'loss', value: 0.6, step: 1 },
          ],
          tags: { data: 'v3' },
        })
        .expect(200);
      await request(app)
        .post(`/runs/${id}/log-batch`)
        .send({ metrics: [{ key: 'auc', value: 0.8, step: 2, timestamp: 1_700_000_000_000 }] })
        .expect(200);

      const notes = Buffer.from('feature importances: tenure 0.4, plan 0.3\n');
      const put = await request(app)
        .put(`/runs/${id}/artifacts/reports/notes.txt`)
        .set('Content-Type', 'application/octet-stream')
        .send(notes)
        .expect(201);
      expect(put.body).toEqual({
        path: 'reports/notes.txt',
        size: notes.length,
        sha256: createHash('sha256').update(notes).digest('hex'),
      });
      expectError(
        await request(app)
          .put(`/runs/${id}/artifacts/reports/notes.txt`)
          .set('Content-Type', 'text/plain')
          .send('again'),
        409,
        'ALREADY_EXISTS',
      );
      expectError(
        await request(app)
          .put(`/runs/${id}/artifacts/big.bin`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.alloc(5000)),
        413,
        'PAYLOAD_TOO_LARGE',
      );

      const ended = await request(app).post(`/runs/${id}/end`).send({ status: 'finished' }).expect(200);
      expect(ended.body.run.status).toBe('finished');
      expectError(await request(app).post(`/runs/${id}/end`).send({}), 409, 'CONFLICT');

      const detail = await request(app).get(`/runs/${id}`).expect(200);
      expect(detail.body.run.params).toEqual({ lr: '0.1', depth: '6', loss: 'logloss' });
      expect(detail.body.run.tags).toMatchObject({ team: 'growth', data: 'v3' });
      expect(detail.body.artifacts).toEqual([put.body]);
      const auc = await request(app).get(`/runs/${id}/metrics/auc`).expect(200);
      expect(auc.body.history.map((p: { step: number; value: number }) => [p.step, p.value])).toEqual([
        [0, 0.71],
        [1, 0.78],
        [2, 0.8],
      ]);
      const download = await request(app).get(`/runs/${id}/artifacts/reports/notes.txt`).expect(200);
      expect(download.headers['x-artifact-sha256']).toBe(put.body.sha256);
    });

    it('refuses bad batches and unknown runs, and writes nothing for them', async () => {
      const { body } = await request(app).post('/runs').send({ experiment: 'churn' }).expect(201);
      const id = body.run.id as string;
      expectError(
        await request(app)
          .post(`/runs/${id}/log-batch`)
          .send({ metrics: [{ key: 'auc', value: 'high' }] }),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await request(app)
          .post(`/runs/${id}/log-batch`)
          .send({
            metrics: [
              { key: 'auc', value: 1 },
              { key: 'auc', value: 2 },
            ],
          }),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await request(app)
          .post('/runs/nope/log-batch')
          .send({ params: { a: 1 } }),
        404,
        'NOT_FOUND',
      );
      expectError(await request(app).put('/runs/nope/artifacts/a.txt').send('x'), 404, 'NOT_FOUND');
      expectError(
        await request(app).put(`/runs/${id}/artifacts/..%2f..%2fregistry.db`).send('x'),
        400,
        'INVALID_REQUEST',
      );
      const run = await request(app).get(`/runs/${id}`).expect(200);
      expect(run.body.run.params).toEqual({});
      expect(run.body.artifacts).toEqual([]);
    });

    it('registers a scikit-learn model exported to ONNX as a run and a version, and serves it', async () => {
      const res = await request(app)
        .post('/models/iris_sklearn/versions/onnx')
        .field(
          'signature',
          JSON.stringify({
            inputs: sklearnExpected.features.map((name) => ({ name })),
            classes: sklearnExpected.classes,
            target: 'species',
          }),
        )
        .field('metrics', JSON.stringify({ train_accuracy: 0.97 }))
        .field('experiment', 'outside-models')
        .attach('file', sklearnOnnx, 'iris-logreg.onnx')
        .expect(201);
      expect(res.body.version).toMatchObject({ name: 'iris_sklearn', version: 1, runId: res.body.run.id });
      expect(res.body.run).toMatchObject({ status: 'finished', latestMetrics: { train_accuracy: 0.97 } });
      const run = await request(app).get(`/runs/${res.body.run.id}`).expect(200);
      expect(run.body.experiment).toBe('outside-models');
      expect(run.body.artifacts.map((a: { path: string }) => a.path).sort()).toEqual([
        'model/MODEL.json',
        'model/model.onnx',
      ]);
      const onnx = run.body.artifacts.find((a: { path: string }) => a.path === 'model/model.onnx');
      expect(onnx.sha256).toBe(createHash('sha256').update(sklearnOnnx).digest('hex'));

      // Served as scikit-learn predicted it: by records, by arrays in signature order, by CSV.
      const records = sklearnExpected.rows.map((r) =>
        Object.fromEntries(sklearnExpected.features.map((f, i) => [f, r[i]])),
      );
      const byRecords = await request(app)
        .post('/models/iris_sklearn/predict?version=latest&proba=true')
        .send({ rows: records })
        .expect(200);
      expect(byRecords.body.predictions).toEqual(sklearnExpected.predictions);
      byRecords.body.probabilities.forEach((p: Record<string, number>, i: number) =>
        sklearnExpected.classes.forEach((c, j) =>
          expect(p[c]).toBeCloseTo(sklearnExpected.probabilities[i]![j]!, 4),
        ),
      );
      const byArrays = await request(app)
        .post('/models/iris_sklearn/predict')
        .send({ version: 1, input_data: { features: sklearnExpected.rows } })
        .expect(200);
      expect(byArrays.body.predictions).toEqual(sklearnExpected.predictions);
      const csv = [sklearnExpected.features.join(','), ...sklearnExpected.rows.map((r) => r.join(','))].join(
        '\n',
      );
      const byCsv = await request(app)
        .post('/models/iris_sklearn/predict?version=1')
        .set('Content-Type', 'text/csv')
        .send(csv)
        .expect(200);
      expect(byCsv.body.predictions).toEqual(sklearnExpected.predictions);
    });

    it('refuses bytes that are not ONNX, a bad signature and unknown fields, registering nothing', async () => {
      expectError(
        await request(app)
          .post('/models/broken/versions/onnx')
          .attach('file', Buffer.from('not a model'), 'x.onnx'),
        422,
        'INVALID_ARGUMENT',
      );
      expectError(
        await request(app)
          .post('/models/broken/versions/onnx')
          .field('signature', '{not json')
          .attach('file', sklearnOnnx, 'x.onnx'),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await request(app)
          .post('/models/broken/versions/onnx')
          .field('stage', 'production')
          .attach('file', sklearnOnnx, 'x.onnx'),
        400,
        'INVALID_REQUEST',
      );
      expectError(
        await request(app).post('/models/broken/versions/onnx').field('experiment', 'x'),
        400,
        'INVALID_REQUEST',
      );
      expect(await backend.registry.getModel('broken')).toBeNull();
    });
  });
}

describeTracking('SQLite + local folder', () => embeddedBackend());
// pg-env fails the run in CI when Postgres is unreachable, and warns loudly otherwise.
describe.skipIf(!pgReachable)('Postgres + S3', () => {
  describeTracking('Postgres schema + s3rver', () => postgresS3Backend());
});
