import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistryFromEnv, queueFromEnv, storesFromEnv } from '../src/index.js';

describe('the example apps read the registry from the environment', () => {
  it('defaults to SQLite and files under MODELREG_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelreg-env-'));
    const stores = storesFromEnv({ MODELREG_DIR: dir });
    expect(stores.metadata.name).toBe('meta-sqlite');
    expect(stores.artifacts.name).toBe('storage-fs');
    expect(stores.describe).toBe(
      `metadata: sqlite ${join(dir, 'registry.db')}; artifacts: ${join(dir, 'artifacts')}`,
    );
    const { registry } = await openRegistryFromEnv({ MODELREG_DIR: dir });
    expect(await registry.listModels()).toEqual([]);
    await registry.close();
  });

  it('uses Postgres and S3 when their URLs are set, and hides the password in the description', () => {
    const stores = storesFromEnv({
      MODELREG_METADATA_URL: 'postgres://app:secret@db.internal:5432/ml',
      MODELREG_PG_SCHEMA: 'registry',
      MODELREG_ARTIFACTS_URL: 's3://ml-artifacts/team/models',
      MODELREG_S3_ENDPOINT: 'http://127.0.0.1:9000',
    });
    expect(stores.metadata.name).toBe('meta-postgres');
    expect(stores.artifacts.name).toBe('storage-s3');
    expect(stores.describe).toBe(
      'metadata: postgres postgres://***@db.internal:5432/ml; artifacts: s3://ml-artifacts/team/models',
    );
  });

  it('a folder in MODELREG_ARTIFACTS_URL is used as the artifact root', () => {
    const stores = storesFromEnv({ MODELREG_DIR: '/tmp/a', MODELREG_ARTIFACTS_URL: '/tmp/b' });
    expect(stores.describe).toBe('metadata: sqlite /tmp/a/registry.db; artifacts: /tmp/b');
  });

  it.each([
    [{ MODELREG_METADATA_URL: 'mysql://x' }, 'MODELREG_METADATA_URL'],
    [{ MODELREG_ARTIFACTS_URL: 's3://' }, 'no bucket'],
    [{ MODELREG_S3_ENDPOINT: 'not a url' }, 'MODELREG_S3_ENDPOINT'],
  ])('bad settings are INVALID_CONFIG naming the variable: %j', (env, text) => {
    expect(() => storesFromEnv(env)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(text) }),
    );
  });
});

describe('one registry folder and configurable stages (issue 14)', () => {
  it('resolves the default ./.modelreg where the command was run: npm’s INIT_CWD, else the working directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'modelreg-root-'));
    expect(storesFromEnv({ INIT_CWD: root }).dir).toBe(join(root, '.modelreg'));
    expect(storesFromEnv({ INIT_CWD: root, MODELREG_DIR: 'reg' }).dir).toBe(join(root, 'reg'));
    expect(storesFromEnv({ INIT_CWD: root, MODELREG_DIR: '/srv/reg' }).dir).toBe('/srv/reg');
    expect(storesFromEnv({}).dir).toBe(join(process.cwd(), '.modelreg'));
  });

  it('MODELREG_STAGES sets the stages, new versions start in the first, and it is in the description', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelreg-stages-'));
    const env = { MODELREG_DIR: dir, MODELREG_STAGES: 'dev, staging,production,archived' };
    expect(storesFromEnv(env).describe).toMatch(/; stages: dev,staging,production,archived$/);
    const { registry } = await openRegistryFromEnv(env);
    try {
      expect(registry.stages).toEqual(['dev', 'staging', 'production', 'archived']);
    } finally {
      await registry.close();
    }
  });

  it.each([
    [{ MODELREG_STAGES: 'production' }, 'MODELREG_STAGES'],
    [{ MODELREG_STAGES: 'dev,,prod' }, 'MODELREG_STAGES'],
  ])('a bad stage list is INVALID_CONFIG naming the variable: %j', (env, text) => {
    expect(() => storesFromEnv(env)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(text) }),
    );
  });

  it('stage names the registry refuses fail at open, naming the stages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelreg-stages-'));
    await expect(
      openRegistryFromEnv({ MODELREG_DIR: dir, MODELREG_STAGES: 'dev,Dev' }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});

describe('the example apps read the job queue from the environment', () => {
  it('defaults to the embedded queue and one training at a time', async () => {
    expect(await queueFromEnv({})).toEqual({ queue: undefined, name: 'embedded', concurrency: 1 });
    expect(await queueFromEnv({ MODELREG_QUEUE: 'embedded', MODELREG_TRAIN_CONCURRENCY: '0' })).toEqual({
      queue: undefined,
      name: 'embedded',
      concurrency: 0,
    });
    const dir = mkdtempSync(join(tmpdir(), 'modelreg-env-'));
    const opened = await openRegistryFromEnv({ MODELREG_DIR: dir, MODELREG_TRAIN_CONCURRENCY: '3' });
    expect(opened.queue.concurrency).toBe(3);
    expect(opened.registry.jobs.queue.name).toBe('embedded');
    expect(opened.describe).toMatch(/; queue: embedded$/);
    await opened.registry.close();
  });

  it.runIf(process.platform === 'linux')(
    'MODELREG_TRAIN_ISOLATION: trains in worker threads with thread, in a child process by default',
    async () => {
      /** Whether this process has a child running the train worker module. */
      const hasTrainProcess = (): boolean =>
        readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .some((pid) => {
            try {
              const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
              const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
              return (
                ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('train-worker')
              );
            } catch {
              return false;
            }
          });
      const rows = Array.from({ length: 300 }, (_, i) => ({ x: i % 17, y: (i % 17) * 2 + (i % 3) }));
      for (const [isolation, expected] of [
        // Thread first: an idle train process, once started, stays for 5 minutes.
        ['thread', false],
        [undefined, true],
      ] as const) {
        const dir = mkdtempSync(join(tmpdir(), 'modelreg-env-'));
        const { registry } = await openRegistryFromEnv({
          MODELREG_DIR: dir,
          ...(isolation ? { MODELREG_TRAIN_ISOLATION: isolation } : {}),
        });
        let seen: boolean | undefined;
        await registry.train({
          dataset: { rows },
          target: 'y',
          model: { type: 'random-forest', params: { nEstimators: 3, maxDepth: 3 } },
          formats: ['native'],
          onProgress: (p) => {
            if (p.phase === 'fitting') seen ??= hasTrainProcess();
          },
        });
        expect(seen, `MODELREG_TRAIN_ISOLATION=${isolation ?? '(unset)'}`).toBe(expected);
        await registry.close();
      }
      await expect(openRegistryFromEnv({ MODELREG_TRAIN_ISOLATION: 'fork' })).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/MODELREG_TRAIN_ISOLATION/),
      });
    },
    60_000,
  );

  it('refuses a bad queue or concurrency, and pg-boss without a postgres URL, as INVALID_CONFIG', async () => {
    await expect(queueFromEnv({ MODELREG_QUEUE: 'redis' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/MODELREG_QUEUE/),
    });
    await expect(queueFromEnv({ MODELREG_TRAIN_CONCURRENCY: '-1' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/MODELREG_TRAIN_CONCURRENCY/),
    });
    await expect(queueFromEnv({ MODELREG_QUEUE: 'pgboss' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/MODELREG_QUEUE_URL/),
    });
  });

  it('pgboss uses @modelreg/queue-pgboss when the workspace has it, else the embedded queue with a warning', async () => {
    const chosen = await queueFromEnv({
      MODELREG_QUEUE: 'pgboss',
      MODELREG_METADATA_URL: 'postgres://postgres@127.0.0.1:5432/test',
    });
    let installed = true;
    try {
      const specifier: string = '@modelreg/queue-pgboss';
      await import(specifier);
    } catch {
      installed = false;
    }
    if (installed) {
      expect(chosen.name).toBe('pg-boss');
      expect(chosen.queue?.name).toBe('pg-boss');
      await chosen.queue?.stop();
    } else {
      expect(chosen).toMatchObject({ queue: undefined, name: 'embedded' });
      expect(chosen.warning).toMatch(/@modelreg\/queue-pgboss is not installed/);
    }
  });
});
