import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Job, JobQueue } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { irisCsv } from './helpers.js';

/** Stores jobs and runs none (a process that only submits while the server is down). */
const submitOnly: JobQueue = {
  name: 'submit-only',
  enqueue: async () => undefined,
  start: async () => undefined,
  stop: async () => undefined,
};

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts the built server as a real process on a free port; resolves once it listens. */
function startChild(script: string, dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MODELREG_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) resolve({ proc, url: entry.url, exited });
      } catch {
        // not a log line
      }
    });
    void exited.then((code) =>
      reject(new Error(`the server exited with ${code} before listening: ${stderr}`)),
    );
  });
}

async function stopChild(child: Child): Promise<number | null> {
  child.proc.kill('SIGTERM');
  return child.exited;
}

const trainRequest = (seed: number) => ({
  experiment: 'iris',
  dataset: 'iris',
  target: 'species',
  model: { type: 'decision-tree', params: { maxDepth: 3 } },
  split: { testSize: 0.2, seed },
  register: { name: 'iris_restart' },
});

describe('a restarted server runs the jobs that were queued (issue 13, acceptance 4)', () => {
  let dir: string;
  let script: string;
  const children: Child[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelreg-restart-'));
    script = await bundleForChildProcess(fileURLToPath(new URL('../src/server.ts', import.meta.url)));
  });
  afterAll(async () => {
    for (const child of children) if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('5 jobs queued while the server was down, and the jobs it gave back at SIGTERM, all run once after the restart', async () => {
    const first = await startChild(script, dir);
    children.push(first);
    const upload = await fetch(`${first.url}/datasets?name=iris`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: await readFile(irisCsv),
    });
    expect(upload.status).toBe(201);
    // Jobs submitted over HTTP; SIGTERM right after: the server gives back what it was running.
    const posted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${first.url}/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(trainRequest(i)),
      });
      expect(res.status).toBe(202);
      posted.push(((await res.json()) as { job: Job }).job.id);
    }
    expect(await stopChild(first)).toBe(0);

    // While the server is down, another process queues 5 more jobs in the same store.
    const { registry: submitter } = await openRegistryFromEnv(
      { MODELREG_DIR: dir },
      { jobs: { queue: submitOnly } },
    );
    const queued: string[] = [];
    for (let i = 0; i < 5; i++) queued.push((await submitter.jobs.submit(trainRequest(10 + i))).id);
    for (const id of queued) expect((await submitter.jobs.get(id)).state).toBe('queued');
    await submitter.close();

    const second = await startChild(script, dir);
    children.push(second);
    const all = [...posted, ...queued];
    const deadline = Date.now() + 120_000;
    let jobs: Job[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${second.url}/jobs?limit=100`);
      jobs = ((await res.json()) as { jobs: Job[] }).jobs;
      if (all.every((id) => jobs.find((j) => j.id === id)?.state === 'succeeded')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const id of all) expect(jobs.find((j) => j.id === id)?.state, id).toBe('succeeded');
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
    // Exactly one version per job: nothing trained twice.
    const versions = await fetch(`${second.url}/models/iris_restart/versions`);
    const list = ((await versions.json()) as { versions: { version: number }[] }).versions;
    expect(list).toHaveLength(all.length);
    const resultVersions = all.map((id) => jobs.find((j) => j.id === id)?.result?.version);
    expect(new Set(resultVersions).size).toBe(all.length);
    expect(await stopChild(second)).toBe(0);
  });
});
