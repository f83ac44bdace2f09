import type express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '@modelreg/core';
import { openMlflowApp } from './app.js';

/**
 * `runs/log-inputs` as service.proto's LogInputs defines it (`datasets`: DatasetInput { tags:
 * InputTag[], dataset: Dataset { name, digest, source_type, source, schema, profile } }), read back
 * as Run.inputs.dataset_inputs by GetRun and SearchRuns.
 */
describe('MLflow dataset inputs', () => {
  let registry: ModelRegistry;
  let app: express.Application;
  let post: Awaited<ReturnType<typeof openMlflowApp>>['post'];

  beforeEach(async () => {
    ({ registry, app, post } = await openMlflowApp());
  });
  afterEach(async () => {
    await registry.close();
  });

  const iris = {
    name: 'iris',
    digest: 'd41d8cd9',
    source_type: 'local',
    source: '{"uri": "/data/iris.csv"}',
    schema: '{"mlflow_colspec": [{"type": "double", "name": "sepal_length"}]}',
    profile: '{"num_rows": 150}',
  };
  const wine = {
    name: 'wine',
    digest: 'a1b2c3d4',
    source_type: 'http',
    source: '{"url": "https://x/wine.csv"}',
  };

  it('stores each dataset once by name and digest, in the order first logged, and shows them on the run', async () => {
    const experimentId = (await post('experiments/create', { name: 'e' }).expect(200)).body.experiment_id;
    const runId = (await post('runs/create', { experiment_id: experimentId }).expect(200)).body.run.info
      .run_id;
    const training = { key: 'mlflow.data.context', value: 'training' };
    await post('runs/log-inputs', { run_id: runId, datasets: [{ tags: [training], dataset: iris }] }).expect(
      200,
    );
    // The same dataset again (MLflow's client logs it at each autolog call) and a new one.
    await post('runs/log-inputs', {
      run_id: runId,
      datasets: [{ tags: [training], dataset: iris }, { dataset: wine }],
    }).expect(200);
    const expected = [
      { tags: [training], dataset: iris },
      { tags: [], dataset: wine },
    ];
    const got = await request(app).get('/api/2.0/mlflow/runs/get').query({ run_id: runId }).expect(200);
    expect(got.body.run.inputs.dataset_inputs).toEqual(expected);
    const searched = await post('runs/search', { experiment_ids: [experimentId] }).expect(200);
    expect(searched.body.runs[0].inputs.dataset_inputs).toEqual(expected);
    // A run without inputs has none, and no extra tag.
    const other = (await post('runs/create', { experiment_id: experimentId }).expect(200)).body.run.info
      .run_id;
    const plain = await request(app).get('/api/2.0/mlflow/runs/get').query({ run_id: other }).expect(200);
    expect(plain.body.run.inputs.dataset_inputs).toEqual([]);
  });

  it('refuses malformed inputs with INVALID_PARAMETER_VALUE and stores nothing', async () => {
    const experimentId = (await post('experiments/create', { name: 'e' }).expect(200)).body.experiment_id;
    const runId = (await post('runs/create', { experiment_id: experimentId }).expect(200)).body.run.info
      .run_id;
    const bad: unknown[] = [
      'iris',
      [{ tags: [] }],
      [{ dataset: { ...iris, digest: undefined } }],
      [{ dataset: { ...iris, name: 7 } }],
      [{ dataset: { ...iris, digest: 'x'.repeat(37) } }],
      [{ dataset: iris, tags: 'train' }],
    ];
    for (const datasets of bad) {
      const res = await post('runs/log-inputs', { run_id: runId, datasets });
      expect(res.status, JSON.stringify(datasets)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const got = await request(app).get('/api/2.0/mlflow/runs/get').query({ run_id: runId }).expect(200);
    expect(got.body.run.inputs.dataset_inputs).toEqual([]);
    expect((await (await registry.openRun(runId)).listArtifacts()).length).toBe(0);
  });
});
