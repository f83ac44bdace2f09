import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { Application } from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, energyCsv, seedIrisModel, testApp } from './helpers.js';

/** Asserts a JSON error answer with `status` and `code`. */
function expectError(res: Response, status: number, code: string): ErrorAnswer {
  expect({ status: res.status, code: (res.body as ErrorAnswer)?.error?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.body as ErrorAnswer;
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

describe('bad requests get JSON errors with the right status and code', () => {
  let backend: TestBackend;
  let app: Application;
  /** The same registry behind tiny limits. */
  let small: Application;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    small = testApp(backend.registry, {
      limits: { jsonBytes: 1024, datasetUploadBytes: 2048, predictCsvBytes: 512, predictRows: 5 },
    });
    await seedIrisModel(app);
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('415 for a content type the endpoint does not take', async () => {
    expectError(
      await request(app).post('/train?wait=true').set('Content-Type', 'text/plain').send('hi'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(await request(app).post('/datasets').send({ rows: [] }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .set('Content-Type', 'application/xml')
        .send('<rows/>'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await request(app).post('/models/iris_clf/versions/1/stage').type('form').send('stage=production'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('400 for malformed JSON', async () => {
    const body = expectError(
      await request(app)
        .post('/train?wait=true')
        .set('Content-Type', 'application/json')
        .send('{"experiment":'),
      400,
      'MALFORMED_BODY',
    );
    expect(body.error.message).toMatch(/JSON/);
    expectError(
      await request(app).post('/models/iris_clf/predict').set('Content-Type', 'application/json').send('[1,'),
      400,
      'MALFORMED_BODY',
    );
  });

  it('413 for bodies, uploads and row counts over the limits', async () => {
    const big = {
      experiment: 'x',
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree' },
      runName: 'x'.repeat(2000),
    };
    expectError(await request(small).post('/train?wait=true').send(big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await request(small).post('/datasets').attach('file', energyCsv), 413, 'PAYLOAD_TOO_LARGE');
    const energy = await readFile(energyCsv, 'utf8');
    expectError(
      await request(small).post('/datasets?name=energy').set('Content-Type', 'text/csv').send(energy),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const rows = Array.from({ length: 6 }, () => IRIS_ROWS[0]);
    expectError(
      await request(small).post('/models/iris_clf/predict').send({ rows }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const csv = [
      'sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm',
      ...Array(60).fill('5.1,3.5,1.4,0.2'),
    ].join('\n');
    expectError(
      await request(small).post('/models/iris_clf/predict').set('Content-Type', 'text/csv').send(csv),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    // Nothing was stored by the refused uploads.
    const datasets = await request(app).get('/datasets').expect(200);
    expect(datasets.body.datasets.map((d: { name: string }) => d.name)).toEqual(['iris']);
  });

  it('413 for a chunked text/csv upload without Content-Length that grows past the limit', async () => {
    const server = small.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/datasets?name=chunked',
            headers: { 'Content-Type': 'text/csv' },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write('a,b\n');
        for (let i = 0; i < 400; i++) req.write(`${i},${i * 2}\n`);
        req.end();
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await request(app).get('/datasets/chunked').expect(404);
  });

  it('404 for unknown models, versions, datasets and routes', async () => {
    expectError(await request(app).post('/models/nope/predict').send({ rows: IRIS_ROWS }), 404, 'NOT_FOUND');
    expectError(await request(app).get('/models/nope'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/models/nope/versions'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/models/nope/history'), 404, 'NOT_FOUND');
    expectError(await request(app).get('/models/iris_clf/versions/99'), 404, 'NOT_FOUND');
    expectError(
      await request(app).post('/models/iris_clf/predict?version=99').send({ rows: IRIS_ROWS }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict?stage=staging').send({ rows: IRIS_ROWS }),
      404,
      'NOT_FOUND',
    );
    expectError(await request(app).get('/datasets/nope'), 404, 'NOT_FOUND');
    expectError(
      await request(app)
        .post('/train?wait=true')
        .send({ dataset: 'nope', target: 'y', model: { type: 'decision-tree' } }),
      404,
      'NOT_FOUND',
    );
    expectError(await request(app).get('/no/such/route'), 404, 'ROUTE_NOT_FOUND');
    expectError(await request(app).get('/train'), 404, 'ROUTE_NOT_FOUND');
  });

  it('422 for a CSV the catalog cannot read, and for prediction input that does not fit the model', async () => {
    const ragged = 'a,b,c\n1,2,3\n4,5\n';
    expectError(
      await request(app)
        .post('/datasets')
        .attach('file', Buffer.from(ragged), { filename: 'ragged.csv', contentType: 'text/csv' }),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app)
        .post('/datasets')
        .attach('file', Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'binary.csv'),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .set('Content-Type', 'text/csv')
        .send('sepal_length_cm,other\n1,2\n'),
      422,
      'INVALID_ARGUMENT',
    );
    const missing = expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .send({ rows: [{ sepal_length_cm: 5 }] }),
      422,
      'INVALID_ARGUMENT',
    );
    expect(missing.error.message).toMatch(/sepal_width_cm/);
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .send({ rows: [{ ...IRIS_ROWS[0], sepal_width_cm: 'wide' }] }),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app)
        .post('/train?wait=true')
        .send({ dataset: 'iris', target: 'nope', model: { type: 'decision-tree' } }),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app)
        .post('/train?wait=true')
        .send({ dataset: 'iris', target: 'species', model: { type: 'svm' } }),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app).post('/models/iris_clf/versions/1/stage').send({ stage: 'nowhere' }),
      422,
      'INVALID_ARGUMENT',
    );
    expectError(
      await request(app).put('/models/iris_clf/aliases/latest').send({ version: 1 }),
      422,
      'INVALID_ARGUMENT',
    );
  });

  it('422 UNSUPPORTED for probabilities of a regressor', async () => {
    await request(app).post('/datasets').attach('file', energyCsv).expect(201);
    await request(app)
      .post('/train?wait=true')
      .send({
        dataset: 'energy_load',
        target: 'target',
        model: { type: 'decision-tree', params: { maxDepth: 3 } },
        register: { name: 'energy', stage: 'production' },
      })
      .expect(201);
    const row = {
      timestamp: '2024-01-01T00:00:00Z',
      hour: 0,
      day_of_week: 1,
      temperature_c: -7.9,
      humidity_pct: 90,
      wind_speed_ms: 5,
      pressure_hpa: 1020,
      is_holiday: false,
    };
    const ok = await request(app)
      .post('/models/energy/predict')
      .send({ rows: [row] })
      .expect(200);
    expect(typeof ok.body.predictions[0]).toBe('number');
    expectError(
      await request(app)
        .post('/models/energy/predict?proba=true')
        .send({ rows: [row] }),
      422,
      'UNSUPPORTED',
    );
  });

  it('400 for invalid names and request shapes', async () => {
    const bad = expectError(await request(app).get('/models/bad%20name'), 400, 'INVALID_REQUEST');
    expect(bad.error.details?.['issues']).toBeInstanceOf(Array);
    expectError(await request(app).get('/models/..'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/models/%2E%2E'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get(`/models/${'x'.repeat(129)}`), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/models/iris_clf/versions/0'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/models/iris_clf/versions/one'), 400, 'INVALID_REQUEST');
    expectError(
      await request(app)
        .post('/train?wait=true')
        .send({
          dataset: 'iris',
          target: 'species',
          model: { type: 'decision-tree' },
          register: { name: 'bad name' },
        }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/train?wait=true').send({ dataset: 'iris', target: 'species' }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/train?wait=true')
        .send({ dataset: 'iris', target: 'species', model: { type: 'decision-tree' }, typo: 1 }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict').send({ rows: [] }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict').send([IRIS_ROWS[0]]),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict?version=1')
        .send({ rows: IRIS_ROWS, stage: 'production' }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict?proba=maybe').send({ rows: IRIS_ROWS }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict?stage=a/b').send({ rows: IRIS_ROWS }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict').attach('other', Buffer.from('a\n1')),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).put('/models/iris_clf/aliases/champion').send({ version: 'one' }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/datasets?name=x')
        .set('Content-Type', 'multipart/form-data; boundary=zz')
        .send('garbage'),
      400,
      'MALFORMED_BODY',
    );
  });

  it('keeps serving after all of that, and counts the errors by code', async () => {
    await request(app).get('/health').expect(200);
    const res = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expect(res.body.predictions).toEqual(['setosa', 'virginica', 'versicolor']);
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/modelreg_http_errors_total\{code="NOT_FOUND"\} \d+/);
    expect(metrics.text).toMatch(/modelreg_http_errors_total\{code="INVALID_REQUEST"\} \d+/);
    expect(metrics.text).toMatch(
      /modelreg_http_requests_total\{method="GET",route="\(unmatched\)",status="404"\} \d+/,
    );
  });
});
