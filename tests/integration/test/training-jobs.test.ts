import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ModelRegistry, RegistryOptions, Trainer } from '@modelreg/core';
import { defineTrainer, ModelRegistry as Registry } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { devStores, irisCsv, tempDir } from './registries.js';

const csv = readFileSync(irisCsv, 'utf8');

const constantModel = () => ({
  kind: 'steady',
  predict: (_x: Float64Array, nRows: number) => new Float64Array(nRows),
  toJSON: () => ({ constant: 0 }),
});

/** Before the restart the trainer never finishes by itself (the registry's close aborts it); after, it fits at once. */
const steadyTrainer = (blocking: boolean): Trainer =>
  defineTrainer({
    name: 'steady',
    tasks: ['classification'],
    fit: async ({ signal }) => {
      if (blocking) {
        await new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        );
      }
      return constantModel();
    },
    load: () => constantModel(),
  });

const opened: ModelRegistry[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
});

/** Where a registry lives: a folder, plus a Postgres schema for the Postgres backend. */
interface Place {
  dir: string;
  stores: () => Pick<RegistryOptions, 'metadata' | 'artifacts'>;
}

const schemas: string[] = [];
afterAll(async () => {
  if (schemas.length === 0) return;
  const admin = adminPool();
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

const backends: Array<{ name: string; enabled: boolean; place: (prefix: string) => Place }> = [
  {
    name: 'embedded queue on SQLite',
    enabled: true,
    place: (prefix) => {
      const dir = tempDir(prefix);
      return { dir, stores: () => devStores(dir) };
    },
  },
  {
    name: 'embedded queue on Postgres',
    enabled: pgReachable,
    place: (prefix) => {
      const dir = tempDir(prefix);
      const schema = randomSchema('mr_jobs');
      schemas.push(schema);
      return {
        dir,
        stores: () => ({
          metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
          artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
        }),
      };
    },
  },
];

async function open(place: Place, blocking: boolean): Promise<ModelRegistry> {
  const registry = await Registry.open({ ...place.stores(), eventPollIntervalMs: 20 });
  registry.registerTrainer(steadyTrainer(blocking));
  opened.push(registry);
  return registry;
}

describe.each(backends.filter((b) => b.enabled))('training jobs: $name', ({ place }) => {
  it('5 jobs queued when the host stops all run once it restarts and calls jobs.start()', async () => {
    const where = place('jobs-restart');
    const before = await open(where, true);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = await before.jobs.submit({
        dataset: { csv },
        target: 'species',
        model: { type: 'steady' },
        split: { seed: i },
        register: { name: 'steady_iris' },
      });
      ids.push(job.id);
    }
    // Concurrency 1: the first job is running (and never ends by itself), the other four wait.
    await expect
      .poll(async () => (await before.jobs.list({ state: 'running' })).jobs.map((j) => j.id))
      .toEqual([ids[0]]);
    expect((await before.jobs.list({ state: 'queued' })).jobs).toHaveLength(4);
    await before.close();

    const after = await open(where, false);
    const stored = await after.jobs.list();
    expect(stored.jobs.map((j) => j.state)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
    await after.jobs.start();
    const done = await Promise.all(ids.map((id) => after.jobs.wait(id, { timeoutMs: 60_000 })));
    expect(done.map((j) => j.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // The interrupted attempt counted; every job made exactly one version.
    expect(done.map((j) => j.attempts)).toEqual([2, 1, 1, 1, 1]);
    const versions = await after.listVersions('steady_iris');
    expect(versions).toHaveLength(5);
    expect(new Set(done.map((j) => j.result?.version)).size).toBe(5);
    expect(new Set(versions.map((v) => v.runId))).toEqual(new Set(done.map((j) => j.result?.runId)));
  });

  it('a job cancelled through another registry on the same stores stops in the process running it', async () => {
    const where = place('jobs-cancel');
    const runner = await open(where, true);
    const other = await open(where, false);
    const job = await runner.jobs.submit({
      dataset: { csv },
      target: 'species',
      model: { type: 'steady' },
      register: { name: 'steady_iris' },
    });
    await expect.poll(async () => (await other.jobs.get(job.id)).state).toBe('running');
    expect((await other.jobs.cancel(job.id)).state).toBe('cancelled');
    const ended = await runner.jobs.wait(job.id, { timeoutMs: 30_000 });
    expect(ended).toMatchObject({ state: 'cancelled', attempts: 1, result: null });
    // The attempt saw the cancel and gave up: the runner is free for the next job, which runs.
    const next = await runner.jobs.submit({
      dataset: { csv },
      target: 'species',
      model: { type: 'decision-tree' },
      register: { name: 'tree_iris' },
    });
    expect((await runner.jobs.wait(next.id, { timeoutMs: 60_000 })).state).toBe('succeeded');
    expect(await runner.listVersions('steady_iris').catch(() => [])).toEqual([]);
  });
});
