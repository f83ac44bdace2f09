import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRegistryFromEnv } from '@modelreg/example-config';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { IRIS_ROWS, seedIrisModel, testApp } from './helpers.js';

/**
 * Issue 14, acceptance 3: two server processes share a registry; a canary set through one is served
 * by the other, the routing counts on both follow the weight, a restart of both keeps it, and a
 * promote through one is seen by the other. On SQLite, and on Postgres with MODELREG_TEST_PG_URL.
 */

interface Replica {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
}

function startReplica(bundle: string, env: Record<string, string>): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], {
      env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve({ url: (JSON.parse(line) as { url: string }).url, child, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`replica exited with ${code} before listening: ${err}`)));
  });
}

function stopReplica(replica: Replica): Promise<void> {
  return new Promise((resolve) => {
    if (replica.child.exitCode !== null) return resolve();
    replica.child.once('exit', () => resolve());
    replica.child.kill('SIGTERM');
  });
}

async function call(
  base: string,
  method: 'get' | 'post' | 'patch' | 'delete',
  path: string,
  body?: object,
): Promise<request.Response> {
  const req = request(base)[method](path);
  return body === undefined ? req : req.send(body);
}

interface Served {
  model: string;
  revision: number;
  weight: number;
  current: { version: number | null };
  next: { version: number | null };
}
const servedOf = async (base: string): Promise<Served[]> =>
  (await call(base, 'get', '/health')).body.deployments as Served[];

/** Polls `/health` of `base` until `check` holds; returns how long it took in ms. */
async function waitForHealth(base: string, check: (d: Served[]) => boolean): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (check(await servedOf(base))) return performance.now() - t0;
    if (performance.now() - t0 > 10_000) {
      throw new Error(`${base}/health never matched: ${JSON.stringify(await servedOf(base))}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ROWS = Array.from({ length: 100 }, (_, i) => IRIS_ROWS[i % IRIS_ROWS.length]!);

/** Sends 1,000 rows in 10 requests; returns the share that version 2 (next) served. */
async function nextShare(base: string): Promise<number> {
  let next = 0;
  for (let i = 0; i < 10; i++) {
    const res = await call(base, 'post', '/models/iris_clf/predict', { rows: ROWS });
    expect(res.status).toBe(200);
    expect(res.body.via).toBe('canary');
    next += (res.body.versions as number[]).filter((v) => v === 2).length;
  }
  return next / 1000;
}

function sharedDeploymentTests(
  label: string,
  backend: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>,
  enabled = true,
) {
  describe.skipIf(!enabled)(`shared deployments across two server processes (${label})`, () => {
    let bundle: string;
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    let replicas: Replica[] = [];

    beforeAll(async () => {
      bundle = await bundleForChildProcess(fileURLToPath(new URL('./children/replica.ts', import.meta.url)));
      ({ env, cleanup } = await backend());
      // Seed version 1 (production) and version 2 (staging) in this process, then let go of the registry.
      const { registry } = await openRegistryFromEnv(env);
      try {
        const app = testApp(registry);
        await seedIrisModel(app, 'iris_clf', { stage: 'production' });
        await seedIrisModel(app, 'iris_clf', { stage: 'staging', type: 'random-forest', seed: 3 });
      } finally {
        await registry.close();
      }
      replicas = await Promise.all([startReplica(bundle, env), startReplica(bundle, env)]);
    }, 120_000);

    afterAll(async () => {
      await Promise.all(replicas.map(stopReplica));
      await cleanup?.();
    });

    it('a canary set through one replica is served by the other, and both route by the weight', async () => {
      const [a, b] = replicas.map((r) => r.url) as [string, string];
      expect(await servedOf(b)).toEqual([]);
      const created = await call(a, 'post', '/models/iris_clf/canary', {
        current: 'production',
        next: 'staging',
        weight: 0.3,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ revision: 1, weight: 0.3, mode: 'canary' });
      // Served: the deployment is known and both arms have loaded their versions.
      const ms = await waitForHealth(
        b,
        (d) =>
          d.length === 1 && d[0]!.weight === 0.3 && d[0]!.current.version === 1 && d[0]!.next.version === 2,
      );
      console.info(
        `[shared deployments, ${label}] a canary set on A was served by B after ${ms.toFixed(0)} ms`,
      );
      expect(await servedOf(b)).toMatchObject([
        { model: 'iris_clf', revision: 1, weight: 0.3, current: { version: 1 }, next: { version: 2 } },
      ]);
      for (const base of [a, b]) {
        const share = await nextShare(base);
        expect(share).toBeGreaterThan(0.24);
        expect(share).toBeLessThan(0.36);
        const stats = await call(base, 'get', '/models/iris_clf/canary');
        expect(stats.body.current.rows + stats.body.next.rows).toBe(1000);
      }

      // A weight change through B is followed by A.
      const patched = await call(b, 'patch', '/models/iris_clf/canary', { weight: 0.8 });
      expect(patched.body).toMatchObject({ revision: 2, weight: 0.8 });
      const back = await waitForHealth(a, (d) => d[0]?.weight === 0.8);
      console.info(
        `[shared deployments, ${label}] a weight set on B was applied by A after ${back.toFixed(0)} ms`,
      );
      const share = await nextShare(a);
      expect(share).toBeGreaterThan(0.74);
      expect(share).toBeLessThan(0.86);
    });

    it('a restart of both replicas keeps the deployment', async () => {
      await Promise.all(replicas.map(stopReplica));
      replicas = await Promise.all([startReplica(bundle, env), startReplica(bundle, env)]);
      for (const { url } of replicas) {
        await waitForHealth(
          url,
          (d) => d.length === 1 && d[0]!.next.version === 2 && d[0]!.current.version === 1,
        );
        expect(await servedOf(url)).toMatchObject([{ model: 'iris_clf', revision: 2, weight: 0.8 }]);
        const stored = await call(url, 'get', '/models/iris_clf/canary');
        expect(stored.body).toMatchObject({ revision: 2, weight: 0.8, current: { ref: 'production' } });
        const share = await nextShare(url);
        expect(share).toBeGreaterThan(0.74);
        expect(share).toBeLessThan(0.86);
      }
    });

    it('a promote through one replica is seen by the other; a stale revision is 409', async () => {
      const [a, b] = replicas.map((r) => r.url) as [string, string];
      const stale = await call(b, 'post', '/models/iris_clf/canary/promote', { ifRevision: 1 });
      expect(stale.status).toBe(409);
      const promoted = await call(a, 'post', '/models/iris_clf/canary/promote', { comment: 'forest wins' });
      expect(promoted.status).toBe(200);
      expect(promoted.body.promoted).toEqual({ from: 1, to: 2, target: { stage: 'production' } });
      const ms = await waitForHealth(b, (d) => d.length === 0);
      console.info(`[shared deployments, ${label}] a promote on A was seen by B after ${ms.toFixed(0)} ms`);
      const served = await call(b, 'post', '/models/iris_clf/predict', { rows: ROWS });
      expect(served.body).toMatchObject({ version: 2, via: 'stage' });
      expect((await call(b, 'get', '/models/iris_clf/canary')).status).toBe(404);
      const history = await call(b, 'get', '/models/iris_clf/history');
      expect(history.body.history.at(-2)).toMatchObject({
        version: 2,
        toStage: 'production',
        comment: 'forest wins',
      });
    });
  });
}

sharedDeploymentTests('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-replicas-'));
  return { env: { MODELREG_DIR: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// pg-env fails in CI when Postgres is unreachable, and warns loudly elsewhere.
const pg = await import('../../../test-utils/pg-env.js');
sharedDeploymentTests(
  'Postgres',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelreg-replicas-pg-'));
    const schema = pg.randomSchema('mr_replicas');
    return {
      env: { MODELREG_DIR: dir, MODELREG_METADATA_URL: pg.pgUrl, MODELREG_PG_SCHEMA: schema },
      cleanup: async () => {
        const pool = pg.adminPool(1);
        try {
          await pg.dropSchema(pool, schema);
        } finally {
          await pool.end();
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  pg.pgReachable,
);
