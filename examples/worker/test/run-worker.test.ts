import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelRegistry } from '@modelreg/core';
import {
  ModelRegistry as Registry,
  createMemoryArtifactStore,
  createMemoryMetadataStore,
} from '@modelreg/core';
import type { JobResult, LogEntry } from '../src/run-worker.js';
import { PredictionWorker } from '../src/run-worker.js';
import { irisRows, ndjson, parseNdjson, trainIris } from './helpers.js';

let registry: ModelRegistry;
let worker: PredictionWorker;
let logs: LogEntry[];
let dir: string;

beforeEach(async () => {
  registry = await Registry.open({
    metadata: createMemoryMetadataStore(),
    artifacts: createMemoryArtifactStore(),
  });
  await trainIris(registry, 'iris', { stage: 'production' });
  logs = [];
  worker = new PredictionWorker({ registry, uri: 'models:/iris/production', log: (e) => logs.push(e) });
  dir = mkdtempSync(join(tmpdir(), 'modelreg-worker-'));
});
afterEach(async () => {
  await worker.close();
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(input: string): Promise<JobResult[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await worker.processStream(Readable.from([input]), out);
  return parseNdjson<JobResult>(Buffer.concat(chunks).toString());
}

describe('PredictionWorker', () => {
  it('answers record and batch jobs in order, naming the model, version and latency', async () => {
    const results = await run(
      ndjson([{ id: 'a', ...irisRows[0] }, { id: 2, rows: [irisRows[0], irisRows[149]] }, irisRows[60]]),
    );
    expect(results).toEqual([
      { id: 'a', line: 1, model: 'iris', prediction: 'setosa', version: 1, latencyMs: expect.any(Number) },
      {
        id: 2,
        line: 2,
        model: 'iris',
        predictions: ['setosa', 'virginica'],
        version: 1,
        latencyMs: expect.any(Number),
      },
      { line: 3, model: 'iris', prediction: 'versicolor', version: 1, latencyMs: expect.any(Number) },
    ]);
    expect(logs).toContainEqual(expect.objectContaining({ event: 'model.loaded', to: 1 }));
  });

  it('a bad line gives an error result and the worker goes on', async () => {
    const input = `${JSON.stringify(irisRows[0])}\n{oops\n\n${JSON.stringify({ id: 'x', sepal_length_cm: 1 })}\n${JSON.stringify(irisRows[1])}\n`;
    const results = await run(input);
    expect(results).toHaveLength(4);
    expect(results[0]).toMatchObject({ line: 1, prediction: 'setosa' });
    expect(results[1]).toMatchObject({
      line: 2,
      error: { code: 'INVALID_ARGUMENT', message: /not valid JSON/ },
    });
    expect(results[2]).toMatchObject({
      id: 'x',
      line: 4,
      error: { code: 'INVALID_ARGUMENT', message: /missing feature/ },
    });
    expect(results[3]).toMatchObject({ line: 5, prediction: 'setosa', version: 1 });
  });

  it('processes a file into an output file', async () => {
    const input = join(dir, 'jobs.ndjson');
    writeFileSync(input, ndjson(irisRows.slice(0, 20)));
    const summary = await worker.processFile(input, join(dir, 'jobs.out.ndjson'));
    expect(summary).toEqual({ jobs: 20, ok: 20, failed: 0 });
    const results = parseNdjson<JobResult>(readFileSync(join(dir, 'jobs.out.ndjson'), 'utf8'));
    expect(results.map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(existsSync(join(dir, 'jobs.out.ndjson.partial'))).toBe(false);
  });

  it('switches to the promoted version between jobs', async () => {
    const v2 = await trainIris(registry, 'iris', { forest: true });
    expect((await run(ndjson([irisRows[0]])))[0]).toMatchObject({ version: 1 });
    await registry.transitionStage('iris', v2, 'production', { archiveExisting: true });
    await vi.waitFor(
      async () => expect((await run(ndjson([irisRows[0]])))[0]).toMatchObject({ version: 2 }),
      {
        timeout: 2000,
      },
    );
    expect(logs).toContainEqual(expect.objectContaining({ event: 'model.swapped', from: 1, to: 2 }));
  });

  it('watches a folder: each new file once, results next to it, inputs moved to done/', async () => {
    const controller = new AbortController();
    const watching = worker.watchDir(dir, { signal: controller.signal, pollMs: 50 });
    const drop = (name: string, rows: unknown[]) => {
      writeFileSync(join(dir, `.${name}.tmp`), ndjson(rows));
      renameSync(join(dir, `.${name}.tmp`), join(dir, name));
    };
    drop('a.ndjson', irisRows.slice(0, 3));
    await vi.waitFor(() => expect(existsSync(join(dir, 'done', 'a.ndjson'))).toBe(true), { timeout: 3000 });
    drop('b.ndjson', [{ id: 'batch', rows: irisRows.slice(0, 5) }, 'bad']);
    await vi.waitFor(() => expect(existsSync(join(dir, 'done', 'b.ndjson'))).toBe(true), { timeout: 3000 });
    controller.abort();
    await watching;

    expect(parseNdjson<JobResult>(readFileSync(join(dir, 'a.out.ndjson'), 'utf8'))).toHaveLength(3);
    const b = parseNdjson<JobResult>(readFileSync(join(dir, 'b.out.ndjson'), 'utf8'));
    expect(b[0]).toMatchObject({ id: 'batch', predictions: expect.any(Array), version: 1 });
    expect(b[1]).toMatchObject({ line: 2, error: { code: 'INVALID_ARGUMENT' } });
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
    expect(logs.filter((l) => l.event === 'file.done').map((l) => [l.file, l.jobs, l.failed])).toEqual([
      ['a.ndjson', 3, 0],
      ['b.ndjson', 2, 1],
    ]);
  });

  it('jobs wait while nothing is in the stage, then are answered by the version promoted into it', async () => {
    const { runId } = (await registry.getVersion('iris', 1))!;
    await registry.registerModel('later', { runId: runId! });
    const waiting = new PredictionWorker({
      registry,
      uri: 'models:/later/production',
      log: (e) => logs.push(e),
      waitRetryMs: 20,
    });
    try {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const done = waiting.processStream(Readable.from([ndjson(irisRows.slice(0, 3))]), out);
      await vi.waitFor(() =>
        expect(logs).toContainEqual(expect.objectContaining({ event: 'model.waiting' })),
      );
      expect(chunks).toHaveLength(0);
      await registry.transitionStage('later', 1, 'production');
      expect(await done).toEqual({ jobs: 3, ok: 3, failed: 0 });
      const results = parseNdjson<JobResult>(Buffer.concat(chunks).toString());
      expect(results.map((r) => ('version' in r ? r.version : r.error.code))).toEqual([1, 1, 1]);
    } finally {
      await waiting.close();
    }
  });

  it('a stop before the file is read leaves it unprocessed too, with no output', async () => {
    const input = join(dir, 'early.ndjson');
    writeFileSync(input, ndjson(irisRows.slice(0, 3)));
    const summary = await worker.processFile(input, join(dir, 'early.out.ndjson'), AbortSignal.abort());
    expect(summary).toEqual({ jobs: 0, ok: 0, failed: 0, interrupted: true });
    expect(existsSync(join(dir, 'early.out.ndjson'))).toBe(false);
    expect(existsSync(join(dir, 'early.out.ndjson.partial'))).toBe(false);
  });

  it('a stop while a job waits for a version leaves the file unprocessed, with no output', async () => {
    const { runId } = (await registry.getVersion('iris', 1))!;
    await registry.registerModel('later', { runId: runId! });
    const waiting = new PredictionWorker({ registry, uri: 'models:/later/production', waitRetryMs: 20 });
    const controller = new AbortController();
    try {
      const input = join(dir, 'jobs.ndjson');
      writeFileSync(input, ndjson(irisRows.slice(0, 3)));
      const done = waiting.processFile(input, join(dir, 'jobs.out.ndjson'), controller.signal);
      setTimeout(() => controller.abort(), 100);
      expect(await done).toEqual({ jobs: 0, ok: 0, failed: 0, interrupted: true });
      expect(existsSync(join(dir, 'jobs.out.ndjson'))).toBe(false);
      expect(existsSync(join(dir, 'jobs.out.ndjson.partial'))).toBe(false);
    } finally {
      await waiting.close();
    }
  });
});
