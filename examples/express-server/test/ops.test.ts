import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditSink } from '../src/app.js';
import { canonicalJson, createNdjsonAuditSink, inputSha256 } from '../src/app.js';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, irisCsv, seedIrisModel, testApp } from './helpers.js';

describe('health, metrics, OpenAPI, docs and the audit log', () => {
  let backend: TestBackend;
  let app: Application;
  let auditDir: string;
  let auditPath: string;
  let audit: AuditSink;

  beforeAll(async () => {
    backend = await embeddedBackend();
    auditDir = await mkdtemp(join(tmpdir(), 'modelreg-audit-'));
    auditPath = join(auditDir, 'logs', 'audit.ndjson');
    audit = createNdjsonAuditSink(auditPath);
    app = testApp(backend.registry, { auditLog: audit, metrics: { defaultMetrics: true } });
    await seedIrisModel(app);
  });
  afterAll(async () => {
    await audit?.close();
    await backend?.cleanup();
    await rm(auditDir, { recursive: true, force: true });
  });

  it('serves an OpenAPI 3.1 document with a path for every endpoint', async () => {
    const res = await request(app).get('/openapi.json').expect(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /datasets',
        'GET /datasets',
        'GET /datasets/{name}',
        'GET /datasets/{name}/versions/{version}',
        'POST /train',
        'GET /jobs',
        'GET /jobs/{id}',
        'DELETE /jobs/{id}',
        'GET /jobs/{id}/events',
        'GET /models',
        'GET /models/{name}',
        'GET /models/{name}/versions',
        'GET /models/{name}/versions/{version}',
        'GET /models/{name}/versions/{version}/signature',
        'PATCH /models/{name}',
        'PATCH /models/{name}/versions/{version}',
        'POST /models/{name}/versions/{version}/stage',
        'PUT /models/{name}/aliases/{alias}',
        'DELETE /models/{name}/aliases/{alias}',
        'GET /models/{name}/history',
        'POST /models/{name}/predict',
        'POST /models/{name}/canary',
        'GET /models/{name}/canary',
        'PATCH /models/{name}/canary',
        'DELETE /models/{name}/canary',
        'POST /models/{name}/canary/promote',
        'POST /models/{name}/canary/rollback',
        'GET /health',
        'GET /metrics',
        'GET /openapi.json',
        'GET /docs',
        'GET /docs/reference',
        'GET /experiments',
        'GET /experiments/{name}/runs',
        'GET /runs/{id}',
        'GET /runs/{id}/metrics/{key}',
        'GET /runs/{id}/artifacts/{path}',
        'POST /experiments',
        'POST /runs',
        'POST /runs/{id}/log-batch',
        'POST /runs/{id}/end',
        'PUT /runs/{id}/artifacts/{path}',
        'POST /models/{name}/versions/onnx',
        'GET /',
        'POST /auth/tokens',
        'GET /auth/tokens',
        'DELETE /auth/tokens/{id}',
        'GET /auth/whoami',
        'POST /auth/session',
        'DELETE /auth/session',
        'GET /events',
        'POST /webhooks',
        'GET /webhooks',
        'PATCH /webhooks/{id}',
        'DELETE /webhooks/{id}',
        'GET /webhooks/{id}/deliveries',
        'POST /webhooks/{id}/test',
        // MLflow's REST API (@modelreg/mlflow-rest)
        'POST /api/2.0/mlflow/experiments/create',
        'GET /api/2.0/mlflow/experiments/get',
        'GET /api/2.0/mlflow/experiments/get-by-name',
        'GET /api/2.0/mlflow/experiments/search',
        'POST /api/2.0/mlflow/experiments/search',
        'GET /api/2.0/mlflow/experiments/list',
        'POST /api/2.0/mlflow/experiments/update',
        'POST /api/2.0/mlflow/experiments/delete',
        'POST /api/2.0/mlflow/experiments/restore',
        'POST /api/2.0/mlflow/experiments/set-experiment-tag',
        'POST /api/2.0/mlflow/experiments/delete-experiment-tag',
        'POST /api/2.0/mlflow/runs/create',
        'GET /api/2.0/mlflow/runs/get',
        'POST /api/2.0/mlflow/runs/update',
        'POST /api/2.0/mlflow/runs/delete',
        'POST /api/2.0/mlflow/runs/restore',
        'POST /api/2.0/mlflow/runs/log-metric',
        'POST /api/2.0/mlflow/runs/log-parameter',
        'POST /api/2.0/mlflow/runs/log-batch',
        'POST /api/2.0/mlflow/runs/log-model',
        'POST /api/2.0/mlflow/runs/log-inputs',
        'POST /api/2.0/mlflow/runs/set-tag',
        'POST /api/2.0/mlflow/runs/delete-tag',
        'POST /api/2.0/mlflow/runs/search',
        'GET /api/2.0/mlflow/metrics/get-history',
        'GET /api/2.0/mlflow/artifacts/list',
        'POST /api/2.0/mlflow/registered-models/create',
        'GET /api/2.0/mlflow/registered-models/get',
        'POST /api/2.0/mlflow/registered-models/rename',
        'PATCH /api/2.0/mlflow/registered-models/update',
        'DELETE /api/2.0/mlflow/registered-models/delete',
        'GET /api/2.0/mlflow/registered-models/search',
        'GET /api/2.0/mlflow/registered-models/get-latest-versions',
        'POST /api/2.0/mlflow/registered-models/get-latest-versions',
        'POST /api/2.0/mlflow/registered-models/set-tag',
        'DELETE /api/2.0/mlflow/registered-models/delete-tag',
        'POST /api/2.0/mlflow/registered-models/alias',
        'DELETE /api/2.0/mlflow/registered-models/alias',
        'GET /api/2.0/mlflow/registered-models/alias',
        'POST /api/2.0/mlflow/model-versions/create',
        'GET /api/2.0/mlflow/model-versions/get',
        'PATCH /api/2.0/mlflow/model-versions/update',
        'DELETE /api/2.0/mlflow/model-versions/delete',
        'GET /api/2.0/mlflow/model-versions/search',
        'POST /api/2.0/mlflow/model-versions/transition-stage',
        'GET /api/2.0/mlflow/model-versions/get-download-uri',
        'POST /api/2.0/mlflow/model-versions/set-tag',
        'DELETE /api/2.0/mlflow/model-versions/delete-tag',
        'GET /api/2.0/mlflow-artifacts/artifacts',
        'GET /api/2.0/mlflow-artifacts/artifacts/{path}',
        'PUT /api/2.0/mlflow-artifacts/artifacts/{path}',
      ].sort(),
    );
    for (const id of ['TrainRequest', 'PredictRequest', 'PredictResult', 'ModelVersion', 'Error', 'Canary']) {
      expect(doc.components.schemas).toHaveProperty(id);
    }
    const predict = doc.paths['/models/{name}/predict']!['post'] as {
      requestBody: { content: Record<string, unknown> };
    };
    expect(Object.keys(predict.requestBody.content).sort()).toEqual([
      'application/json',
      'multipart/form-data',
      'text/csv',
    ]);
  });

  it('serves Swagger UI from the package (no CDN) and a self-contained reference page', async () => {
    const ui = await request(app).get('/docs').expect(200);
    expect(ui.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(ui.text).not.toMatch(/https?:\/\//);
    const scripts = [...ui.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['docs/swagger-ui-bundle.js', 'docs/init.js']);
    const bundle = await request(app).get('/docs/swagger-ui-bundle.js').expect(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(Number(bundle.headers['content-length'])).toBeGreaterThan(100_000);
    await request(app).get('/docs/package.json').expect(404);
    const res = await request(app).get('/docs/reference').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<!doctype html>');
    expect(res.text).toContain('/models/{name}/predict');
    expect(res.text).toContain('id="schema-PredictResult"');
    expect(res.text).not.toMatch(/<script|https?:\/\/(?!127)/);
  });

  it('answers /health with 200 and echoes a well-formed X-Request-Id', async () => {
    const res = await request(app).get('/health').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    const fresh = await request(app).get('/health').set('X-Request-Id', 'bad id <script>').expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one audit line per prediction with the input hash, the version and the output', async () => {
    const reordered = IRIS_ROWS.map((r) => Object.fromEntries(Object.entries(r).reverse()));
    const a = await request(app)
      .post('/models/iris_clf/predict')
      .set('X-Request-Id', 'audit-1')
      .send({ rows: IRIS_ROWS })
      .expect(200);
    await request(app)
      .post('/models/iris_clf/predict?proba=true')
      .set('X-Request-Id', 'audit-2')
      .send({ rows: reordered })
      .expect(200);
    const csv = (await readFile(irisCsv, 'utf8')).split('\n').slice(0, 3).join('\n');
    await request(app)
      .post('/models/iris_clf/predict?version=1')
      .set('X-Request-Id', 'audit-3')
      .set('Content-Type', 'text/csv')
      .send(csv)
      .expect(200);
    await audit.close();

    const lines = (await readFile(auditPath, 'utf8')).trim().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.map((e) => e.requestId)).toEqual(['audit-1', 'audit-2', 'audit-3']);
    const [first, second, third] = entries as [AuditEntry, AuditEntry, AuditEntry];
    expect(first).toMatchObject({ model: 'iris_clf', version: 1, via: 'stage', rows: 3 });
    expect(first.output.predictions).toEqual(a.body.predictions);
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(first.time)).not.toBeNaN();
    // The hash is over canonical JSON: key order does not change it.
    expect(first.inputSha256).toBe(
      createHash('sha256')
        .update(canonicalJson({ rows: IRIS_ROWS }))
        .digest('hex'),
    );
    expect(second.inputSha256).toBe(first.inputSha256);
    expect(second.output.probabilities).toHaveLength(3);
    expect(third).toMatchObject({ version: 1, via: 'version', rows: 2, inputSha256: inputSha256({ csv }) });
  });

  it('exposes request, latency, prediction and process metrics', async () => {
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /modelreg_http_requests_total\{method="POST",route="\/models\/:name\/predict",status="200"\} 3/,
    );
    expect(res.text).toMatch(
      /modelreg_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/train",status="201"\}/,
    );
    expect(res.text).toMatch(/modelreg_predictions_total\{model="iris_clf",version="1"\} 8/);
    expect(res.text).toContain('modelreg_process_cpu_seconds_total');
  });

  it('answers /health with 503 when the metadata store does not answer', async () => {
    const other = await embeddedBackend();
    const broken = testApp(other.registry);
    await other.registry.close();
    try {
      const res = await request(broken).get('/health').expect(503);
      expect(res.body).toMatchObject({ status: 'unavailable', metadata: { ok: false } });
      expect(res.body.metadata.error).toEqual(expect.any(String));
    } finally {
      await other.cleanup();
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 'é' }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":"é","z":1}]},"b":1}',
    );
  });
});
