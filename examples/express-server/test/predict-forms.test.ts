import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/audit.js';
import { createMemoryAuditSink } from '../src/audit.js';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { embeddedBackend, IRIS_ROWS, seedIrisModel, testApp } from './helpers.js';

const FEATURES = ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'] as const;
const MATRIX = IRIS_ROWS.map((r) => FEATURES.map((f) => r[f]));
const CSV = [FEATURES.join(','), ...MATRIX.map((r) => r.join(','))].join('\n');

const expectError = (res: request.Response, status: number, code: string) => {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect((res.body as ErrorAnswer).error.code).toBe(code);
};

describe('predict over HTTP: every form of input, every selector', () => {
  let backend: TestBackend;
  let app: Application;
  let audit: ReturnType<typeof createMemoryAuditSink>;
  let expected: unknown[];

  beforeAll(async () => {
    backend = await embeddedBackend();
    audit = createMemoryAuditSink();
    app = testApp(backend.registry, { auditLog: audit, limits: { predictRows: 5, auditOutputRows: 2 } });
    await seedIrisModel(app, 'iris_clf', { stage: 'production' });
    await seedIrisModel(app, 'iris_clf', { stage: 'staging', seed: 7 });
    const res = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expected = res.body.predictions as unknown[];
    expect(expected).toHaveLength(3);
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('takes records, input_data.features in signature order, MLflow inputs, dataframe_split and dataframe_records alike', async () => {
    const signature = await request(app).get('/models/iris_clf/versions/1/signature').expect(200);
    expect(signature.body.model.signature.inputs.map((i: { name: string }) => i.name)).toEqual(FEATURES);
    const bodies = [
      { input_data: { features: MATRIX } },
      { inputs: MATRIX },
      { inputs: IRIS_ROWS },
      { dataframe_split: { columns: [...FEATURES], data: MATRIX } },
      { dataframe_records: IRIS_ROWS },
    ];
    for (const body of bodies) {
      const res = await request(app).post('/models/iris_clf/predict').send(body).expect(200);
      expect(res.body, JSON.stringify(body)).toMatchObject({
        version: 1,
        via: 'stage',
        predictions: expected,
      });
    }
  });

  it('refuses a body with no rows or with two forms, and a split row of the wrong width', async () => {
    expectError(
      await request(app).post('/models/iris_clf/predict').send({ stage: 'production' }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS, inputs: MATRIX }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .send({ dataframe_split: { columns: ['a', 'b'], data: [[1]] } }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .send({ input_data: { features: [[1, 2, 3]] } }),
      422,
      'INVALID_ARGUMENT',
    );
  });

  it('version=latest serves the highest version, in the query, the body and a multipart field', async () => {
    const q = await request(app)
      .post('/models/iris_clf/predict?version=latest')
      .send({ rows: IRIS_ROWS })
      .expect(200);
    expect(q.body).toMatchObject({ version: 2, via: 'version' });
    const b = await request(app)
      .post('/models/iris_clf/predict')
      .send({ rows: IRIS_ROWS, version: 'latest' })
      .expect(200);
    expect(b.body).toMatchObject({ version: 2, via: 'version' });
    const m = await request(app)
      .post('/models/iris_clf/predict')
      .field('version', 'latest')
      .attach('file', Buffer.from(CSV), 'rows.csv')
      .expect(200);
    expect(m.body).toMatchObject({ version: 2, via: 'version' });
  });

  it('multipart selector fields are honoured, unknown query and multipart fields are a 400', async () => {
    const m = await request(app)
      .post('/models/iris_clf/predict')
      .field('version', '1')
      .attach('file', Buffer.from(CSV), 'rows.csv')
      .expect(200);
    expect(m.body).toMatchObject({ version: 1, via: 'version', predictions: expected });
    const staged = await request(app)
      .post('/models/iris_clf/predict')
      .field('stage', 'staging')
      .attach('file', Buffer.from(CSV), 'rows.csv')
      .expect(200);
    expect(staged.body).toMatchObject({ version: 2, via: 'stage' });
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .field('verison', '1')
        .attach('file', Buffer.from(CSV), 'rows.csv'),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict?verison=1').send({ rows: IRIS_ROWS }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict?stage=staging')
        .field('version', '1')
        .attach('file', Buffer.from(CSV), 'rows.csv'),
      400,
      'INVALID_REQUEST',
    );
  });

  it('the row limit applies to JSON, a CSV body and a CSV upload alike', async () => {
    const six = [FEATURES.join(','), ...Array.from({ length: 6 }, () => MATRIX[0]!.join(','))].join('\n');
    expectError(
      await request(app).post('/models/iris_clf/predict').set('Content-Type', 'text/csv').send(six),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectError(
      await request(app).post('/models/iris_clf/predict').attach('file', Buffer.from(six), 'six.csv'),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectError(
      await request(app)
        .post('/models/iris_clf/predict')
        .send({ input_data: { features: Array.from({ length: 6 }, () => MATRIX[0]) } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const five = six.split('\n').slice(0, 6).join('\n');
    const ok = await request(app)
      .post('/models/iris_clf/predict')
      .set('Content-Type', 'text/csv')
      .send(five)
      .expect(200);
    expect(ok.body.predictions).toHaveLength(5);
  });

  it('with batching on, concurrent requests get the answers they get alone: own version, own rows, own errors', async () => {
    const batched = testApp(backend.registry, {
      predictBatching: { maxWaitMs: 1 },
      limits: { predictRows: 5 },
    });
    const bodies: Array<{ path: string; body: object }> = [
      { path: '/models/iris_clf/predict', body: { rows: IRIS_ROWS } },
      { path: '/models/iris_clf/predict?stage=staging', body: { rows: IRIS_ROWS.slice(1) } },
      { path: '/models/iris_clf/predict?version=1', body: { inputs: MATRIX.slice(2) } },
      { path: '/models/iris_clf/predict', body: { rows: [{ ...IRIS_ROWS[0], petal_width_cm: 'wide' }] } },
      { path: '/models/iris_clf/predict', body: { rows: [IRIS_ROWS[1]], proba: true } },
      { path: '/models/iris_clf/predict?stage=staging', body: { rows: [IRIS_ROWS[2]] } },
    ];
    const alone: request.Response[] = [];
    for (const { path, body } of bodies) alone.push(await request(app).post(path).send(body));
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(
        bodies.map(({ path, body }) => request(batched).post(path).send(body)),
      );
      together.forEach((res, i) => {
        expect(res.status, res.text).toBe(alone[i]!.status);
        expect(res.body).toEqual(alone[i]!.body);
      });
    }
    expect(alone[3]!.status).toBe(422);
    expect(alone[1]!.body.version).toBe(2);
  });

  it('an audit entry keeps the input as a hash and at most auditOutputRows rows of output', async () => {
    const before = audit.entries.length;
    await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS, proba: true }).expect(200);
    const entry = audit.entries.at(-1) as AuditEntry;
    expect(audit.entries.length).toBe(before + 1);
    expect(entry.rows).toBe(3);
    expect(entry.output.predictions).toEqual(expected.slice(0, 2));
    expect(entry.output.probabilities).toHaveLength(2);
    expect(entry.outputTruncated).toBe(true);
    expect(JSON.stringify(entry)).not.toContain('sepal');
  });
});
