import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { embeddedBackend, seedIrisModel, testApp } from './helpers.js';

/** Every write route of the app, with a path that reaches it. */
const WRITE_ROUTES: Array<[method: 'post' | 'put' | 'patch' | 'delete', path: string]> = [
  ['post', '/datasets'],
  ['post', '/train'],
  ['post', '/models/iris_clf/predict'],
  ['post', '/models/iris_clf/versions/1/stage'],
  ['put', '/models/iris_clf/aliases/champion'],
  ['delete', '/models/iris_clf/aliases/champion'],
  ['post', '/models/iris_clf/canary'],
  ['patch', '/models/iris_clf/canary'],
  ['post', '/models/iris_clf/canary/promote'],
  ['post', '/models/iris_clf/canary/rollback'],
  ['delete', '/models/iris_clf/canary'],
  ['post', '/experiments'],
  ['post', '/runs'],
  ['post', '/runs/abc/log-batch'],
  ['post', '/runs/abc/end'],
  ['put', '/runs/abc/artifacts/notes.txt'],
  ['post', '/models/iris_clf/versions/onnx'],
];

/** The routes whose bodies are JSON only: a form or a text body is not theirs. */
const JSON_ONLY = WRITE_ROUTES.filter(
  ([m, p]) =>
    m !== 'delete' && !['/datasets', '/models/iris_clf/predict'].includes(p) && !p.includes('/artifacts/'),
).filter(([, p]) => !p.endsWith('/versions/onnx'));

const expectError = (res: request.Response, status: number, code: string) => {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect((res.body as ErrorAnswer).error.code).toBe(code);
};

describe('browser safety', () => {
  let backend: TestBackend;
  let app: Application;
  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    await seedIrisModel(app);
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('refuses a write from another site on every write route, whatever its content type, and leaves the registry as it was', async () => {
    const before = await backend.registry.getStageHistory('iris_clf');
    for (const [method, path] of WRITE_ROUTES) {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const agent = request(app);
        const res = await agent[method](path)
          .set('Origin', 'http://evil.example')
          .set('Content-Type', type)
          .send('a=1');
        expectError(res, 403, 'CROSS_ORIGIN');
      }
      expectError(await request(app)[method](path).set('Sec-Fetch-Site', 'cross-site'), 403, 'CROSS_ORIGIN');
      expectError(await request(app)[method](path).set('Origin', 'null'), 403, 'CROSS_ORIGIN');
    }
    expect(await backend.registry.getStageHistory('iris_clf')).toEqual(before);
    expect((await backend.registry.getModel('iris_clf'))?.aliases).toEqual({});
  });

  it('refuses simple-request bodies (text/plain, forms, multipart) on routes that take JSON, even without an Origin', async () => {
    for (const [method, path] of JSON_ONLY) {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await request(app)[method](path).set('Content-Type', type).send('{"stage":"archived"}');
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    }
    expect((await backend.registry.getVersion('iris_clf', 1))?.stage).toBe('production');
  });

  it('serves a same-origin write and a write without an Origin', async () => {
    const host = '127.0.0.1:8000';
    await request(app)
      .put('/models/iris_clf/aliases/champion')
      .set('Host', host)
      .set('Origin', `http://${host}`)
      .send({ version: 1 })
      .expect(200);
    await request(app).delete('/models/iris_clf/aliases/champion').expect(204);
  });

  it('answers only the allowed Host names (loopback by default, any port): DNS rebinding gets 421', async () => {
    for (const host of ['localhost', 'localhost:3000', '127.0.0.1:8000', '[::1]:8000', 'LOCALHOST:1'])
      await request(app).get('/models').set('Host', host).expect(200);
    for (const host of ['evil.example', 'evil.example:8000', '127.0.0.2', 'localhost.evil.example'])
      expectError(await request(app).get('/models').set('Host', host), 421, 'HOST_NOT_ALLOWED');

    const listed = testApp(backend.registry, {
      security: { allowedHosts: ['models.internal', 'api.example:443'] },
    });
    await request(listed).get('/models').set('Host', 'models.internal:8000').expect(200);
    await request(listed).get('/models').set('Host', 'api.example:443').expect(200);
    expectError(await request(listed).get('/models').set('Host', 'api.example:80'), 421, 'HOST_NOT_ALLOWED');
    expectError(await request(listed).get('/models').set('Host', 'localhost'), 421, 'HOST_NOT_ALLOWED');
  });

  it('rate-limits writes per client with 429 JSON, and leaves reads and predictions alone', async () => {
    const limited = testApp(backend.registry, {
      security: { writeRateLimit: { limit: 3, windowMs: 60_000 } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await request(limited).post('/experiments').send({ name: 'rate' })).status);
    }
    expect(statuses).toEqual([201, 200, 200, 429, 429]);
    const refused = await request(limited).post('/experiments').send({ name: 'rate' });
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.headers['ratelimit']).toBeDefined();
    await request(limited).get('/models').expect(200);
    await request(limited)
      .post('/models/iris_clf/predict')
      .send({ rows: [{ sepal_length_cm: 5, sepal_width_cm: 3, petal_length_cm: 1, petal_width_cm: 0.2 }] })
      .expect(200);
  });

  it('sends helmet headers, nosniff included, on JSON answers and errors', async () => {
    for (const res of [await request(app).get('/models'), await request(app).get('/models/nope')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['referrer-policy']).toBe('same-origin');
    }
  });

  it('answers 400 for a path with malformed %-encoding', async () => {
    expectError(await request(app).get('/models/%zz'), 400, 'INVALID_REQUEST');
    expectError(await request(app).get('/models/%E0%A4%A/versions'), 400, 'INVALID_REQUEST');
  });

  it('a store failure is a 500 with the request id, never the driver text', async () => {
    const broken = await embeddedBackend();
    const brokenApp = testApp(broken.registry);
    const metadata = broken.registry.stores.metadata as unknown as Record<string, unknown>;
    const real = metadata['listModels'];
    try {
      // A store error as the guard wraps a driver's: STORE_FAILURE with the driver's message.
      const { RegistryError } = await import('@modelreg/core');
      metadata['listModels'] = () =>
        Promise.reject(
          new RegistryError(
            'STORE_FAILURE',
            'SQLITE_CORRUPT: database disk image is malformed at /srv/x.db',
            {
              where: 'meta-sqlite',
            },
          ),
        );
      const res = await request(brokenApp).get('/models').set('X-Request-Id', 'req-42');
      expectError(res, 500, 'STORE_FAILURE');
      expect(res.body.error.requestId).toBe('req-42');
      expect(res.text).not.toMatch(/SQLITE|malformed|\/srv/);
    } finally {
      metadata['listModels'] = real;
      await broken.cleanup();
    }
  });

  it('refuses an oversized declared Content-Length at once, before the body is sent', async () => {
    const small = testApp(backend.registry, { limits: { jsonBytes: 1000, datasetUploadBytes: 5000 } });
    const server = small.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const [path, type, length] of [
        ['/train', 'application/json', 1001],
        ['/datasets?name=x', 'text/csv', 5001],
        ['/models/iris_clf/versions/1/stage', 'application/json', 10 ** 9],
      ] as const) {
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              path,
              headers: { 'Content-Type': type, 'Content-Length': length },
            },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (body += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          // Headers only: the answer must come without a byte of the body.
          req.flushHeaders();
        });
        expect(answer.status, answer.body).toBe(413);
        expect((JSON.parse(answer.body) as ErrorAnswer).error.code).toBe('PAYLOAD_TOO_LARGE');
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
