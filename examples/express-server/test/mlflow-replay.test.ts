import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Application } from 'express';
import request from 'supertest';
import type { TestBackend } from './helpers.js';
import { embeddedBackend, testApp } from './helpers.js';

/**
 * The HTTP requests that MLflow's Python client (2.x, `MLFLOW_TRACKING_URI=http://127.0.0.1:8000`,
 * `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`) sends for a training script, replayed
 * request for request. Each is written from MLflow's protos — the message named above each call, in
 * mlflow/protos/service.proto (package mlflow, MlflowService), model_registry.proto
 * (ModelRegistryService) and mlflow_artifacts.proto (MlflowArtifactsService) — and the REST
 * reference: GET requests carry the message's fields as query parameters, the others as a JSON body
 * with proto field names; int64 fields as JSON numbers, model version numbers as strings.
 */

const ADMIN = 'mr_admin-token-for-the-mlflow-replay-test-0000000';
const fixtures = new URL('./fixtures/', import.meta.url);
// A scikit-learn LogisticRegression on iris, as ONNX (fixtures/make-sklearn-onnx.py), and sklearn's predictions.
const onnx = readFileSync(new URL('iris-logreg.onnx', fixtures));
const expected = JSON.parse(readFileSync(new URL('iris-logreg.expected.json', fixtures), 'utf8')) as {
  features: string[];
  rows: number[][];
  predictions: string[];
};

/** The files `mlflow.onnx.log_model(onx, "model", signature=infer_signature(X, y))` writes. */
const modelFiles: Record<string, Buffer> = {
  MLmodel: Buffer.from(`artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_version: 1.16.0
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.4
mlflow_version: 2.9.2
signature:
  inputs: '${JSON.stringify(expected.features.map((name) => ({ type: 'double', name, required: true })))}'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-01-05 10:11:12.123456'
`),
  'model.onnx': onnx,
  'conda.yaml': Buffer.from(
    'channels:\n- conda-forge\ndependencies:\n- python=3.11.4\n- pip\nname: mlflow-env\n',
  ),
  'python_env.yaml': Buffer.from(
    'python: 3.11.4\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n',
  ),
  'requirements.txt': Buffer.from('mlflow==2.9.2\nonnx==1.16.0\nonnxruntime==1.17.0\n'),
};

describe("MLflow's Python client, request for request (replayed from MLflow's protos)", () => {
  let backend: TestBackend;
  let app: Application;
  let basic: string;

  // What the Python client sends with every request: Basic auth with the token as the password.
  const api = (method: 'get' | 'post' | 'patch' | 'delete' | 'put', path: string) =>
    request(app)[method](path).set('Authorization', basic).set('User-Agent', 'mlflow-python-client/2.9.2');
  const get = (rpc: string, query: Record<string, string | string[]>) =>
    api('get', `/api/2.0/mlflow/${rpc}`).query(query);
  const send = (method: 'post' | 'patch' | 'delete', rpc: string, body: Record<string, unknown>) =>
    api(method, `/api/2.0/mlflow/${rpc}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry, { auth: { mode: 'token', adminToken: ADMIN } });
    const made = await request(app)
      .post('/auth/tokens')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ name: 'data-scientist', role: 'editor' })
      .expect(201);
    basic = `Basic ${Buffer.from(`ds:${(made.body as { token: string }).token}`).toString('base64')}`;
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('a training script logs, registers, promotes, aliases, finds and downloads a model; the server serves it', async () => {
    // ---- mlflow.set_experiment("iris-mlflow") ----
    // service.proto GetExperimentByName: GET /mlflow/experiments/get-by-name
    const missing = await get('experiments/get-by-name', { experiment_name: 'iris-mlflow' }).expect(404);
    expect(missing.body).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Could not find experiment with name iris-mlflow',
    });
    // service.proto CreateExperiment: POST /mlflow/experiments/create
    const created = await send('post', 'experiments/create', { name: 'iris-mlflow' }).expect(200);
    const experimentId = (created.body as { experiment_id: string }).experiment_id;
    expect(experimentId).toMatch(/^\d+$/);
    // service.proto GetExperiment: GET /mlflow/experiments/get
    const experiment = await get('experiments/get', { experiment_id: experimentId }).expect(200);
    expect(experiment.body.experiment).toMatchObject({
      experiment_id: experimentId,
      name: 'iris-mlflow',
      lifecycle_stage: 'active',
    });

    // ---- mlflow.start_run(run_name="logreg") ----
    // service.proto CreateRun: POST /mlflow/runs/create
    const started = 1_704_449_472_000;
    const run = await send('post', 'runs/create', {
      experiment_id: experimentId,
      user_id: 'ds',
      start_time: started,
      tags: [
        { key: 'mlflow.user', value: 'ds' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.runName', value: 'logreg' },
      ],
      run_name: 'logreg',
    }).expect(200);
    const info = run.body.run.info as {
      run_id: string;
      run_name: string;
      artifact_uri: string;
      status: string;
    };
    const runId = info.run_id;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(info).toMatchObject({
      run_name: 'logreg',
      status: 'RUNNING',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
    });

    // ---- mlflow.log_param("C", 1.0) ---- service.proto LogParam: POST /mlflow/runs/log-parameter
    await send('post', 'runs/log-parameter', {
      run_id: runId,
      key: 'C',
      value: '1.0',
      run_uuid: runId,
    }).expect(200);
    // ---- mlflow.log_metric("accuracy", v, step=s) ---- service.proto LogMetric: POST /mlflow/runs/log-metric
    for (const [step, value] of [0.9, 0.95, 0.97].entries()) {
      await send('post', 'runs/log-metric', {
        run_id: runId,
        key: 'accuracy',
        value,
        timestamp: started + step,
        step,
        run_uuid: runId,
      }).expect(200);
    }
    // ---- mlflow.set_tag("team", "vision") ---- service.proto SetTag: POST /mlflow/runs/set-tag
    await send('post', 'runs/set-tag', {
      run_id: runId,
      key: 'team',
      value: 'vision',
      run_uuid: runId,
    }).expect(200);

    // ---- mlflow.log_artifact("confusion.txt") ----
    // service.proto GetRun: GET /mlflow/runs/get (the client reads the run's artifact_uri)
    const current = await get('runs/get', { run_id: runId }).expect(200);
    expect(current.body.run.data).toMatchObject({
      params: [{ key: 'C', value: '1.0' }],
      metrics: [{ key: 'accuracy', value: 0.97, step: 2, timestamp: started + 2 }],
    });
    // mlflow_artifacts.proto UploadArtifact: PUT /mlflow-artifacts/artifacts/<path:artifact_path>
    const artifacts = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts`;
    await api('put', `${artifacts}/confusion.txt`)
      .set('Content-Type', 'text/plain')
      .send('50 0 0\n0 47 3\n0 2 48\n')
      .expect(200);

    // ---- mlflow.onnx.log_model(onx, "model", signature=...) ----
    // UploadArtifact for each file of the model folder, then service.proto LogModel: POST /mlflow/runs/log-model
    for (const [file, body] of Object.entries(modelFiles)) {
      await api('put', `${artifacts}/model/${file}`)
        .set('Content-Type', file === 'MLmodel' ? 'text/plain' : 'application/octet-stream')
        .send(body)
        .expect(200);
    }
    const modelJson = JSON.stringify({
      artifact_path: 'model',
      run_id: runId,
      flavors: { onnx: { data: 'model.onnx' } },
    });
    await send('post', 'runs/log-model', { run_id: runId, model_json: modelJson }).expect(200);

    // ---- mlflow.end_run() ---- service.proto UpdateRun: POST /mlflow/runs/update
    const ended = await send('post', 'runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: started + 60_000,
      run_uuid: runId,
    }).expect(200);
    expect(ended.body.run_info).toMatchObject({ run_id: runId, status: 'FINISHED' });

    // ---- mlflow.register_model(f"runs:/{run_id}/model", "iris"), twice ----
    for (const version of ['1', '2']) {
      // model_registry.proto CreateRegisteredModel: POST /mlflow/registered-models/create
      // (the second time RESOURCE_ALREADY_EXISTS, which the client expects and ignores)
      const model = await send('post', 'registered-models/create', { name: 'iris' });
      if (version === '1') expect(model.status).toBe(200);
      else expect([model.status, model.body.error_code]).toEqual([400, 'RESOURCE_ALREADY_EXISTS']);
      // GetRun, then model_registry.proto CreateModelVersion: POST /mlflow/model-versions/create with the
      // runs:/ URI resolved to the run's artifact location
      await get('runs/get', { run_id: runId }).expect(200);
      const source = `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`;
      const mv = await send('post', 'model-versions/create', { name: 'iris', source, run_id: runId }).expect(
        200,
      );
      expect(mv.body.model_version).toMatchObject({
        name: 'iris',
        version,
        source,
        run_id: runId,
        current_stage: 'None',
      });
      // model_registry.proto GetModelVersion: GET /mlflow/model-versions/get (polled until READY)
      const polled = await get('model-versions/get', { name: 'iris', version }).expect(200);
      expect(polled.body.model_version.status).toBe('READY');
    }
    // A source that is not a run of this server is refused the MLflow way.
    const foreign = await send('post', 'model-versions/create', {
      name: 'iris',
      source: 's3://bucket/model',
    }).expect(400);
    expect(foreign.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    // ---- MlflowClient().transition_model_version_stage("iris", v, "Production", archive_existing_versions=True) ----
    // model_registry.proto TransitionModelVersionStage: POST /mlflow/model-versions/transition-stage
    for (const version of ['1', '2']) {
      const moved = await send('post', 'model-versions/transition-stage', {
        name: 'iris',
        version,
        stage: 'Production',
        archive_existing_versions: true,
      }).expect(200);
      expect(moved.body.model_version).toMatchObject({ version, current_stage: 'Production' });
    }
    const archived = await get('model-versions/get', { name: 'iris', version: '1' }).expect(200);
    expect(archived.body.model_version.current_stage).toBe('Archived');

    // ---- set_registered_model_alias("iris", "champion", 2) ----
    // model_registry.proto SetRegisteredModelAlias: POST /mlflow/registered-models/alias
    await send('post', 'registered-models/alias', { name: 'iris', alias: 'champion', version: '2' }).expect(
      200,
    );
    // ---- get_model_version_by_alias("iris", "champion") ----
    // model_registry.proto GetModelVersionByAlias: GET /mlflow/registered-models/alias
    const byAlias = await get('registered-models/alias', { name: 'iris', alias: 'champion' }).expect(200);
    expect(byAlias.body.model_version).toMatchObject({
      version: '2',
      aliases: ['champion'],
      status: 'READY',
    });

    // ---- get_latest_versions("iris", stages=["Production"]) ----
    // model_registry.proto GetLatestVersions: POST /mlflow/registered-models/get-latest-versions
    const latest = await send('post', 'registered-models/get-latest-versions', {
      name: 'iris',
      stages: ['Production'],
    }).expect(200);
    expect(latest.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);

    // ---- search_model_versions("name='iris'") ----
    // model_registry.proto SearchModelVersions: GET /mlflow/model-versions/search
    const searched = await get('model-versions/search', {
      filter: "name='iris'",
      max_results: '10000',
    }).expect(200);
    expect(
      searched.body.model_versions.map((v: { version: string; current_stage: string }) => [
        v.version,
        v.current_stage,
      ]),
    ).toEqual([
      ['2', 'Production'],
      ['1', 'Archived'],
    ]);
    const badFilter = await get('model-versions/search', { filter: "name = 'iris" }).expect(400);
    expect(badFilter.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(badFilter.body.message).toContain('position 8');

    // ---- get_model_version_download_uri("iris", 2) ----
    // model_registry.proto GetModelVersionDownloadUri: GET /mlflow/model-versions/get-download-uri
    const uri = await get('model-versions/get-download-uri', { name: 'iris', version: '2' }).expect(200);
    expect(uri.body).toEqual({ artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model` });

    // ---- mlflow.artifacts.download_artifacts(that uri): list, then download each file ----
    // mlflow_artifacts.proto ListArtifacts: GET /mlflow-artifacts/artifacts?path=
    const listed = await api('get', '/api/2.0/mlflow-artifacts/artifacts')
      .query({ path: `${experimentId}/${runId}/artifacts/model` })
      .expect(200);
    const files = listed.body.files as { path: string; is_dir: boolean; file_size: number }[];
    expect(files.map((f) => f.path)).toEqual(Object.keys(modelFiles).sort());
    // mlflow_artifacts.proto DownloadArtifact: GET /mlflow-artifacts/artifacts/<path:artifact_path>
    for (const f of files) {
      const downloaded = await api('get', `${artifacts}/model/${f.path}`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(Buffer.compare(downloaded.body as Buffer, modelFiles[f.path]!)).toBe(0);
      expect(f).toMatchObject({ is_dir: false, file_size: modelFiles[f.path]!.length });
    }

    // ---- Serving what MLflow logged ----
    const model = await backend.registry.load('models:/iris/Production');
    expect(model.version?.version).toBe(2);
    const records = expected.rows.map((r) => Object.fromEntries(expected.features.map((f, i) => [f, r[i]!])));
    expect(await model.predict(records)).toEqual(expected.predictions);
    const predicted = await request(app)
      .post('/models/iris/predict')
      .set('Authorization', basic)
      .send({ rows: records })
      .expect(200);
    expect(predicted.body.predictions).toEqual(expected.predictions);

    // ---- MlflowClient().rename_registered_model("iris", "iris-v2"): an admin's call ----
    // model_registry.proto RenameRegisteredModel: POST /mlflow/registered-models/rename
    const admin = (rpc: string, body: Record<string, unknown>) =>
      request(app)
        .post(`/api/2.0/mlflow/${rpc}`)
        .set('Authorization', `Bearer ${ADMIN}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
    const byEditor = await send('post', 'registered-models/rename', {
      name: 'iris',
      new_name: 'iris-v2',
    }).expect(403);
    expect(byEditor.body.error_code).toBe('PERMISSION_DENIED');
    const renamed = await admin('registered-models/rename', {
      name: 'iris',
      new_name: 'iris-v2',
    }).expect(200);
    expect(renamed.body.registered_model).toMatchObject({
      name: 'iris-v2',
      aliases: [{ alias: 'champion', version: '2' }],
    });
    // The old name's URIs are gone (the predict cache hears the rename); the new name serves the model.
    await expect(backend.registry.load('models:/iris/Production')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await request(app)
      .post('/models/iris/predict')
      .set('Authorization', basic)
      .send({ rows: records })
      .expect(404);
    const again = await request(app)
      .post('/models/iris-v2/predict')
      .set('Authorization', basic)
      .send({ rows: records })
      .expect(200);
    expect(again.body.predictions).toEqual(expected.predictions);

    // ---- MlflowClient().delete_run(run_id), then search_runs(run_view_type=ViewType.DELETED_ONLY) ----
    // service.proto DeleteRun: POST /mlflow/runs/delete; SearchRuns: POST /mlflow/runs/search
    await admin('runs/delete', { run_id: runId }).expect(200);
    const deletedRun = await get('runs/get', { run_id: runId }).expect(200);
    expect(deletedRun.body.run.info.lifecycle_stage).toBe('deleted');
    const active = await send('post', 'runs/search', {
      experiment_ids: [experimentId],
      max_results: 1000,
    }).expect(200);
    expect(active.body).toEqual({ runs: [] });
    const deleted = await send('post', 'runs/search', {
      experiment_ids: [experimentId],
      run_view_type: 'DELETED_ONLY',
      max_results: 1000,
    }).expect(200);
    expect(deleted.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
  });
});
