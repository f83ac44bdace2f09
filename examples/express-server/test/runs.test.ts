import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { embeddedBackend, seedIrisModel, testApp } from './helpers.js';

interface RunList {
  runs: { id: string; name: string; latestMetrics: Record<string, number> }[];
  nextPageToken: string | null;
}

const expectError = (res: request.Response, status: number, code: string) => {
  expect(res.status, res.text).toBe(status);
  expect((res.body as ErrorAnswer).error.code).toBe(code);
};

/** A GET with the path sent exactly as written (no URL normalization of `..`). */
function rawGet(app: Application, path: string): Promise<{ status: number; body: string }> {
  const server = app.listen(0, '127.0.0.1');
  return new Promise((resolve, reject) => {
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          server.close();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', (e) => {
        server.close();
        reject(e);
      });
      req.end();
    });
  });
}

describe('experiments, runs, metric history, artifacts and model info', () => {
  let backend: TestBackend;
  let app: Application;
  let manualRunId: string;
  let trainedRunId: string;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry, { ui: false });
    await seedIrisModel(app, 'iris_clf', { stage: 'staging' });
    const trained = await backend.registry.searchRuns({ experiment: 'iris' });
    trainedRunId = trained.runs[0]!.id;
    const run = await backend.registry.startRun({ experiment: 'iris', name: 'manual' });
    await run.logParams({ lr: 0.1, optimizer: 'adam' });
    for (const [step, value] of [0.5, 0.7, 0.9].entries()) await run.logMetric('accuracy', value, { step });
    await run.logArtifact('notes/readme.txt', 'hello');
    await run.logArtifact('report.html', '<script>alert(1)</script>');
    await run.end();
    manualRunId = run.id;
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('lists experiments', async () => {
    const res = await request(app).get('/experiments').expect(200);
    expect((res.body as { experiments: { name: string }[] }).experiments.map((e) => e.name)).toEqual([
      'iris',
    ]);
  });

  it('lists the runs of an experiment sorted by a metric, a param or a field, and pages them', async () => {
    const desc = (await request(app).get('/experiments/iris/runs?orderBy=metric:accuracy&direction=desc'))
      .body as RunList;
    expect(desc.runs.map((r) => r.id)).toEqual([trainedRunId, manualRunId]);
    const asc = (await request(app).get('/experiments/iris/runs?orderBy=metric:accuracy&direction=asc'))
      .body as RunList;
    expect(asc.runs.map((r) => r.id)).toEqual([manualRunId, trainedRunId]);
    const byName = (await request(app).get('/experiments/iris/runs?orderBy=name')).body as RunList;
    expect(byName.runs[0]!.name).toBe('manual');
    await request(app).get('/experiments/iris/runs?orderBy=param:lr&direction=desc').expect(200);

    const first = (await request(app).get('/experiments/iris/runs?orderBy=startTime&limit=1'))
      .body as RunList;
    expect(first.runs).toHaveLength(1);
    expect(first.nextPageToken).toEqual(expect.any(String));
    const second = (
      await request(app)
        .get('/experiments/iris/runs')
        .query({ orderBy: 'startTime', limit: 1, pageToken: first.nextPageToken })
    ).body as RunList;
    expect(second.runs.map((r) => r.id)).toEqual([manualRunId]);
    expect(second.nextPageToken).toBeNull();
  });

  it('refuses bad run queries with the registry’s codes', async () => {
    expectError(await request(app).get('/experiments/iris/runs?orderBy=accuracy'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/experiments/iris/runs?direction=up'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/experiments/iris/runs?limit=0'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/experiments/iris/runs?where=x'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/experiments/iris/runs?pageToken=garbage'), 422, 'INVALID_ARGUMENT');
    expectError(await request(app).get('/experiments/nope/runs'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/experiments/..%2fx/runs'), 400, 'INVALID_REQUEST');
  });

  it('answers a run with its artifacts, and the model info when it logged a model', async () => {
    const manual = await request(app).get(`/runs/${manualRunId}`).expect(200);
    expect(manual.body).toMatchObject({
      run: { id: manualRunId, params: { lr: '0.1', optimizer: 'adam' }, latestMetrics: { accuracy: 0.9 } },
      experiment: 'iris',
      model: null,
    });
    expect((manual.body as { artifacts: { path: string }[] }).artifacts.map((a) => a.path).sort()).toEqual([
      'notes/readme.txt',
      'report.html',
    ]);

    const trained = await request(app).get(`/runs/${trainedRunId}`).expect(200);
    const body = trained.body as {
      artifacts: { path: string }[];
      model: { task: string; target: string; signature: { inputs: { name: string }[]; output: unknown } };
    };
    expect(body.artifacts.map((a) => a.path)).toContain('model/MODEL.json');
    expect(body.model.task).toBe('classification');
    expect(body.model.target).toBe('species');
    expect(body.model.signature.inputs.map((i) => i.name)).toEqual([
      'sepal_length_cm',
      'sepal_width_cm',
      'petal_length_cm',
      'petal_width_cm',
    ]);
    expect(body.model.signature.output).toEqual({
      type: 'label',
      classes: ['setosa', 'versicolor', 'virginica'],
    });

    expectError(await request(app).get('/runs/0123456789abcdef0123456789abcdef'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/runs/bad%20id'), 400, 'INVALID_REQUEST');
  });

  it('answers the history of a metric by step', async () => {
    const res = await request(app).get(`/runs/${manualRunId}/metrics/accuracy`).expect(200);
    const { history } = res.body as { history: { step: number; value: number }[] };
    expect(history.map((p) => [p.step, p.value])).toEqual([
      [0, 0.5],
      [1, 0.7],
      [2, 0.9],
    ]);
    const none = await request(app).get(`/runs/${manualRunId}/metrics/loss`).expect(200);
    expect((none.body as { history: unknown[] }).history).toEqual([]);
    expectError(await request(app).get(`/runs/${manualRunId}/metrics/a%20b`), 400, 'INVALID_REQUEST');
  });

  it('streams an artifact as an attachment with its type and sha256', async () => {
    const res = await request(app)
      .get(`/runs/${trainedRunId}/artifacts/model/MODEL.json`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const bytes = res.body as Buffer;
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?MODEL\.json"?$/);
    expect(res.headers['x-artifact-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(Number(res.headers['content-length'])).toBe(bytes.length);
    expect((JSON.parse(bytes.toString('utf8')) as { target: string }).target).toBe('species');

    const text = await request(app).get(`/runs/${manualRunId}/artifacts/notes/readme.txt`).expect(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toBe('hello');
    const html = await request(app).get(`/runs/${manualRunId}/artifacts/report.html`).expect(200);
    expect(html.headers['content-type']).toBe('application/octet-stream');
    expect(html.headers['x-content-type-options']).toBe('nosniff');
  });

  /** A GET that reports how many body bytes arrived and whether the transfer completed. */
  function download(
    path: string,
  ): Promise<{ status: number; length: number; received: number; complete: boolean; body: string }> {
    const server = app.listen(0, '127.0.0.1');
    return new Promise((resolve) => {
      server.once('listening', () => {
        const { port } = server.address() as AddressInfo;
        const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
          const chunks: Buffer[] = [];
          let complete = false;
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (complete = true));
          res.on('close', () => {
            server.close();
            const body = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              length: Number(res.headers['content-length']),
              received: body.length,
              complete: complete && !res.aborted,
              body: body.toString('utf8'),
            });
          });
        });
        req.on('error', () => undefined);
        req.end();
      });
    });
  }

  it('a download whose stored bytes were damaged stops: 500 INTEGRITY before the first byte, a cut transfer after it', async () => {
    const run = await backend.registry.startRun({ experiment: 'iris', name: 'damaged' });
    const small = await run.logArtifact('small.txt', 'hello world');
    // Large enough to be read in several chunks, so the first bytes leave before the damage is seen.
    const big = Buffer.alloc(1 << 20, 7);
    const large = await run.logArtifact('large.bin', big);
    await run.end();
    const { artifacts } = backend.registry.stores;
    await artifacts.put(small.key, 'hello_world');
    const flipped = Buffer.from(big);
    flipped[flipped.length - 1] = 8;
    await artifacts.put(large.key, flipped);

    const early = await download(`/runs/${run.id}/artifacts/small.txt`);
    expect(early.status).toBe(500);
    expect((JSON.parse(early.body) as ErrorAnswer).error.code).toBe('INTEGRITY');

    const late = await download(`/runs/${run.id}/artifacts/large.bin`);
    expect(late.status).toBe(200);
    expect(late.length).toBe(big.length);
    expect(late.complete).toBe(false);
    expect(late.received).toBeLessThan(big.length);
  });

  it('refuses artifact paths that could leave the run, and answers 404 for unknown ones', async () => {
    const run = `/runs/${manualRunId}/artifacts`;
    expectError(await request(app).get(`${run}/..%2f..%2fregistry.db`), 400, 'INVALID_REQUEST');
    expectError(await request(app).get(`${run}/notes%5c..%5creadme.txt`), 400, 'INVALID_REQUEST');
    expectError(await request(app).get(`${run}/%00`), 400, 'INVALID_REQUEST');
    expectError(await request(app).get(`${run}/notes/%252e%252e`), 400, 'INVALID_REQUEST');
    const raw = await rawGet(app, `${run}/../../../${trainedRunId}/artifacts/model/MODEL.json`);
    expect(raw.status).toBe(400);
    expect((JSON.parse(raw.body) as ErrorAnswer).error.code).toBe('INVALID_REQUEST');
    expectError(await request(app).get(`${run}/notes/missing.txt`), 404, 'NOT_FOUND');
    expectError(await request(app).get(`${run}/model/MODEL.json`), 404, 'NOT_FOUND');
    expectError(
      await request(app).get('/runs/0123456789abcdef0123456789abcdef/artifacts/x.txt'),
      404,
      'NOT_FOUND',
    );
  });

  it('answers the model info of a version from its MODEL.json', async () => {
    const res = await request(app).get('/models/iris_clf/versions/1/signature').expect(200);
    expect(res.body).toMatchObject({
      name: 'iris_clf',
      version: 1,
      runId: trainedRunId,
      model: {
        task: 'classification',
        trainer: { name: 'decision-tree' },
        signature: { output: { type: 'label' } },
      },
    });
    expectError(await request(app).get('/models/iris_clf/versions/9/signature'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/models/nope/versions/1/signature'), 404, 'NOT_FOUND');
  });

  it('summarizes models on request: versions per stage, the latest version and the last move', async () => {
    await request(app).put('/models/iris_clf/aliases/champion').send({ version: 1 }).expect(200);
    const plain = await request(app).get('/models').expect(200);
    expect((plain.body as { models: object[] }).models[0]).not.toHaveProperty('summary');
    const res = await request(app).get('/models?summary=true').expect(200);
    expect((res.body as { models: object[] }).models[0]).toMatchObject({
      name: 'iris_clf',
      aliases: { champion: 1 },
      summary: {
        latestVersion: 1,
        stages: { staging: 1 },
        lastChange: { kind: 'alias_set', alias: 'champion', version: 1 },
      },
    });
    expectError(await request(app).get('/models?summary=maybe'), 400, 'INVALID_REQUEST');
  });
});
