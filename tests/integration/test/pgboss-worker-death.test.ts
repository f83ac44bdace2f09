import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '@modelreg/core';
import type { Job } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createPgBossJobQueue } from '@modelreg/queue-pgboss';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { fleetTimings } from './fleet.js';
import { tempDir } from './registries.js';

const breastCancer = readFileSync(
  new URL('../../../packages/core/test/fixtures/datasets/breast_cancer.csv', import.meta.url),
);

/** A worker process whose stdout lines the test follows as they come. */
interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startWorker(bundle: string, args: string[]): Worker {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, lines, exited };
}

async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const admin = adminPool();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await admin.end();
});

/** A fresh fleet: a submitting registry (never runs jobs) and two worker processes, all listening. */
async function openFleet(): Promise<{ registry: ModelRegistry; workers: Worker[]; bossSchema: string }> {
  const schema = randomSchema('mr_it');
  const bossSchema = randomSchema('mr_itboss');
  const root = join(tempDir('fleet'), 'artifacts');
  cleanups.push(
    () => dropSchema(admin, schema),
    () => dropSchema(admin, bossSchema),
  );

  // The submitting side: a serving-like process that never runs jobs.
  const registry = await ModelRegistry.open({
    metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
    artifacts: createFsArtifactStore({ root }),
    jobs: {
      queue: createPgBossJobQueue({ connectionString: pgUrl, schema: bossSchema, ...fleetTimings.queue }),
      ...fleetTimings.registry,
    },
  });
  cleanups.push(() => registry.close());
  await registry.datasets.upload('breast_cancer.csv', breastCancer);

  const bundle = await bundleForChildProcess(new URL('./children/train-worker.ts', import.meta.url).pathname);
  const workers = [0, 1].map(() => startWorker(bundle, [pgUrl, schema, bossSchema, root]));
  cleanups.push(async () => workers.forEach((w) => w.child.exitCode === null && w.child.kill('SIGKILL')));
  await until('both workers listen', () => workers.every((w) => w.lines.includes('ready')) || undefined);

  return { registry, workers, bossSchema };
}

describe.skipIf(!pgReachable)('a fleet of training workers on the pg-boss queue', () => {
  it('2 workers run 20 jobs; one is killed (kill -9) mid-job: all 20 succeed, 20 versions, the killed job took 2 attempts', async () => {
    const { registry, workers, bossSchema } = await openFleet();

    const jobs: Job[] = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(
        await registry.jobs.submit({
          dataset: 'breast_cancer',
          target: 'diagnosis',
          model: { type: 'random-forest', params: { nEstimators: 30, maxDepth: 8 } },
          split: { seed: i },
          register: { name: 'cancer' },
        }),
      );
    }

    // The victim: worker 0, in the middle of a training (its job's stored progress is past the claim).
    const [victim, survivor] = workers as [Worker, Worker];
    const killedJobId = await until('worker 0 is in the middle of a job', async () => {
      const line = victim.lines.findLast((l) => l.startsWith('run '));
      if (!line) return undefined;
      const job = await registry.jobs.get(line.slice(4));
      // Claimed and not past its fit (`queued` until its first progress write, at most 0.5 s later).
      return job.state === 'running' && ['queued', 'reading', 'fitting'].includes(job.progress.phase)
        ? job.id
        : undefined;
    });
    victim.child.kill('SIGKILL');
    const death = await victim.exited;
    expect(death.signal).toBe('SIGKILL');
    const atDeath = await registry.jobs.get(killedJobId);
    expect(atDeath).toMatchObject({ state: 'running', attempts: 1 });

    const finished = await until(
      'all 20 jobs end',
      async () => {
        const all = await Promise.all(jobs.map((j) => registry.jobs.get(j.id)));
        return all.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.state)) ? all : undefined;
      },
      90_000,
    );

    expect(finished.map((j) => [j.id, j.state, j.error])).toEqual(jobs.map((j) => [j.id, 'succeeded', null]));
    const killed = finished.find((j) => j.id === killedJobId)!;
    expect(killed.attempts).toBe(2);
    expect(finished.filter((j) => j.id !== killedJobId).map((j) => j.attempts)).toEqual(Array(19).fill(1));
    // The survivor ran the killed job's retry.
    expect(survivor.lines.filter((l) => l === `run ${killedJobId}`)).toHaveLength(1);

    // Exactly 20 versions, one per job, none from the dead attempt.
    const versions = await registry.listVersions('cancer');
    expect(versions.map((v) => v.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(finished.map((j) => j.result!.version).sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(new Set(finished.map((j) => j.result!.runId)).size).toBe(20);

    // pg-boss saw 20 jobs, all completed: the dead worker's one after one retry.
    const { rows } = await admin.query<{ state: string; retry_count: number; singleton_key: string }>(
      `SELECT state, retry_count, singleton_key FROM "${bossSchema}".job WHERE name = 'modelreg-train'`,
    );
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.state === 'completed')).toBe(true);
    expect(rows.find((r) => r.singleton_key === killedJobId)!.retry_count).toBe(1);

    survivor.child.stdin.write('stop\n');
    expect(await survivor.exited).toMatchObject({ code: 0 });
  });

  it('a worker closed gracefully mid-job gives the job back, and another worker runs it', async () => {
    const { registry, workers } = await openFleet();
    const [leaving, staying] = workers as [Worker, Worker];
    // Trainings long enough that the leaving worker is still in one when it is told to stop:
    // progress reaches the store at most twice a second, and 30-tree jobs could start and end
    // between two writes, so that the wait below never saw one running.
    const submit = (seed: number) =>
      registry.jobs.submit({
        dataset: 'breast_cancer',
        target: 'diagnosis',
        model: { type: 'random-forest', params: { nEstimators: 300, maxDepth: 8 } },
        split: { seed },
        register: { name: 'cancer' },
      });
    const jobs = [await submit(1), await submit(2), await submit(3), await submit(4)];
    const handedBack = await until('the leaving worker is in the middle of a job', async () => {
      const line = leaving.lines.findLast((l) => l.startsWith('run '));
      if (!line) return undefined;
      const job = await registry.jobs.get(line.slice(4));
      // Claimed and not past its fit (`queued` until its first progress write, at most 0.5 s later).
      return job.state === 'running' && ['queued', 'reading', 'fitting'].includes(job.progress.phase)
        ? job.id
        : undefined;
    });
    leaving.child.stdin.write('stop\n');
    expect(await leaving.exited).toMatchObject({ code: 0 });
    const finished = await Promise.all(jobs.map((j) => registry.jobs.wait(j.id, { timeoutMs: 45_000 })));
    expect(finished.map((j) => j.state)).toEqual(Array(4).fill('succeeded'));
    expect(finished.find((j) => j.id === handedBack)!.attempts).toBe(2);
    expect(staying.lines).toContain(`run ${handedBack}`);
    expect((await registry.listVersions('cancer')).map((v) => v.version).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4,
    ]);
    staying.child.stdin.write('stop\n');
    expect(await staying.exited).toMatchObject({ code: 0 });
  });
});
