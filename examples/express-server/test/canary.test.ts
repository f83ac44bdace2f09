import type { Application } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorAnswer, TestBackend } from './helpers.js';
import { IRIS_ROWS, embeddedBackend, seedIrisModel, testApp } from './helpers.js';

const users = Array.from({ length: 60 }, (_, i) => ({ ...IRIS_ROWS[i % 3], user: `user-${i}` }));

describe('canary endpoints', () => {
  let backend: TestBackend;
  let app: Application;

  beforeAll(async () => {
    backend = await embeddedBackend();
    app = testApp(backend.registry);
    await seedIrisModel(app, 'iris_clf', { stage: 'production' });
    await seedIrisModel(app, 'iris_clf', { stage: 'staging', type: 'random-forest', seed: 3 });
  });
  afterEach(async () => {
    await request(app).delete('/models/iris_clf/canary');
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('routes rows with the same stickyKey value to the same version every time', async () => {
    await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: 'production', next: 'staging', weight: 0.5, stickyKey: 'user' })
      .expect(201);
    const first = await request(app).post('/models/iris_clf/predict').send({ rows: users }).expect(200);
    const second = await request(app)
      .post('/models/iris_clf/predict')
      .send({ rows: [...users].reverse() })
      .expect(200);
    expect([...second.body.versions].reverse()).toEqual(first.body.versions);
    expect(new Set(first.body.versions)).toEqual(new Set([1, 2]));
    expect(first.body.version).toBeNull();

    const noKey = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(422);
    expect((noKey.body as ErrorAnswer).error.message).toMatch(/stickyKey field "user"/);
  });

  it('answers probabilities from the version that served each row', async () => {
    await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: 'production', next: 2, weight: 0.5, stickyKey: 'user' })
      .expect(201);
    const res = await request(app)
      .post('/models/iris_clf/predict?proba=true')
      .send({ rows: users })
      .expect(200);
    expect(res.body.probabilities).toHaveLength(users.length);
    for (let i = 0; i < users.length; i++) {
      const pinned = await request(app)
        .post(`/models/iris_clf/predict?version=${res.body.versions[i]}&proba=true`)
        .send({ rows: [users[i]] })
        .expect(200);
      expect(res.body.probabilities[i]).toEqual(pinned.body.probabilities[0]);
      if (i > 6) break;
    }
  });

  it('in shadow mode answers from current only while next sees its share', async () => {
    await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: 'production', next: 2, weight: 1, shadow: true })
      .expect(201);
    const res = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expect(res.body).toMatchObject({ version: 1, versions: [1, 1, 1], via: 'canary' });
    await new Promise((r) => setTimeout(r, 50));
    const stats = await request(app).get('/models/iris_clf/canary').expect(200);
    expect(stats.body).toMatchObject({ shadow: true, current: { rows: 3 }, next: { rows: 3 } });
  });

  it('rollback sends every row to current and keeps the canary; DELETE ends it', async () => {
    await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: 'production', next: 2, weight: 1 })
      .expect(201);
    const toNext = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expect(toNext.body.version).toBe(2);
    const rolled = await request(app).post('/models/iris_clf/canary/rollback').expect(200);
    expect(rolled.body.weight).toBe(0);
    const back = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expect(back.body).toMatchObject({ version: 1, via: 'canary' });
    await request(app).delete('/models/iris_clf/canary').expect(204);
    const plain = await request(app).post('/models/iris_clf/predict').send({ rows: IRIS_ROWS }).expect(200);
    expect(plain.body).toMatchObject({ version: 1, via: 'stage' });
    expect(plain.body.versions).toBeUndefined();
  });

  it('refuses a second canary, unknown models and versions, bad weights and promoting a fixed version', async () => {
    await request(app).post('/models/iris_clf/canary').send({ current: 1, next: 2, weight: 0.2 }).expect(201);
    const twice = await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: 1, next: 2, weight: 0.2 })
      .expect(409);
    expect((twice.body as ErrorAnswer).error.code).toBe('CONFLICT');
    const fixed = await request(app).post('/models/iris_clf/canary/promote').expect(422);
    expect((fixed.body as ErrorAnswer).error.code).toBe('INVALID_ARGUMENT');
    const weight = await request(app).patch('/models/iris_clf/canary').send({ weight: 1.5 }).expect(400);
    expect((weight.body as ErrorAnswer).error.code).toBe('INVALID_REQUEST');
    await request(app).delete('/models/iris_clf/canary').expect(204);

    expect(
      (await request(app).post('/models/nope/canary').send({ current: 1, next: 2, weight: 0.1 })).status,
    ).toBe(404);
    expect(
      (await request(app).post('/models/iris_clf/canary').send({ current: 1, next: 9, weight: 0.1 })).status,
    ).toBe(404);
    expect(
      (await request(app).post('/models/iris_clf/canary').send({ current: 'nowhere', next: 2, weight: 0.1 }))
        .status,
    ).toBe(422);
    expect((await request(app).post('/models/iris_clf/canary').send({ current: 1, next: 2 })).status).toBe(
      400,
    );
    for (const path of ['/models/iris_clf/canary/promote', '/models/iris_clf/canary/rollback']) {
      expect((await request(app).post(path)).status).toBe(404);
    }
    expect((await request(app).get('/models/iris_clf/canary')).status).toBe(404);
    expect((await request(app).delete('/models/iris_clf/canary')).status).toBe(404);
    // The failed starts left nothing behind.
    await request(app).post('/models/iris_clf/canary').send({ current: 1, next: 2, weight: 0 }).expect(201);
  });

  it('promotes an alias-based canary with compare-and-set', async () => {
    await request(app).put('/models/iris_clf/aliases/champion').send({ version: 1 }).expect(200);
    await request(app)
      .post('/models/iris_clf/canary')
      .send({ current: '@champion', next: 2, weight: 0.3 })
      .expect(201);
    const res = await request(app)
      .post('/models/iris_clf/canary/promote')
      .send({ actor: 'ci-bot' })
      .expect(200);
    expect(res.body.promoted).toEqual({ from: 1, to: 2, target: { alias: 'champion' } });
    const model = await request(app).get('/models/iris_clf').expect(200);
    expect(model.body.aliases).toEqual({ champion: 2 });
    const history = await request(app).get('/models/iris_clf/history').expect(200);
    expect(history.body.history.at(-1)).toMatchObject({
      kind: 'alias_set',
      alias: 'champion',
      version: 2,
      fromVersion: 1,
      actor: 'ci-bot',
    });
  });
});
