import type { Application } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBackend } from './helpers.js';
import { IRIS_ROWS, irisCsv, testApp } from './helpers.js';

const ADMIN = 'bootstrap-admin-secret-0123456789abcdef';

interface Created {
  id: string;
  name: string;
  role: string;
  token: string;
}

/**
 * Identity and permissions over HTTP (issue 14, acceptance 1), run once per storage backend: a
 * server with `MODELREG_ADMIN_TOKEN`-style token auth, tokens per role, grants, revocation.
 */
export function describeAuthFlow(label: string, open: () => Promise<TestBackend>): void {
  describe(`permissions over HTTP (${label})`, () => {
    let backend: TestBackend;
    let app: Application;
    const tokens: Record<string, Created> = {};
    const bearer = (who: string) => ({ Authorization: `Bearer ${tokens[who]!.token}` });
    const admin = { Authorization: `Bearer ${ADMIN}` };

    const trainInto = (name: string, auth: Record<string, string>) =>
      request(app)
        .post('/train?wait=true')
        .set(auth)
        .send({
          experiment: 'iris',
          dataset: 'iris',
          target: 'species',
          model: { type: 'decision-tree', params: { maxDepth: 3 } },
          register: { name, stage: 'staging' },
        });

    beforeAll(async () => {
      backend = await open();
      app = testApp(backend.registry, { auth: { mode: 'token', adminToken: ADMIN } });
      for (const [who, body] of Object.entries({
        reader: { name: 'rita', role: 'reader' },
        predictor: { name: 'pete', role: 'predictor' },
        editor: { name: 'eve@example.com', role: 'editor' },
        narrow: { name: 'nora', role: 'editor', models: ['iris_a'] },
      })) {
        const res = await request(app).post('/auth/tokens').set(admin).send(body).expect(201);
        tokens[who] = res.body as Created;
      }
      await request(app).post('/datasets').set(bearer('editor')).attach('file', irisCsv).expect(201);
      for (const name of ['iris_a', 'iris_b']) await trainInto(name, bearer('editor')).expect(201);
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    it('POST /auth/tokens answers the secret once; GET /auth/tokens lists tokens without secrets', async () => {
      expect(tokens['reader']).toMatchObject({ name: 'rita', role: 'reader' });
      expect(tokens['reader']!.token).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);
      const list = await request(app).get('/auth/tokens').set(admin).expect(200);
      const listed = list.body.tokens as Array<Record<string, unknown>>;
      expect(listed.map((t) => t['name'])).toEqual(['rita', 'pete', 'eve@example.com', 'nora']);
      expect(listed.find((t) => t['name'] === 'nora')).toMatchObject({ role: 'editor', models: ['iris_a'] });
      expect(JSON.stringify(list.body)).not.toContain('mr_');
    });

    it('anonymous requests are 401 with a challenge; health and the OpenAPI document stay public', async () => {
      const write = await request(app)
        .post('/models/iris_a/versions/1/stage')
        .send({ stage: 'production' })
        .expect(401);
      expect(write.headers['www-authenticate']).toBe('Bearer realm="modelreg"');
      expect(write.body.error.code).toBe('UNAUTHENTICATED');
      await request(app).get('/models').expect(401);
      await request(app).post('/auth/tokens').send({ name: 'x', role: 'admin' }).expect(401);
      await request(app).get('/health').expect(200);
      await request(app).get('/openapi.json').expect(200);
    });

    it('a bad or malformed token is 401 even on a public path', async () => {
      await request(app).get('/models').set({ Authorization: 'Bearer mr_nope' }).expect(401);
      await request(app).get('/health').set({ Authorization: 'Token abc' }).expect(401);
    });

    it('reader reads; reader and predictor writes are 403; predictor predicts, reader does not', async () => {
      await request(app).get('/models').set(bearer('reader')).expect(200);
      for (const who of ['reader', 'predictor']) {
        const res = await request(app)
          .post('/models/iris_a/versions/1/stage')
          .set(bearer(who))
          .send({ stage: 'production' })
          .expect(403);
        expect(res.body.error.code).toBe('PERMISSION_DENIED');
        await request(app)
          .put('/models/iris_a/aliases/champion')
          .set(bearer(who))
          .send({ version: 1 })
          .expect(403);
        await request(app).post('/datasets').set(bearer(who)).attach('file', irisCsv).expect(403);
        await trainInto('iris_c', bearer(who)).expect(403);
      }
      await request(app)
        .post('/models/iris_a/predict?stage=staging')
        .set(bearer('reader'))
        .send({ rows: IRIS_ROWS })
        .expect(403);
      const predicted = await request(app)
        .post('/models/iris_a/predict?stage=staging')
        .set(bearer('predictor'))
        .send({ rows: IRIS_ROWS })
        .expect(200);
      expect(predicted.body.predictions).toHaveLength(3);
      const models = await request(app).get('/models').set(bearer('reader')).expect(200);
      expect(models.body.models.map((m: { name: string }) => m.name)).toEqual(['iris_a', 'iris_b']);
    });

    it('an editor cannot create, list or revoke tokens', async () => {
      await request(app)
        .post('/auth/tokens')
        .set(bearer('editor'))
        .send({ name: 'x', role: 'admin' })
        .expect(403);
      await request(app).get('/auth/tokens').set(bearer('editor')).expect(403);
      await request(app).delete(`/auth/tokens/${tokens['reader']!.id}`).set(bearer('editor')).expect(403);
    });

    it('an editor narrowed to iris_a moves iris_a but not iris_b', async () => {
      await request(app)
        .post('/models/iris_a/versions/1/stage')
        .set(bearer('narrow'))
        .send({ stage: 'production' })
        .expect(200);
      const denied = await request(app)
        .post('/models/iris_b/versions/1/stage')
        .set(bearer('narrow'))
        .send({ stage: 'production' })
        .expect(403);
      expect(denied.body.error.message).toMatch(/iris_b/);
      await request(app)
        .put('/models/iris_b/aliases/champion')
        .set(bearer('narrow'))
        .send({ version: 1 })
        .expect(403);
      await trainInto('iris_b', bearer('narrow')).expect(403);
      const b = await request(app).get('/models/iris_b/versions').set(bearer('reader')).expect(200);
      expect(b.body.versions.map((v: { stage: string }) => v.stage)).toEqual(['staging']);
    });

    it("the history's actor is the token's principal; a body actor is refused with 400 and changes nothing", async () => {
      const refused = await request(app)
        .put('/models/iris_b/aliases/champion')
        .set(bearer('editor'))
        .send({ version: 1, actor: 'ceo@company.example' })
        .expect(400);
      expect(refused.body.error.message).toMatch(/actor/);
      await request(app)
        .post('/models/iris_b/versions/1/stage')
        .set(bearer('editor'))
        .send({ stage: 'production', actor: 'ceo@company.example', comment: 'approved' })
        .expect(400);
      await request(app)
        .put('/models/iris_b/aliases/champion')
        .set(bearer('editor'))
        .send({ version: 1 })
        .expect(200);
      const history = await request(app).get('/models/iris_b/history').set(bearer('reader')).expect(200);
      const entries = history.body.history as Array<{ kind: string; actor: string }>;
      expect(entries.map((e) => [e.kind, e.actor])).toEqual([
        ['stage', 'eve@example.com'],
        ['alias_set', 'eve@example.com'],
      ]);
    });

    it('HTTP Basic with the token as the password works (what MLflow clients send)', async () => {
      const basic = Buffer.from(`anyone:${tokens['editor']!.token}`).toString('base64');
      const who = await request(app)
        .get('/auth/whoami')
        .set({ Authorization: `Basic ${basic}` })
        .expect(200);
      expect(who.body).toMatchObject({
        name: 'eve@example.com',
        role: 'editor',
        models: null,
        auth: 'token',
      });
      const wrong = Buffer.from('anyone:mr_wrong').toString('base64');
      await request(app)
        .get('/auth/whoami')
        .set({ Authorization: `Basic ${wrong}` })
        .expect(401);
    });

    it('the UI signs in with a token: an HttpOnly, SameSite=Strict session cookie that acts as the token', async () => {
      await request(app).post('/auth/session').send({ token: 'mr_wrong' }).expect(401);
      const signIn = await request(app)
        .post('/auth/session')
        .send({ token: tokens['reader']!.token })
        .expect(200);
      expect(signIn.body).toMatchObject({ name: 'rita', role: 'reader', auth: 'token' });
      const setCookie = String(signIn.headers['set-cookie']);
      expect(setCookie).toMatch(/^modelreg_session=mr_/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      const cookie = setCookie.split(';')[0]!;
      const who = await request(app).get('/auth/whoami').set('Cookie', cookie).expect(200);
      expect(who.body).toMatchObject({ name: 'rita', role: 'reader' });
      // The cookie carries the token's role, no more: a reader's write is 403, not a session bypass.
      await request(app)
        .put('/models/iris_a/aliases/champion')
        .set('Cookie', cookie)
        .send({ version: 1 })
        .expect(403);
      // A revoked token ends the session, and signing out clears the cookie.
      const extra = await request(app)
        .post('/auth/tokens')
        .set(admin)
        .send({ name: 'short', role: 'reader' })
        .expect(201);
      const session = await request(app)
        .post('/auth/session')
        .send({ token: (extra.body as Created).token })
        .expect(200);
      const extraCookie = String(session.headers['set-cookie']).split(';')[0]!;
      await request(app).get('/auth/whoami').set('Cookie', extraCookie).expect(200);
      await request(app)
        .delete(`/auth/tokens/${(extra.body as Created).id}`)
        .set(admin)
        .expect(204);
      await request(app).get('/auth/whoami').set('Cookie', extraCookie).expect(401);
      const out = await request(app).delete('/auth/session').set('Cookie', cookie).expect(204);
      expect(String(out.headers['set-cookie'])).toMatch(/^modelreg_session=;/);
    });

    it('GET /auth/whoami answers any valid token, the bootstrap admin too', async () => {
      const who = await request(app).get('/auth/whoami').set(bearer('narrow')).expect(200);
      expect(who.body).toMatchObject({ name: 'nora', role: 'editor', models: ['iris_a'] });
      const root = await request(app).get('/auth/whoami').set(admin).expect(200);
      expect(root.body).toMatchObject({ name: 'admin', role: 'admin' });
    });

    it('a revoked token is 401 at once; revoking an unknown token is 404', async () => {
      const created = await request(app)
        .post('/auth/tokens')
        .set(admin)
        .send({ name: 'tmp', role: 'reader' })
        .expect(201);
      const auth = { Authorization: `Bearer ${created.body.token as string}` };
      await request(app).get('/models').set(auth).expect(200);
      await request(app)
        .delete(`/auth/tokens/${created.body.id as string}`)
        .set(admin)
        .expect(204);
      await request(app).get('/models').set(auth).expect(401);
      await request(app)
        .delete(`/auth/tokens/tok_${'0'.repeat(24)}`)
        .set(admin)
        .expect(404);
      const list = await request(app).get('/auth/tokens').set(admin).expect(200);
      expect(list.body.tokens.find((t: { id: string }) => t.id === created.body.id).revokedAt).toEqual(
        expect.any(Number),
      );
    });

    it('bad token requests are 400 and create nothing', async () => {
      await request(app).post('/auth/tokens').set(admin).send({ name: 'x', role: 'owner' }).expect(400);
      await request(app)
        .post('/auth/tokens')
        .set(admin)
        .send({ name: 'x', role: 'reader', models: ['iris_a'] })
        .expect(400);
      await request(app)
        .post('/auth/tokens')
        .set(admin)
        .send({ name: 'x', role: 'editor', token: 'mine' })
        .expect(400);
      const list = await request(app).get('/auth/tokens').set(admin).expect(200);
      expect(list.body.tokens.map((t: { name: string }) => t.name)).not.toContain('x');
    });
  });
}
