import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgReachable } from '../../../test-utils/pg-env.js';
import type { AuditEntry } from '../src/audit.js';
import { createNdjsonAuditSink } from '../src/audit.js';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, energyCsv, irisCsv, postgresS3Backend, testApp } from './helpers.js';

const STAGES = { MODELREG_STAGES: 'dev,staging,production,archived' };
const IRIS_FEATURES = ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'] as const;

const trainIris = (app: Application, name: string, seed: number, type = 'decision-tree') =>
  request(app)
    .post('/train?wait=true')
    .send({
      experiment: name,
      dataset: 'iris',
      target: 'species',
      model:
        type === 'random-forest'
          ? { type, params: { nEstimators: 5, maxDepth: 5 } }
          : { type, params: { maxDepth: 4 } },
      split: { testSize: 0.2, seed },
      register: { name },
    })
    .expect(201);

/**
 * The flows of the seeds modelreg replaces, over HTTP, with stages configured as the ML Mini
 * Platform seed has them (MODELREG_STAGES=dev,staging,production,archived).
 */
function describeSeedFlows(label: string, open: (env: Record<string, string>) => Promise<TestBackend>) {
  describe(`the seeds' flows over HTTP (${label})`, () => {
    let backend: TestBackend;
    let app: Application;
    let auditDir: string;
    let auditPath: string;
    let audit: ReturnType<typeof createNdjsonAuditSink>;

    beforeAll(async () => {
      backend = await open(STAGES);
      auditDir = await mkdtemp(join(tmpdir(), 'modelreg-seed-audit-'));
      auditPath = join(auditDir, 'audit.ndjson');
      audit = createNdjsonAuditSink(auditPath);
      app = testApp(backend.registry, { auditLog: audit });
    });
    afterAll(async () => {
      await audit?.close();
      await backend?.cleanup();
      if (auditDir) await rm(auditDir, { recursive: true, force: true });
    });

    it('Model Distribution Server: CSV upload, train, predict by model name and version', async () => {
      const uploaded = await request(app).post('/datasets').attach('file', irisCsv).expect(201);
      expect(uploaded.body).toMatchObject({ name: 'iris', version: 1, rows: 150 });
      const trained = await trainIris(app, 'iris_dist', 1);
      expect(trained.body.version).toMatchObject({ name: 'iris_dist', version: 1, stage: 'dev' });
      const byVersion = await request(app)
        .post('/models/iris_dist/predict?version=1')
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(byVersion.body).toMatchObject({ model: 'iris_dist', version: 1, via: 'version' });
      expect(byVersion.body.predictions).toEqual(['setosa', 'virginica', 'versicolor']);
      const byCsv = await request(app)
        .post('/models/iris_dist/predict')
        .field('version', '1')
        .attach('file', irisCsv)
        .expect(200);
      expect(byCsv.body.predictions).toHaveLength(150);
    });

    it('ML Mini Platform: dataset catalog -> train -> promote dev -> staging -> predict the latest in staging with features: [[…]]', async () => {
      const catalog = await request(app).get('/datasets').expect(200);
      expect(catalog.body.datasets.map((d: { name: string }) => d.name)).toContain('iris');
      const detail = await request(app).get('/datasets/iris').expect(200);
      expect(detail.body.dataset.columns.map((c: { name: string }) => c.name)).toEqual([
        ...IRIS_FEATURES,
        'species',
      ]);

      const model = await request(app).get('/models/iris_dist').expect(200);
      expect(model.body.stages).toEqual(['dev', 'staging', 'production', 'archived']);

      const v1 = await trainIris(app, 'mini', 2);
      const v2 = await trainIris(app, 'mini', 3, 'random-forest');
      for (const v of [v1, v2]) expect(v.body.version.stage).toBe('dev');
      for (const version of [1, 2]) {
        const moved = await request(app)
          .post(`/models/mini/versions/${version}/stage`)
          .send({ stage: 'staging', comment: 'passed offline evaluation' })
          .expect(200);
        expect(moved.body).toMatchObject({ version, stage: 'staging' });
      }
      const features = IRIS_ROWS.map((r) => IRIS_FEATURES.map((f) => r[f]));
      const res = await request(app)
        .post('/models/mini/predict?stage=staging')
        .send({ input_data: { features } })
        .expect(200);
      expect(res.body).toMatchObject({ model: 'mini', version: 2, via: 'stage' });
      expect(res.body.predictions).toHaveLength(3);
      const history = await request(app).get('/models/mini/history').expect(200);
      expect(
        history.body.history.map(
          (h: { fromStage: string; toStage: string }) => `${h.fromStage}->${h.toStage}`,
        ),
      ).toEqual(['dev->staging', 'dev->staging']);
    });

    it('MLflow versioning + canary: set next, change the canary weight, accept next', async () => {
      await trainIris(app, 'churn', 4);
      await trainIris(app, 'churn', 5, 'random-forest');
      await request(app).post('/models/churn/versions/1/stage').send({ stage: 'production' }).expect(200);
      await request(app).post('/models/churn/versions/2/stage').send({ stage: 'staging' }).expect(200);

      const rows = Array.from({ length: 200 }, (_, i) => ({ ...IRIS_ROWS[i % 3], user: `u${i}` }));
      const set = await request(app)
        .post('/models/churn/canary')
        .send({ current: 'production', next: 'staging', weight: 0.1, stickyKey: 'user' })
        .expect(201);
      expect(set.body).toMatchObject({ weight: 0.1, current: { version: 1 }, next: { version: 2 } });
      const at10 = await request(app).post('/models/churn/predict').send({ rows }).expect(200);
      const nextShare = (versions: number[]) => versions.filter((v) => v === 2).length / versions.length;
      expect(nextShare(at10.body.versions)).toBeGreaterThan(0);
      expect(nextShare(at10.body.versions)).toBeLessThan(0.3);

      await request(app).patch('/models/churn/canary').send({ weight: 0.9 }).expect(200);
      const at90 = await request(app).post('/models/churn/predict').send({ rows }).expect(200);
      expect(nextShare(at90.body.versions)).toBeGreaterThan(0.7);

      const accepted = await request(app)
        .post('/models/churn/canary/promote')
        .send({ comment: 'next is better' })
        .expect(200);
      expect(accepted.body.promoted).toMatchObject({ from: 1, to: 2, target: { stage: 'production' } });
      const after = await request(app).post('/models/churn/predict').send({ rows: IRIS_ROWS }).expect(200);
      expect(after.body).toMatchObject({ version: 2, via: 'stage' });
      expect((await request(app).get('/models/churn/canary')).status).toBe(404);
    });

    it('ML Prediction API: two models served side by side, Prometheus metrics and the audit log', async () => {
      await request(app).post('/datasets').attach('file', energyCsv).expect(201);
      const energy = await request(app)
        .post('/train?wait=true')
        .send({
          experiment: 'energy',
          dataset: 'energy_load',
          target: 'target',
          model: { type: 'decision-tree', params: { maxDepth: 6 } },
          register: { name: 'energy', stage: 'production' },
        })
        .expect(201);
      expect(energy.body.version).toMatchObject({ name: 'energy', stage: 'production' });
      const energyRows = (await readFile(energyCsv, 'utf8')).split('\n').slice(0, 4).join('\n');

      const [iris, load] = await Promise.all([
        request(app).post('/models/churn/predict').set('X-Request-Id', 'side-iris').send({ rows: IRIS_ROWS }),
        request(app)
          .post('/models/energy/predict')
          .set('X-Request-Id', 'side-energy')
          .set('Content-Type', 'text/csv')
          .send(energyRows),
      ]);
      expect(iris.status).toBe(200);
      expect(load.status).toBe(200);
      expect(iris.body.predictions.every((p: unknown) => typeof p === 'string')).toBe(true);
      expect(load.body.predictions).toHaveLength(3);
      expect(load.body.predictions.every((p: unknown) => typeof p === 'number')).toBe(true);

      const metrics = await request(app).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/modelreg_predictions_total\{model="churn",version="2"\} \d+/);
      expect(metrics.text).toMatch(/modelreg_predictions_total\{model="energy",version="1"\} 3/);

      await audit.close();
      const entries = (await readFile(auditPath, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEntry);
      const byId = new Map(entries.map((e) => [e.requestId, e]));
      expect(byId.get('side-iris')).toMatchObject({ model: 'churn', version: 2, rows: 3, via: 'stage' });
      expect(byId.get('side-energy')).toMatchObject({ model: 'energy', version: 1, rows: 3 });
      expect(byId.get('side-energy')!.inputSha256).toMatch(/^[0-9a-f]{64}$/);
    });
  });
}

describeSeedFlows('SQLite + local folder', embeddedBackend);
// pg-env fails the run in CI when Postgres is unreachable, and warns loudly otherwise.
describe.skipIf(!pgReachable)('Postgres + S3', () => {
  describeSeedFlows('Postgres schema + s3rver', postgresS3Backend);
});
