// gc and run-lease costs on SQLite + files: `node bench/gc.mjs` (after `npm run build`).
// gc re-checks each unreferenced candidate (a head, then a second reference read) before deleting it,
// so its cost grows with the objects listed and the orphans found; a bound open adds two reads and
// one expiry statement; a heartbeat is one statement for all the runs a process holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '@modelreg/core';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const sizes = quick ? [500, 2000] : [1000, 10_000];
const FILES_PER_RUN = 5;
const ORPHAN_SHARE = 0.1;
const ms = (t) => `${t.toFixed(2)}ms`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const rows = [];
const leaseRows = [];
for (const objects of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'modelreg-bench-gc-'));
  const stores = () => ({
    metadata: createSqliteMetadataStore({ filename: join(dir, 'registry.db') }),
    artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
  });
  const registry = await ModelRegistry.open(stores());
  const runIds = [];
  const runs = Math.round((objects * (1 - ORPHAN_SHARE)) / FILES_PER_RUN);
  for (let r = 0; r < runs; r++) {
    const run = await registry.startRun({ experiment: 'bench' });
    runIds.push(run.id);
    for (let f = 0; f < FILES_PER_RUN; f++) await run.logArtifact(`files/f${f}.bin`, `run ${r} file ${f}`);
    await run.end();
  }
  const orphans = objects - runs * FILES_PER_RUN;
  for (let o = 0; o < orphans; o++)
    await registry.stores.artifacts.put(`runs/orphan/artifacts/o${o}.bin`, 'x');
  const dry = await time(() => registry.gc({ gracePeriodMs: 0, dryRun: true, spoolDirs: [] }));
  let deleted = 0;
  const real = await time(async () => {
    deleted = (await registry.gc({ gracePeriodMs: 0, spoolDirs: [] })).deleted.length;
  });
  const steady = await time(() => registry.gc({ gracePeriodMs: 0, spoolDirs: [] }));
  await registry.close();
  const opens = [];
  for (let i = 0; i < 5; i++) {
    let opened;
    opens.push(await time(async () => (opened = await ModelRegistry.open(stores()))));
    await opened.close();
  }
  rows.push([objects, orphans, deleted, ms(dry), ms(real), ms(steady), ms(median(opens))]);

  const check = await ModelRegistry.open(stores());
  const { metadata } = check.stores;
  for (const held of [1, 100, 1000].filter((n) => n <= runIds.length)) {
    const fresh = [];
    for (let i = 0; i < held; i++) fresh.push((await check.startRun({ experiment: 'lease' })).id);
    const beats = [];
    for (let i = 0; i < 5; i++) beats.push(await time(() => metadata.heartbeatRuns(fresh, Date.now())));
    leaseRows.push([objects, held, ms(median(beats))]);
    for (const id of fresh) await (await check.openRun(id)).end();
  }
  await check.close();
  rmSync(dir, { recursive: true, force: true });
}

printTable(
  'gc on SQLite + files (grace 0): dry run, deleting the orphans, then with nothing to delete; open of a bound registry',
  ['objects', 'orphans', 'deleted', 'dry run', 'gc', 'gc (clean)', 'open'],
  rows,
);
printTable(
  'one heartbeat for the runs a process holds (SQLite)',
  ['objects', 'runs held', 'heartbeat'],
  leaseRows,
);
