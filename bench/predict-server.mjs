// 1-row predict requests over HTTP, with the server's adaptive batching off and on, side by side:
// autocannon at 64 connections and at 1 connection against POST /models/bench/predict of the built
// Express server (`npx turbo run build --filter=@modelreg/example-express-server...` first).
//
//   node bench/predict-server.mjs            (BENCH_SECONDS per run, default 10; BENCH_QUICK=1: 3)
//
// One model for both modes: 10 features, a 20-tree depth-10 random forest (served through ONNX),
// trained once on BENCH_TRAIN_ROWS rows (default 5000) by the first server; the second server opens
// the same MODELREG_DIR. Modes alternate (off, on, off, on) and each figure is the median of its runs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { friedman } from './lib/bench-data.mjs';
import { call, freePort } from './lib/http.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 3 : 10));
const trainRows = Number(process.env.BENCH_TRAIN_ROWS ?? 5000);
const repeats = quick ? 1 : 2;
const nFeatures = 10;
const names = Array.from({ length: nFeatures }, (_, i) => `f${i}`);
const serverJs = fileURLToPath(new URL('../examples/express-server/dist/server.js', import.meta.url));
if (!existsSync(serverJs)) {
  console.error(
    'examples/express-server/dist/server.js is missing: run `npx turbo run build --filter=@modelreg/example-express-server...`',
  );
  process.exit(1);
}

async function startServer(dir, batching) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [serverJs], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELREG_DIR: dir,
      LOG_LEVEL: 'warn',
      MODELREG_PREDICT_BATCHING: batching ? 'true' : 'false',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = once(child, 'exit');
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'modelreg-bench-server-'));
const data = friedman(trainRows, nFeatures, 3);
const csv = [
  [...names, 'target'].join(','),
  ...Array.from({ length: trainRows }, (_, r) =>
    [...data.x.subarray(r * nFeatures, (r + 1) * nFeatures), data.y[r]].join(','),
  ),
].join('\n');
const row = Object.fromEntries(names.map((n, i) => [n, 0.1 * (i + 1)]));
const body = JSON.stringify({ rows: [row] });

const results = new Map(); // `${mode}@${connections}` -> [{ rps, p50, p99 }]
try {
  for (let round = 0; round < repeats; round++) {
    for (const batching of [false, true]) {
      const server = await startServer(dir, batching);
      try {
        if (round === 0 && !batching) {
          await call('POST', `${server.base}/datasets?name=bench`, csv, 'text/csv');
          await call('POST', `${server.base}/train?wait=true`, {
            experiment: 'bench',
            dataset: 'bench',
            target: 'target',
            model: { type: 'random-forest', params: { nEstimators: 20, maxDepth: 10 } },
            register: { name: 'bench', stage: 'production' },
          });
        }
        const url = `${server.base}/models/bench/predict`;
        const { body: warm } = await call('POST', url, body);
        if (warm.predictions.length !== 1) throw new Error('unexpected answer');
        for (const connections of [64, 1]) {
          const r = await autocannon({
            url,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            connections,
            duration: seconds,
          });
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
          const key = `${batching ? 'on' : 'off'}@${connections}`;
          results.set(key, [
            ...(results.get(key) ?? []),
            { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 },
          ]);
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const get = (key, field) => median(results.get(key).map((r) => r[field]));
const rows = [];
for (const connections of [64, 1]) {
  for (const mode of ['off', 'on']) {
    const key = `${mode}@${connections}`;
    rows.push([
      mode === 'on' ? 'batching on (1 ms window)' : 'batching off',
      String(connections),
      Math.round(get(key, 'rps')).toLocaleString('en-US'),
      get(key, 'p50').toFixed(2),
      get(key, 'p99').toFixed(2),
    ]);
  }
}
printTable(
  `POST /models/bench/predict, 1 row per request, ${seconds} s per run, median of ${repeats} alternating runs (20 trees depth 10, ONNX)`,
  ['server', 'connections', 'req/s', 'p50 ms', 'p99 ms'],
  rows,
);
const growth = get('on@1', 'p50') - get('off@1', 'p50');
console.log(
  `\n1 connection: p50 grows by ${growth.toFixed(2)} ms with batching on (acceptance: <= 1.5 ms: ${growth <= 1.5 ? 'ok' : 'MISSED'})`,
);
console.log(
  `node ${process.version}, ${cpus().length} CPU(s) shared by the server and autocannon, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
