import { mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelRegistry } from '@modelreg/core';
import { ModelRegistry as Registry } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import {
  adminPool,
  dropSchema,
  pgReachable,
  pgUrl,
  randomSchema,
} from '../../../packages/meta-postgres/test/pg-env.js';
import { irisRows, ndjson, sleep, spawnWorker, trainIris } from './helpers.js';

let script: string;
beforeAll(async () => {
  script = await bundleForChildProcess(fileURLToPath(new URL('../src/worker.ts', import.meta.url)));
});

const events = (lines: Array<{ value: unknown }>): string[] =>
  lines.map((l) =>
    typeof l.value === 'object' && l.value !== null ? String((l.value as { event?: unknown }).event) : '',
  );

describe('the worker CLI on the embedded default (SQLite + folder, from MODELREG_DIR)', () => {
  let dir: string;
  let registry: ModelRegistry;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelreg-worker-cli-'));
    registry = await Registry.open({
      metadata: createSqliteMetadataStore({ filename: join(dir, 'registry.db') }),
      artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
    });
    await trainIris(registry, 'iris', { stage: 'production' });
    env = { MODELREG_DIR: dir, MODELREG_METADATA_URL: '', MODELREG_ARTIFACTS_URL: '' };
  });
  afterAll(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--input <file> writes one result per job to stdout and exits 0', async () => {
    const input = join(dir, 'jobs.ndjson');
    writeFileSync(
      input,
      `${ndjson(irisRows.slice(0, 10))}not json\n${ndjson([{ id: 'b', rows: irisRows.slice(0, 2) }])}`,
    );
    const w = spawnWorker(script, ['--model', 'iris', '--input', input], env);
    expect(await w.exited).toBe(0);
    const results = w.stdout.map((l) => l.value);
    expect(results).toHaveLength(12);
    expect(results[0]).toMatchObject({ line: 1, model: 'iris', version: 1, prediction: 'setosa' });
    expect(results[10]).toMatchObject({ line: 11, error: { code: 'INVALID_ARGUMENT' } });
    expect(results[11]).toMatchObject({ id: 'b', predictions: ['setosa', 'setosa'], version: 1 });
    expect(events(w.stderr)).toEqual(
      expect.arrayContaining(['worker.started', 'model.loaded', 'worker.finished']),
    );
    expect(w.stderr.find((l) => events([l])[0] === 'worker.finished')?.value).toMatchObject({
      jobs: 12,
      ok: 11,
      failed: 1,
    });
  });

  it('--input - reads jobs from stdin', async () => {
    const w = spawnWorker(script, ['--model', 'iris', '--input', '-'], env);
    w.proc.stdin.end(
      ndjson([
        { id: 1, ...irisRows[0] },
        { id: 2, ...irisRows[100] },
      ]),
    );
    expect(await w.exited).toBe(0);
    expect(w.stdout.map((l) => l.value)).toEqual([
      expect.objectContaining({ id: 1, prediction: 'setosa', version: 1 }),
      expect.objectContaining({ id: 2, prediction: 'virginica', version: 1 }),
    ]);
  });

  it('--watch-dir processes new files and exits cleanly on SIGTERM', async () => {
    const inbox = join(dir, 'inbox');
    const w = spawnWorker(script, ['--model', 'iris', '--watch-dir', inbox, '--poll-ms', '50'], env);
    await vi.waitFor(() => expect(existsSync(join(inbox, 'done'))).toBe(true), { timeout: 60_000 });
    writeFileSync(join(inbox, '.jobs.tmp'), ndjson(irisRows.slice(0, 4)));
    renameSync(join(inbox, '.jobs.tmp'), join(inbox, 'jobs.ndjson'));
    await vi.waitFor(() => expect(existsSync(join(inbox, 'done', 'jobs.ndjson'))).toBe(true), {
      timeout: 60_000,
    });
    expect(existsSync(join(inbox, 'jobs.out.ndjson'))).toBe(true);
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(events(w.stderr)).toEqual(expect.arrayContaining(['file.done', 'worker.stopping']));
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const bad = [
      ['--model', 'iris'],
      // --nats needs both subjects, and is one mode among --input and --watch-dir
      ['--model', 'iris', '--nats', 'nats://127.0.0.1:4222', '--input-subject', 'in'],
      [
        '--model',
        'iris',
        '--nats',
        'nats://127.0.0.1:4222',
        '--input-subject',
        'in',
        '--output-subject',
        'out',
        '--input',
        '-',
      ],
    ];
    for (const w of bad.map((args) => spawnWorker(script, args, env))) {
      expect(await w.exited).toBe(2);
      expect(w.stderr.map((l) => l.value).join('\n')).toMatch(/Usage:/);
    }
  });

  it('an unknown flag is one line and the usage, exit 2, no stack trace', async () => {
    const w = spawnWorker(script, ['--modle', 'iris', '--input', '-'], env);
    expect(await w.exited).toBe(2);
    const stderr = w.stderr.map((l) => l.value).join('\n');
    expect(stderr).toMatch(/^error: Unknown option '--modle'/);
    expect(stderr).toMatch(/Usage:/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(!pgReachable)(
  'the worker CLI on Postgres: hot swap on a promotion made by another process',
  () => {
    const schema = randomSchema('mr_worker');
    let artifacts: string;
    let pool: ReturnType<typeof adminPool>;
    beforeAll(() => {
      artifacts = mkdtempSync(join(tmpdir(), 'modelreg-worker-pg-'));
      pool = adminPool(1);
    });
    afterAll(async () => {
      await dropSchema(pool, schema);
      await pool.end();
      rmSync(artifacts, { recursive: true, force: true });
    });

    it('switches to the promoted version while jobs flow, with no failed job and no old-version result after the first new one', async () => {
      const registry = await Registry.open({
        metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
        artifacts: createFsArtifactStore({ root: artifacts }),
      });
      try {
        await trainIris(registry, 'iris', { stage: 'production' });
        const v2 = await trainIris(registry, 'iris', { forest: true });
        const w = spawnWorker(script, ['--model', 'iris', '--input', '-'], {
          MODELREG_METADATA_URL: pgUrl,
          MODELREG_PG_SCHEMA: schema,
          MODELREG_ARTIFACTS_URL: artifacts,
        });
        await vi.waitFor(() => expect(events(w.stderr)).toContain('model.loaded'), { timeout: 15_000 });

        const total = 600;
        let promotedAt = 0;
        let promotion: Promise<unknown> | undefined;
        for (let i = 0; i < total; i++) {
          w.proc.stdin.write(`${JSON.stringify({ id: i, ...irisRows[i % irisRows.length] })}\n`);
          if (!promotion && w.stdout.length >= 200) {
            promotedAt = Date.now();
            promotion = registry.transitionStage('iris', v2, 'production', { archiveExisting: true });
          }
          await sleep(5);
        }
        w.proc.stdin.end();
        await promotion;
        expect(await w.exited).toBe(0);

        const results = w.stdout;
        expect(results).toHaveLength(total);
        expect(results.filter((r) => 'error' in r.value)).toEqual([]);
        expect(results.map((r) => r.value.id)).toEqual(Array.from({ length: total }, (_, i) => i));
        const firstV2 = results.findIndex((r) => r.value.version === 2);
        expect(firstV2).toBeGreaterThan(0);
        expect(results.slice(0, firstV2).every((r) => r.value.version === 1)).toBe(true);
        expect(results.slice(firstV2).every((r) => r.value.version === 2)).toBe(true);
        const swap = w.stderr.find((l) => events([l])[0] === 'model.swapped');
        expect(swap?.value).toMatchObject({ from: 1, to: 2 });
        const swapMs = swap!.t - promotedAt;
        const servedMs = results[firstV2]!.t - promotedAt;
        console.info(
          `[worker] Postgres: swap logged ${swapMs} ms after the promotion started, first v2 result after ${servedMs} ms; ${total} jobs, 0 failed`,
        );
      } finally {
        await registry.close();
      }
    });
  },
);
