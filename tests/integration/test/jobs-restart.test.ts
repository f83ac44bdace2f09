import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelRegistry, Trainer } from '@modelreg/core';
import { defineTrainer, ModelRegistry as Registry } from '@modelreg/core';
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

async function open(dir: string, blocking: boolean): Promise<ModelRegistry> {
  const registry = await Registry.open({ ...devStores(dir), eventPollIntervalMs: 20 });
  registry.registerTrainer(steadyTrainer(blocking));
  opened.push(registry);
  return registry;
}

describe('training jobs survive a restart (embedded queue on SQLite)', () => {
  it('5 jobs queued when the host stops all run once it restarts and calls jobs.start()', async () => {
    const dir = tempDir('jobs-restart');
    const before = await open(dir, true);
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

    const after = await open(dir, false);
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
});
