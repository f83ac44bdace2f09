import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryArtifactStore, createMemoryMetadataStore, ModelRegistry } from '@modelreg/core';
import { createMlflowRouter, mlflowOperations } from '../src/index.js';

describe('createMlflowRouter', () => {
  let registry: ModelRegistry;
  let app: express.Application;
  beforeAll(async () => {
    registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
    app = express().use(createMlflowRouter({ registry }));
  });
  afterAll(async () => {
    await registry.close();
  });

  it('serves every listed operation (an empty request is refused by the operation, never ENDPOINT_NOT_FOUND or 501)', async () => {
    for (const op of mlflowOperations) {
      const path = `/api/2.0${op.path.replace('{path}', '0/nope/artifacts/x')}`;
      const res = await request(app)[op.method.toLowerCase() as 'get'](path);
      expect([op.method, op.path, res.body.error_code]).not.toEqual([
        op.method,
        op.path,
        'ENDPOINT_NOT_FOUND',
      ]);
      expect(res.status, `${op.method} ${op.path}`).toBeLessThan(500);
    }
  });

  it('answers the ajax-api prefix too, and unknown endpoints as MLflow does', async () => {
    const listed = await request(app).get('/ajax-api/2.0/mlflow/experiments/list').expect(200);
    const api = await request(app).get('/api/2.0/mlflow/experiments/list').expect(200);
    expect(listed.body).toEqual(api.body);
    const unknown = await request(app).post('/api/2.0/mlflow/runs/fly').expect(404);
    expect(unknown.body).toEqual({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: 'No MLflow endpoint POST /api/2.0/mlflow/runs/fly',
    });
    const malformed = await request(app)
      .post('/api/2.0/mlflow/runs/create')
      .set('Content-Type', 'application/json')
      .send('{"experiment_id": ')
      .expect(400);
    expect(malformed.body.error_code).toBe('BAD_REQUEST');
  });

  it('experiment 0 is the Default experiment; ids are digits; log-batch keeps MLflow limits', async () => {
    const run = await request(app)
      .post('/api/2.0/mlflow/runs/create')
      .send({ experiment_id: '0' })
      .expect(200);
    expect(run.body.run.info.experiment_id).toBe('0');
    const id = run.body.run.info.run_id as string;
    const bad = await request(app)
      .get('/api/2.0/mlflow/experiments/get')
      .query({ experiment_id: 'abc' })
      .expect(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const metrics = Array.from({ length: 1001 }, (_, i) => ({
      key: `m${i}`,
      value: i,
      timestamp: 1,
      step: 0,
    }));
    const tooMany = await request(app)
      .post('/api/2.0/mlflow/runs/log-batch')
      .send({ run_id: id, metrics })
      .expect(400);
    expect(tooMany.body.message).toContain('at most 1000 metrics');
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    await request(app).post('/api/2.0/mlflow/runs/log-batch').send({ run_id: id, params }).expect(400);
    const total = await request(app)
      .post('/api/2.0/mlflow/runs/log-batch')
      .send({ run_id: id, metrics: metrics.slice(0, 950), params: params.slice(0, 51) })
      .expect(400);
    expect(total.body.message).toContain('in total');
    expect((await registry.getRun(id))?.latestMetrics).toEqual({});
    // The same key at two steps in one batch: both points are kept.
    await request(app)
      .post('/api/2.0/mlflow/runs/log-batch')
      .send({
        run_id: id,
        metrics: [
          { key: 'loss', value: 2, timestamp: 5, step: 0 },
          { key: 'loss', value: 1, timestamp: 6, step: 1 },
        ],
        params: [{ key: 'a', value: '1' }],
      })
      .expect(200);
    expect((await registry.getMetricHistory(id, 'loss')).map((p) => p.value)).toEqual([2, 1]);
    const changed = await request(app)
      .post('/api/2.0/mlflow/runs/log-parameter')
      .send({ run_id: id, key: 'a', value: '2' })
      .expect(400);
    expect(changed.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('proxied uploads stream into the artifact store with sha256; a refused one is answered after its body', async () => {
    const small = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
    const limited = express().use(createMlflowRouter({ registry: small, artifactUploadBytes: 1000 }));
    try {
      const run = await request(limited)
        .post('/api/2.0/mlflow/runs/create')
        .send({ experiment_id: '0' })
        .expect(200);
      const root = `/api/2.0/mlflow-artifacts/artifacts/0/${run.body.run.info.run_id as string}/artifacts`;
      await request(limited)
        .put(`${root}/a/b.json`)
        .set('Content-Type', 'application/json')
        .send('{"x": 1}')
        .expect(200);
      const [file] = await (await small.openRun(run.body.run.info.run_id as string)).listArtifacts();
      expect(file).toMatchObject({ path: 'a/b.json', size: 8 });
      expect(file!.sha256).toMatch(/^[0-9a-f]{64}$/);
      const again = await request(limited).put(`${root}/a/b.json`).send(Buffer.alloc(500)).expect(400);
      expect(again.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      const big = await request(limited).put(`${root}/big.bin`).send(Buffer.alloc(5000)).expect(429);
      expect(big.body.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
      const listed = await request(limited)
        .get('/api/2.0/mlflow-artifacts/artifacts')
        .query({ path: root.slice('/api/2.0/mlflow-artifacts/artifacts/'.length) })
        .expect(200);
      expect(listed.body.files).toEqual([{ path: 'a', is_dir: true }]);
      // Only recorded paths are served; a path that could escape is refused before any write.
      await request(limited).get(`${root}/..%2F..%2Fsecret`).expect(404);
      const escape = await request(limited).put(`${root}/..%2F..%2Fsecret`).send('x').expect(400);
      expect(escape.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      const wrongExperiment = await request(limited)
        .get(`/api/2.0/mlflow-artifacts/artifacts/7/${run.body.run.info.run_id as string}/artifacts/a/b.json`)
        .expect(404);
      expect(wrongExperiment.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    } finally {
      await small.close();
    }
  });
});
