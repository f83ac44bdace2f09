import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, seedIrisModel, testApp } from './helpers.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

describe('names that are Object.prototype members over HTTP', () => {
  let backend: TestBackend;
  let app: Application;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    await seedIrisModel(app, 'iris_clf', { stage: 'production' });
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('an unset alias named like a prototype member answers 404 NOT_FOUND, not 500', async () => {
    for (const alias of PROTOTYPE_NAMES) {
      const res = await request(app)
        .post(`/models/iris_clf/predict?alias=${alias}`)
        .send({ rows: IRIS_ROWS.slice(0, 1) });
      expect(res.status, `alias ${alias}: ${res.text}`).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });

  it('a set alias named __proto__ serves predictions', async () => {
    await backend.registry.setAlias('iris_clf', '__proto__', 1);
    const res = await request(app)
      .post('/models/iris_clf/predict?alias=__proto__')
      .send({ rows: IRIS_ROWS.slice(0, 1) });
    expect(res.status, res.text).toBe(200);
  });

  it('train keeps run tags whose keys are prototype names, __proto__ included', async () => {
    const tags = Object.fromEntries(PROTOTYPE_NAMES.map((k) => [k, `t-${k}`]));
    const body = {
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree', params: { maxDepth: 2 } },
      tags,
    };
    const res = await request(app)
      .post('/train?wait=true')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    expect(res.status, res.text).toBe(201);
    const runId = (res.body as { run: { id: string } }).run.id;
    const run = await request(app).get(`/runs/${runId}`).expect(200);
    const got = (run.body as { run: { tags: Record<string, string> } }).run.tags;
    for (const key of PROTOTYPE_NAMES)
      expect(Object.hasOwn(got, key) ? got[key] : undefined).toBe(`t-${key}`);
  });
});
