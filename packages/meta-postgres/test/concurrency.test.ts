import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@modelreg/core';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { createPostgresMetadataStore } from '../src/index.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from './pg-env.js';

type Outcome = { ok: true; result: unknown } | { ok: false; code: string; message: string };

interface Child {
  ready: Promise<void>;
  done: Promise<Outcome>;
  go(): void;
}

function startChild(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`child exited with ${code}: ${stderr || stdout}`));
        return;
      }
      resolve(JSON.parse(last) as Outcome);
    });
  });
  const failedEarly = done.then(
    () => undefined,
    (error: unknown) => {
      throw error;
    },
  );
  return {
    ready: Promise.race([
      ready,
      failedEarly.then(() => Promise.reject(new Error('child ended before ready'))),
    ]),
    done,
    go: () => child.stdin.end('go\n'),
  };
}

/** Starts `count` children, waits until every one has its store open, then lets them all go at once. */
async function race(script: string, count: number, args: (i: number) => string[]): Promise<Outcome[]> {
  const children = Array.from({ length: count }, (_, i) => startChild(script, args(i)));
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  return Promise.all(children.map((c) => c.done));
}

describe.skipIf(!pgReachable)('meta-postgres across processes', () => {
  const admin = adminPool();
  let script = '';
  let schema = '';
  let store: MetadataStore;

  beforeAll(async () => {
    script = await bundleForChildProcess(fileURLToPath(new URL('./child/racer.ts', import.meta.url)));
    schema = randomSchema('mr_race');
    store = createPostgresMetadataStore({ connectionString: pgUrl, schema });
    await store.init();
  });

  afterAll(async () => {
    await store?.close();
    if (schema) await dropSchema(admin, schema);
    await admin.end();
  });

  it('8 processes × 25 createVersion on one model get versions 1..200: no duplicate, no gap, no error', async () => {
    await store.createModel({ name: 'counted', description: '', tags: {}, createdAt: Date.now() });
    const outcomes = await race(script, 8, () => [pgUrl, schema, 'versions', 'counted', '25']);

    const all: number[] = [];
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) continue;
      const { versions, errors } = outcome.result as { versions: number[]; errors: string[] };
      expect(errors).toEqual([]);
      expect(versions).toHaveLength(25);
      // Each process sees its own numbers increase.
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      all.push(...versions);
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect((await store.getModel('counted'))?.lastVersion).toBe(200);
    expect((await store.listVersions('counted')).map((v) => v.version)).toEqual(all);
    const created = (await store.readEvents(0, 10_000)).filter((e) => e.type === 'version.created');
    expect(created).toHaveLength(200);
  });

  it('8 processes promoting 8 versions with archiveExisting leave exactly one in production', async () => {
    await store.createModel({ name: 'promoted', description: '', tags: {}, createdAt: Date.now() });
    for (let i = 0; i < 8; i++) {
      await store.createVersion({
        name: 'promoted',
        source: 'test',
        runId: null,
        files: [],
        description: '',
        tags: {},
        stage: 'staging',
        createdAt: Date.now(),
      });
    }
    const outcomes = await race(script, 8, (i) => [pgUrl, schema, 'promote', 'promoted', String(i + 1)]);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);

    const production = await store.listVersions('promoted', { stage: 'production' });
    const archived = await store.listVersions('promoted', { stage: 'archived' });
    expect(production).toHaveLength(1);
    expect(archived).toHaveLength(7);

    const history = (await store.getHistory('promoted')).filter((h) => h.kind === 'stage');
    // Every version was promoted once; every promotion but the first archived the previous winner.
    const promotions = history.filter((h) => h.toStage === 'production');
    expect(promotions.map((h) => h.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(promotions.every((h) => h.fromStage === 'staging')).toBe(true);
    const archivings = history.filter((h) => h.toStage === 'archived');
    expect(archivings).toHaveLength(7);
    expect(archivings.every((h) => h.fromStage === 'production')).toBe(true);
    expect(archivings.map((h) => h.version).sort((a, b) => a - b)).toEqual(
      archived.map((v) => v.version).sort((a, b) => a - b),
    );
    // Replaying the history in order gives the final state: the moves were serialized.
    const replay = new Map<number, string>();
    for (const h of history) {
      if (h.fromStage !== (replay.get(h.version) ?? 'staging'))
        throw new Error(`history out of order at ${h.id}`);
      replay.set(h.version, h.toStage ?? '');
    }
    expect([...replay].filter(([, stage]) => stage === 'production').map(([v]) => v)).toEqual([
      production[0]?.version,
    ]);
  });

  it('8 processes creating the same model: exactly one succeeds, the rest get ALREADY_EXISTS', async () => {
    const outcomes = await race(script, 8, () => [pgUrl, schema, 'create-model', 'contested']);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const failures = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    expect(failures.map((f) => f.code)).toEqual(Array(7).fill('ALREADY_EXISTS'));
    const created = (await store.readEvents(0, 10_000)).filter(
      (e) => e.type === 'model.created' && e.payload.name === 'contested',
    );
    expect(created).toHaveLength(1);
  });
});
