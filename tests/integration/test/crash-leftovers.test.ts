import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArtifactStore, MetadataStore, RegistryOptions } from '@modelreg/core';
import { ModelRegistry, REGISTRY_ID_KEY } from '@modelreg/core';
import { createRandom } from '@modelreg/core/training';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from '../../../test-utils/pg-env.js';
import { devStores, irisCsv, openDev, tempDir } from './registries.js';

type StoreOptions = Pick<RegistryOptions, 'metadata' | 'artifacts'>;

const KILLS = 30;
const OPS = ['train', 'upload', 'copy', 'track'] as const;
const TEMP_FILE = /^\..*\.[0-9a-f]{16}\.tmp$/;
const child = bundleForChildProcess(new URL('./children/crash-writes.ts', import.meta.url).pathname);

/** Starts the child with its own TMPDIR, waits until its registry is open, lets it write for a random while, then SIGKILLs it. */
async function killDuringWrites(args: string[], tmp: string, delayMs: number): Promise<void> {
  const proc = spawn(process.execPath, [await child, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmp },
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit');
  const lines = createInterface({ input: proc.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'ready' && resolve());
    void exited.then(() => reject(new Error(`the child exited before it was ready: ${stderr}`)));
  });
  await ready;
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  proc.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  // A child that failed on its own (not killed) is a bug in the test setup, not a crash to clean.
  expect({ code, signal, stderr: signal === 'SIGKILL' ? '' : stderr }).toEqual({
    code: null,
    signal: 'SIGKILL',
    stderr: '',
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

interface Leftovers {
  tempFiles: string[];
  spoolFiles: string[];
  unreferenced: string[];
  missing: string[];
  running: string[];
}

async function survey(registry: ModelRegistry, artifactDir: string, spoolDir: string): Promise<Leftovers> {
  const { metadata, artifacts } = registry.stores as { metadata: MetadataStore; artifacts: ArtifactStore };
  const referenced = new Set(await metadata.listReferencedKeys());
  const keys = (await artifacts.list('')).map((o) => o.key).filter((k) => k !== REGISTRY_ID_KEY);
  const missing: string[] = [];
  for (const key of referenced) if ((await artifacts.head(key)) === null) missing.push(key);
  const experiments = (await metadata.listExperiments()).map((e) => e.name);
  const running =
    experiments.length === 0
      ? []
      : (await registry.searchRuns({ experiment: experiments, where: { status: 'running' }, limit: 1000 }))
          .runs;
  return {
    tempFiles: (await filesUnder(artifactDir)).filter((f) => TEMP_FILE.test(f.split('/').at(-1)!)),
    spoolFiles: await filesUnder(spoolDir),
    unreferenced: keys.filter((k) => !referenced.has(k)),
    missing,
    running: running.map((r) => r.id),
  };
}

const setups: {
  name: string;
  /** Fresh store objects for the registry in `dir` (`make`, once per open), the child's arguments, and a cleanup. */
  stores: (dir: string) => { make: () => StoreOptions; args: string[]; cleanup: () => Promise<void> };
}[] = [
  {
    name: 'SQLite + files',
    stores: (dir) => ({
      make: () => devStores(dir),
      args: ['sqlite', dir, '-'],
      cleanup: async () => undefined,
    }),
  },
  {
    name: 'Postgres + files',
    stores: (dir) => {
      const schema = randomSchema('mr_crash');
      return {
        make: () => ({
          metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
          artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
        }),
        args: ['postgres', dir, schema],
        cleanup: async () => {
          const pool = adminPool();
          await dropSchema(pool, schema);
          await pool.end();
        },
      };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe.each(setups.filter((s) => pgReachable || !s.name.startsWith('Postgres')))(
  'crash leftovers on $name',
  ({ stores }) => {
    it(`after ${KILLS} kill -9s during train, upload, copy and run tracking, one gc with grace 0 leaves no temp file, no spool file, no unreferenced object and no running run`, async () => {
      const dir = tempDir('crash');
      const tmp = join(dir, 'tmp');
      const spoolDir = join(tmp, `modelreg-spool-${process.getuid?.() ?? 'user'}`);
      const artifactDir = join(dir, 'artifacts');
      const sourceDir = join(dir, 'source');
      const { make, args, cleanup } = stores(dir);
      cleanups.push(cleanup, () => rm(dir, { recursive: true, force: true }));

      const sourceRegistry = await openDev(sourceDir);
      await sourceRegistry.datasets.upload('iris.csv', readFileSync(irisCsv));
      await sourceRegistry.train({
        dataset: 'iris',
        target: 'species',
        model: { type: 'random-forest', params: { nEstimators: 8, maxDepth: 5 } },
        register: { name: 'iris' },
      });
      await sourceRegistry.close();
      const setup = await ModelRegistry.open(make());
      await setup.datasets.upload('iris.csv', readFileSync(irisCsv));
      await setup.close();

      const random = createRandom(11);
      for (let i = 0; i < KILLS; i++) {
        await killDuringWrites([...args, OPS[i % OPS.length]!, sourceDir], tmp, 50 + random.int(700));
      }

      // What the kills left, seen by a registry that expires nothing yet (default lease of 5 minutes).
      const look = await ModelRegistry.open(make());
      const before = await survey(look, artifactDir, spoolDir);
      const dry = await look.gc({ gracePeriodMs: 0, spoolDirs: [spoolDir], dryRun: true });
      await look.close();
      console.log(
        `kills left: ${before.tempFiles.length} temp files, ${before.spoolFiles.length} spool files, ` +
          `${before.unreferenced.length} unreferenced objects, ${before.running.length} running runs`,
      );
      expect(before.missing).toEqual([]);
      expect(before.tempFiles.length + before.spoolFiles.length + before.unreferenced.length).toBeGreaterThan(
        0,
      );
      expect(before.running.length).toBeGreaterThan(0);
      expect(dry.temporary.length).toBe(before.tempFiles.length);
      expect(dry.spool.length).toBe(before.spoolFiles.length);
      expect(dry.deleted.sort()).toEqual(before.unreferenced.sort());

      // Every killed process stopped sending heartbeats at least a lease (1 s here) ago.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const registry = await ModelRegistry.open({ ...make(), runLeaseMs: 1000 });
      const result = await registry.gc({ gracePeriodMs: 0, spoolDirs: [spoolDir] });
      expect(result.refused).toBeUndefined();
      expect(await survey(registry, artifactDir, spoolDir)).toEqual({
        tempFiles: [],
        spoolFiles: [],
        unreferenced: [],
        missing: [],
        running: [],
      });
      // What is left is whole: every dataset verifies and the copied version predicts.
      for (const dataset of await registry.datasets.list()) {
        for (const v of await registry.datasets.versions(dataset.name)) {
          await registry.datasets.loadRaw(v.name, v.version);
        }
      }
      await registry.close();
    }, 600_000);
  },
);
