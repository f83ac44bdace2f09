// Resolution latency against history size: `models:/bench/production`, `/latest` and `@champion`
// through registry.resolve, at 10 and at 10,000 versions, on SQLite (a file) and on Postgres
// (MODELREG_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test; a fresh schema that is
// dropped afterwards). Each resolution is one indexed store query, so 10,000 should cost what 10 does.
// For reference, the `listVersions` row times what resolution did before (list every version of a
// stage; 50 calls).
//
// Shape of each model: versions 1..N-2 archived, N-1 in production with alias champion, N in staging.
// Versions are seeded in bulk by copying one version row that the store itself wrote (one SQL
// statement), then the last two are created through the store so its counter stays right.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ModelRegistry, createMemoryArtifactStore } from '@modelreg/core';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const sizes = [10, 10_000];
const iterations = quick ? 300 : 2000;
const warmup = quick ? 100 : 300;
const pgUrl = process.env.MODELREG_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const cases = [
  ['/production', 'models:/bench/production'],
  ['/latest', 'models:/bench/latest'],
  ['@alias', 'models:/bench@champion'],
];

const version = (n) => ({
  name: 'bench',
  source: 'runs:/run-1/model',
  runId: null,
  files: [
    { path: 'MODEL.json', key: 'runs/run-1/artifacts/model/MODEL.json', sha256: '0'.repeat(64), size: 10 },
  ],
  description: '',
  tags: { seeded: String(n) },
  stage: 'none',
  createdAt: Date.now(),
});

/** Creates model `bench` with `total` versions in the shape described above. */
async function seed(registry, total, bulkCopy) {
  const { metadata } = registry.stores;
  await registry.createModel('bench');
  await metadata.createVersion(version(1));
  await metadata.transitionStage({
    name: 'bench',
    version: 1,
    toStage: 'archived',
    archiveExisting: false,
    archiveStage: 'archived',
    actor: 'bench',
    comment: '',
    time: Date.now(),
  });
  await bulkCopy(2, total - 2);
  await metadata.createVersion(version(total - 1));
  await metadata.createVersion(version(total));
  await registry.transitionStage('bench', total - 1, 'production');
  await registry.transitionStage('bench', total, 'staging');
  await registry.setAlias('bench', 'champion', total - 1);
  const check = await Promise.all(cases.map(([, uri]) => registry.resolve(uri)));
  const got = check.map((r) => r.modelVersion.version);
  const want = [total - 1, total, total - 1];
  if (got.join() !== want.join()) throw new Error(`seeding went wrong: resolved ${got}, expected ${want}`);
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const summarize = (samples) => {
  const sorted = Float64Array.from(samples).sort();
  return { p50: pct(sorted, 0.5), mean: sorted.reduce((x, y) => x + y, 0) / sorted.length };
};

/** Times `n` sequential calls of `fn` (ms each), after `warm` untimed ones. */
async function sample(fn, n, warm = 0) {
  for (let i = 0; i < warm; i++) await fn();
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

/**
 * Both history sizes are open at once and measured in alternating blocks, so that load from other
 * processes on a shared machine falls on both sides of each ratio alike.
 */
async function benchStore(label, open) {
  const opened = [];
  try {
    for (const total of sizes) {
      const handle = await open();
      opened.push(handle);
      const t0 = performance.now();
      await seed(handle.registry, total, handle.bulkCopy);
      console.log(`${label}: seeded ${total} versions in ${((performance.now() - t0) / 1000).toFixed(2)}s`);
    }
    const samples = new Map();
    const add = (key, values) => samples.set(key, [...(samples.get(key) ?? []), ...values]);
    for (const i of sizes.keys()) {
      for (const [, uri] of cases) await sample(() => opened[i].registry.resolve(uri), 0, warmup);
    }
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      for (const [name, uri] of cases) {
        for (const [i, total] of sizes.entries()) {
          add(`${name}@${total}`, await sample(() => opened[i].registry.resolve(uri), iterations / rounds));
        }
      }
    }
    const results = new Map([...samples].map(([key, values]) => [key, summarize(values)]));
    for (const [i, total] of sizes.entries()) {
      const list = () => opened[i].registry.stores.metadata.listVersions('bench', { stage: 'archived' });
      results.set(`listVersions@${total}`, summarize(await sample(list, 50, 5)));
    }
    return results;
  } finally {
    for (const { registry, cleanup } of opened) {
      await registry.close();
      await cleanup();
    }
  }
}

function sqliteStore() {
  const dir = mkdtempSync(join(tmpdir(), 'modelreg-bench-resolve-'));
  const db = new Database(join(dir, 'registry.db'));
  return {
    metadata: createSqliteMetadataStore({ database: db }),
    bulkCopy: async (from, to) => {
      if (to < from) return;
      db.transaction(() => {
        db.prepare(
          `WITH RECURSIVE n(v) AS (SELECT ? UNION ALL SELECT v + 1 FROM n WHERE v < ?)
           INSERT INTO model_versions (name, version, stage, source, run_id, files, description, tags,
             created_at, updated_at, deleted_at)
           SELECT t.name, n.v, t.stage, t.source, t.run_id, t.files, t.description, t.tags, t.created_at,
             t.updated_at, NULL FROM n, model_versions t WHERE t.name = 'bench' AND t.version = 1`,
        ).run(from, to);
        db.prepare("UPDATE models SET last_version = ? WHERE name = 'bench'").run(to);
      })();
      db.exec('ANALYZE');
    },
    cleanup: async () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresStore(admin) {
  const schema = `mr_bench_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  const q = `"${schema}"`;
  return {
    metadata: createPostgresMetadataStore({ pool, schema }),
    bulkCopy: async (from, to) => {
      if (to < from) return;
      await pool.query(
        `INSERT INTO ${q}.model_versions (model_name, version, stage, source, run_id, files, description, tags,
           created_at, updated_at)
         SELECT t.model_name, n, t.stage, t.source, t.run_id, t.files, t.description, t.tags, t.created_at,
           t.updated_at FROM generate_series($1::bigint, $2::bigint) n, ${q}.model_versions t
         WHERE t.model_name = 'bench' AND t.version = 1`,
        [from, to],
      );
      await pool.query(`UPDATE ${q}.models SET last_version = $1 WHERE name = 'bench'`, [to]);
      await pool.query(`ANALYZE ${q}.model_versions`);
    },
    cleanup: async () => {
      await pool.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
    },
  };
}

async function openWith(storeFactory) {
  const { metadata, bulkCopy, cleanup } = await storeFactory();
  const registry = await ModelRegistry.open({
    metadata,
    artifacts: createMemoryArtifactStore(),
    actor: 'bench',
  });
  return { registry, bulkCopy, cleanup };
}

const rows = [];
function report(label, results) {
  for (const name of [...cases.map(([n]) => n), 'listVersions']) {
    const small = results.get(`${name}@${sizes[0]}`);
    const big = results.get(`${name}@${sizes[1]}`);
    const ratio = big.p50 / small.p50;
    const reference = name === 'listVersions';
    rows.push([
      label,
      reference ? 'listVersions (old path)' : name,
      small.p50.toFixed(3),
      small.mean.toFixed(3),
      big.p50.toFixed(3),
      big.mean.toFixed(3),
      `${ratio.toFixed(2)}×`,
      `${(big.mean / small.mean).toFixed(2)}×`,
      reference ? 'reference' : ratio <= 1.5 ? 'ok' : 'OVER 1.5×',
    ]);
  }
}

report('sqlite', await benchStore('sqlite', () => openWith(sqliteStore)));
const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
try {
  await admin.query('SELECT 1');
  report('postgres', await benchStore('postgres', () => openWith(() => postgresStore(admin))));
} catch (error) {
  console.error(
    `postgres failed (set MODELREG_BENCH_PG_URL): ${error instanceof Error ? error.message : error}`,
  );
  process.exitCode = 1;
} finally {
  await admin.end();
}

printTable(
  `registry.resolve latency in ms, ${iterations} calls per case (10 alternating blocks) after ${warmup} warm-up calls, 10 vs 10,000 versions`,
  [
    'store',
    'case',
    'p50 @10',
    'mean @10',
    'p50 @10k',
    'mean @10k',
    'p50 10k/10',
    'mean 10k/10',
    'within 1.5×',
  ],
  rows,
);
if (rows.some((r) => r[8] === 'OVER 1.5×')) process.exitCode = 1;
