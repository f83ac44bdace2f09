// Load test of POST /models/:name/predict on the built server (run `npm run build` first).
//
//   node bench/load.mjs [--duration 10] [--connections 10] [--rows 1]
//
// Starts dist/server.js as a child process on 127.0.0.1 with a fresh temp MODELREG_DIR, uploads
// iris, trains a small random forest (5 trees) straight to production, warms the model cache,
// then runs autocannon against predict with a JSON body of `--rows` rows and prints a table.
// Numbers depend on the machine and on what else it is doing; read them as an order of magnitude.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    rows: { type: 'string', default: '1' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const rows = Number(args.rows);

const serverJs = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const irisCsv = fileURLToPath(
  new URL('../../../packages/core/test/fixtures/datasets/iris.csv', import.meta.url),
);
if (!existsSync(serverJs)) {
  console.error('dist/server.js is missing: run `npm run build` in examples/express-server first');
  process.exit(1);
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function call(method, url, body, contentType = 'application/json') {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

const dir = await mkdtemp(join(tmpdir(), 'modelreg-bench-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, [serverJs], {
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MODELREG_DIR: dir, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = once(child, 'exit');

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 100 || child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }

  await call('POST', `${base}/datasets?name=iris`, await readFile(irisCsv, 'utf8'), 'text/csv');
  const trained = await call('POST', `${base}/train`, {
    experiment: 'bench',
    dataset: 'iris',
    target: 'species',
    model: { type: 'random-forest', params: { nEstimators: 5, maxDepth: 8 } },
    split: { testSize: 0.2, seed: 42 },
    register: { name: 'iris_bench', stage: 'production' },
  });
  const row = { sepal_length_cm: 5.9, sepal_width_cm: 3.0, petal_length_cm: 4.2, petal_width_cm: 1.5 };
  const body = JSON.stringify({ rows: Array.from({ length: rows }, () => row) });
  const url = `${base}/models/iris_bench/predict`;
  const warm = await call('POST', url, body);
  console.log(
    `model iris_bench v${trained.version.version} (random-forest, 5 trees) in production; warm-up answered version ${warm.version}`,
  );
  console.log(
    `autocannon: ${duration} s, ${connections} connections, ${rows} row(s) per request, POST ${url}\n`,
  );

  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
  });

  const table = [
    ['requests/s (mean)', result.requests.average.toFixed(0)],
    ['rows/s (mean)', (result.requests.average * rows).toFixed(0)],
    ['latency p50 (ms)', String(result.latency.p50)],
    ['latency p90 (ms)', String(result.latency.p90)],
    ['latency p99 (ms)', String(result.latency.p99)],
    ['latency max (ms)', String(result.latency.max)],
    ['requests', String(result.requests.total)],
    ['non-2xx', String(result.non2xx)],
    ['errors / timeouts', `${result.errors} / ${result.timeouts}`],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  console.log(`| ${'metric'.padEnd(width)} | value |`);
  console.log(`|${'-'.repeat(width + 2)}|-------|`);
  for (const [k, v] of table) console.log(`| ${k.padEnd(width)} | ${v} |`);
  console.log(`\nnode ${process.version}, ${cpus().length} CPU(s) shared by the server and autocannon`);
  if (result.non2xx > 0 || result.errors > 0) process.exitCode = 1;
} finally {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}
