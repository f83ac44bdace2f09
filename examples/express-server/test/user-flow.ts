import { readFile } from 'node:fs/promises';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, energyCsv, irisCsv, testApp } from './helpers.js';

interface Prediction {
  model: string;
  version: number | null;
  versions?: number[];
  arms?: string[];
  via: string;
  predictions: unknown[];
  probabilities?: Array<Record<string, number>>;
}

/**
 * The whole user flow over HTTP: upload, train, promote, predict (JSON, CSV upload, CSV body),
 * alias, canary at 10 %, promote next. Run once per storage backend.
 */
export function describeUserFlow(label: string, open: () => Promise<TestBackend>, stores: RegExp): void {
  describe(`user flow over HTTP (${label})`, () => {
    let backend: TestBackend;
    let app: Application;
    let allIris: Array<Record<string, unknown>>;

    beforeAll(async () => {
      backend = await open();
      app = testApp(backend.registry);
      const [header, ...lines] = (await readFile(irisCsv, 'utf8')).trim().split('\n');
      const columns = header!.split(',');
      allIris = lines.map((line) => {
        const cells = line.split(',');
        return Object.fromEntries(columns.map((c, i) => [c, i < 4 ? Number(cells[i]) : cells[i]]));
      });
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    it('runs on the stores the environment names, and is healthy', async () => {
      expect(backend.describe).toMatch(stores);
      const res = await request(app).get('/health').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', metadata: { ok: true } });
    });

    it('uploads datasets as multipart and as a text/csv body; equal bytes are not a new version', async () => {
      const first = await request(app).post('/datasets').attach('file', irisCsv).expect(201);
      expect(first.body).toMatchObject({ name: 'iris', version: 1, rows: 150, created: true });
      expect(first.body.columns.map((c: { name: string }) => c.name)).toContain('species');

      const again = await request(app).post('/datasets').attach('file', irisCsv).expect(200);
      expect(again.body).toMatchObject({ name: 'iris', version: 1, created: false });

      const energy = await request(app)
        .post('/datasets?name=Energy Load.csv')
        .set('Content-Type', 'text/csv')
        .send(await readFile(energyCsv, 'utf8'))
        .expect(201);
      expect(energy.body).toMatchObject({ name: 'energy_load', version: 1, rows: 1500 });

      const named = await request(app)
        .post('/datasets')
        .field('name', 'Iris Copy')
        .attach('file', irisCsv)
        .expect(201);
      expect(named.body).toMatchObject({ name: 'iris_copy', version: 1, originalName: 'Iris Copy' });

      const list = await request(app).get('/datasets').expect(200);
      expect(list.body.datasets.map((d: { name: string }) => d.name).sort()).toEqual([
        'energy_load',
        'iris',
        'iris_copy',
      ]);
      const detail = await request(app).get('/datasets/iris').expect(200);
      expect(detail.body.dataset.version).toBe(1);
      expect(detail.body.versions).toHaveLength(1);
      await request(app).get('/datasets/iris/versions/1').expect(200);
    });

    it('trains and registers a model, then promotes it to production', async () => {
      const trained = await request(app)
        .post('/train?wait=true')
        .send({
          experiment: 'iris',
          dataset: 'iris',
          target: 'species',
          model: { type: 'decision-tree', params: { maxDepth: 4 } },
          split: { testSize: 0.2, seed: 42 },
          register: { name: 'iris_clf', stage: 'staging' },
        })
        .expect(201);
      expect(trained.body.version).toMatchObject({ name: 'iris_clf', version: 1, stage: 'staging' });
      expect(trained.body.run.status).toBe('finished');
      expect(trained.body.metrics.accuracy).toBeGreaterThan(0.8);
      expect(trained.body.modelUri).toBe(`runs:/${trained.body.run.id}/model`);

      const moved = await request(app)
        .post('/models/iris_clf/versions/1/stage')
        .send({ stage: 'production', archiveExisting: true, comment: 'passed eval' })
        .expect(200);
      expect(moved.body).toMatchObject({ version: 1, stage: 'production' });

      const model = await request(app).get('/models/iris_clf').expect(200);
      expect(model.body.latestVersions.map((v: { stage: string }) => v.stage)).toEqual(['production']);
      const models = await request(app).get('/models').expect(200);
      expect(models.body.models.map((m: { name: string }) => m.name)).toEqual(['iris_clf']);
    });

    it('predicts from JSON records with the production version, with probabilities on request', async () => {
      const res = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
      const body = res.body as Prediction;
      expect(body).toMatchObject({ model: 'iris_clf', version: 1, via: 'stage' });
      expect(body.predictions).toEqual(['setosa', 'virginica', 'versicolor']);
      expect(body.probabilities).toBeUndefined();

      const proba = await request(app)
        .post('/models/iris_clf/predict?proba=true')
        .send({ rows: IRIS_ROWS.slice(0, 1) })
        .expect(200);
      expect(Object.keys(proba.body.probabilities[0]).sort()).toEqual(['setosa', 'versicolor', 'virginica']);
      expect(proba.body.probabilities[0].setosa).toBeGreaterThan(0.5);
    });

    it('predicts from an uploaded CSV file and from a text/csv body', async () => {
      const csv = (await readFile(irisCsv, 'utf8')).split('\n').slice(0, 11).join('\n');
      const uploaded = await request(app)
        .post('/models/iris_clf/predict')
        .attach('file', Buffer.from(csv), { filename: 'rows.csv', contentType: 'text/csv' })
        .expect(200);
      expect(uploaded.body).toMatchObject({ version: 1 });
      expect(uploaded.body.predictions).toHaveLength(10);
      expect(new Set(uploaded.body.predictions)).toEqual(new Set(['setosa']));

      const body = await request(app)
        .post('/models/iris_clf/predict?version=1')
        .set('Content-Type', 'text/csv')
        .send(csv)
        .expect(200);
      expect(body.body).toMatchObject({ version: 1, via: 'version' });
      expect(body.body.predictions).toEqual(uploaded.body.predictions);
    });

    it('trains a second version, points an alias and predicts by alias and version', async () => {
      const trained = await request(app)
        .post('/train?wait=true')
        .send({
          experiment: 'iris',
          dataset: { name: 'iris', version: 1 },
          target: 'species',
          model: { type: 'random-forest', params: { nEstimators: 5, maxDepth: 6 } },
          split: { testSize: 0.2, seed: 7 },
          register: { name: 'iris_clf' },
        })
        .expect(201);
      expect(trained.body.version).toMatchObject({ version: 2, stage: 'none' });

      await request(app)
        .put('/models/iris_clf/aliases/champion')
        .send({ version: 1, ifVersion: null })
        .expect(200);
      const lost = await request(app)
        .put('/models/iris_clf/aliases/champion')
        .send({ version: 2, ifVersion: null })
        .expect(409);
      expect(lost.body.error.code).toBe('CONFLICT');
      const byAlias = await request(app)
        .post('/models/iris_clf/predict?alias=champion')
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(byAlias.body).toMatchObject({ version: 1, via: 'alias' });
      const byVersion = await request(app)
        .post('/models/iris_clf/predict')
        .send({ rows: IRIS_ROWS, version: 2 })
        .expect(200);
      expect(byVersion.body).toMatchObject({ version: 2, via: 'version' });

      const versions = await request(app).get('/models/iris_clf/versions').expect(200);
      expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      await request(app).get('/models/iris_clf/versions/2').expect(200);
      await request(app).delete('/models/iris_clf/aliases/champion').expect(204);
    });

    it('routes 10 % of rows to the next version through a canary, then promotes it', async () => {
      const started = await request(app)
        .post('/models/iris_clf/canary')
        .send({ current: 'production', next: 2, weight: 0.1 })
        .expect(201);
      expect(started.body).toMatchObject({
        weight: 0.1,
        current: { ref: 'production', version: 1 },
        next: { ref: 2, version: 2 },
      });

      const served: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await request(app).post('/models/iris_clf/predict').send({ rows: allIris }).expect(200);
        const body = res.body as Prediction;
        expect(body.via).toBe('canary');
        expect(body.versions).toHaveLength(150);
        expect(body.arms).toHaveLength(150);
        served.push(...body.versions!);
      }
      const toNext = served.filter((v) => v === 2).length / served.length;
      expect(toNext).toBeGreaterThan(0.03);
      expect(toNext).toBeLessThan(0.2);

      // An explicit version bypasses the canary.
      const pinned = await request(app)
        .post('/models/iris_clf/predict?version=1')
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(pinned.body.versions).toBeUndefined();

      const stats = await request(app).get('/models/iris_clf/canary').expect(200);
      expect(stats.body.current.rows + stats.body.next.rows).toBe(600);
      expect(stats.body.next.rows).toBe(served.filter((v) => v === 2).length);

      const raised = await request(app).patch('/models/iris_clf/canary').send({ weight: 1 }).expect(200);
      expect(raised.body.weight).toBe(1);
      const allNext = await request(app)
        .post('/models/iris_clf/predict')
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(allNext.body).toMatchObject({ version: 2, versions: [2, 2, 2] });

      const promoted = await request(app)
        .post('/models/iris_clf/canary/promote')
        .send({ comment: 'canary looked good' })
        .expect(200);
      expect(promoted.body.promoted).toEqual({ from: 1, to: 2, target: { stage: 'production' } });
      await request(app).get('/models/iris_clf/canary').expect(404);

      const after = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
      expect(after.body).toMatchObject({ version: 2, via: 'stage' });
      const v1 = await request(app).get('/models/iris_clf/versions/1').expect(200);
      expect(v1.body.stage).toBe('archived');

      const history = await request(app).get('/models/iris_clf/history').expect(200);
      const moves = history.body.history.filter(
        (h: { comment: string }) => h.comment === 'canary looked good',
      );
      expect(moves).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'stage', version: 2, toStage: 'production' }),
          expect.objectContaining({
            kind: 'stage',
            version: 1,
            fromStage: 'production',
            toStage: 'archived',
          }),
        ]),
      );
    });

    it('counts the predictions per version in /metrics', async () => {
      const res = await request(app).get('/metrics').expect(200);
      expect(res.text).toMatch(/modelreg_predictions_total\{model="iris_clf",version="1"\} \d+/);
      expect(res.text).toMatch(/modelreg_predictions_total\{model="iris_clf",version="2"\} \d+/);
      expect(res.text).toContain(
        'modelreg_http_requests_total{method="POST",route="/models/:name/predict",status="200"}',
      );
    });
  });
}
