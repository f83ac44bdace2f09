import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobQueue, ModelRegistry } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { irisCsv, sleep, spawnWorker } from './helpers.js';

/** Stores jobs and runs none: the serving side of a fleet, which only submits. */
const submitOnly: JobQueue = {
  name: 'submit-only',
  enqueue: async () => undefined,
  start: async () => undefined,
  stop: async () => undefined,
};

describe('the worker CLI runs training jobs from the queue (--train-jobs)', () => {
  let dir: string;
  let script: string;
  let registry: ModelRegistry;
  let env: Record<string, string>;

  beforeAll(async () => {
    script = await bundleForChildProcess(fileURLToPath(new URL('../src/worker.ts', import.meta.url)));
    dir = mkdtempSync(join(tmpdir(), 'modelreg-worker-train-'));
    env = { MODELREG_DIR: dir, MODELREG_METADATA_URL: '', MODELREG_ARTIFACTS_URL: '', MODELREG_QUEUE: '' };
    registry = (
      await openRegistryFromEnv(
        { MODELREG_DIR: dir },
        { eventPollIntervalMs: 20, jobs: { queue: submitOnly } },
      )
    ).registry;
  });
  afterAll(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains the jobs another process submitted, logs their events, and stops on SIGTERM', async () => {
    const w = spawnWorker(script, ['--train-jobs', '--concurrency', '2'], env);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await registry.jobs.submit({
        experiment: 'iris',
        dataset: { csv: irisCsv },
        target: 'species',
        model: { type: 'decision-tree', params: { maxDepth: 3 } },
        split: { seed: i },
        register: { name: 'iris_worker' },
      });
      ids.push(job.id);
    }
    for (const id of ids) {
      const done = await registry.jobs.wait(id, { timeoutMs: 60_000 });
      expect(done.state).toBe('succeeded');
      expect(done.result?.model).toBe('iris_worker');
    }
    const versions = await registry.listVersions('iris_worker');
    expect(versions).toHaveLength(3);
    const logged = w.stderr.map((l) => l.value).filter((v) => typeof v === 'object');
    expect(logged.find((v) => v['event'] === 'worker.train_jobs')).toMatchObject({
      queue: 'embedded',
      concurrency: 2,
    });
    // The event feed of the worker may lag a poll behind; wait for its last success line.
    for (let i = 0; i < 100; i++) {
      const done = w.stderr.filter(
        (l) => typeof l.value === 'object' && l.value['event'] === 'job.succeeded',
      ).length;
      if (done >= 3) break;
      await sleep(50);
    }
    const succeeded = w.stderr
      .map((l) => l.value)
      .filter((v): v is Record<string, unknown> => typeof v === 'object' && v['event'] === 'job.succeeded')
      .map((v) => v['id']);
    expect(succeeded.sort()).toEqual([...ids].sort());
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('refuses a bad --concurrency with the usage and exit code 2', async () => {
    const w = spawnWorker(script, ['--train-jobs', '--concurrency', '0'], env);
    expect(await w.exited).toBe(2);
    expect(w.stderr.some((l) => typeof l.value === 'string' && l.value.includes('--train-jobs'))).toBe(true);
  });
});
