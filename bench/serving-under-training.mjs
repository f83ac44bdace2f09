// Serving under training (issue 13, acceptance 1): does a training stall the server that runs it?
//
//   node bench/serving-under-training.mjs [--rows 100000] [--trees 100] [--connections 10]
//        [--idle 10] [--isolation process,thread] [--landed <dir>] [--landed-commit b945b74]
//        [--no-landed] [--no-floor] [--server <dir> ...]
//
// For each checkout (this one, then the landed commit), starts its built Express server
// (examples/express-server/dist/server.js) on a fresh temp registry, uploads iris and trains a small
// model straight to production, uploads a Friedman1-like dataset (rows × 10 features), then POSTs a
// random-forest training on it (`--trees` trees). While it trains, autocannon sends 1-row predict
// requests for the iris model with `--connections` connections, and a probe in another process
// polls /health every 20 ms; the same load and probe run first for `--idle` seconds without a
// training. Prints predict p50/p99 and the /health tail (idle, then during training), and the
// training time, side by side. Targets: predict p99 <= 20 ms, worst /health <= 50 ms.
//
// The floor column (skip it with --no-floor): a bare Express app with fixed answers
// (bench/lib/floor-server.mjs) under the same load and probe, idle and while the same training runs
// in another process on the registry the server would open (bench/lib/floor-training.mjs), served
// like the example server (createHttpServer; FLOOR_STOCK=1: app.listen, as a stock Express app). A
// target the floor misses is out of reach of any Express server on this machine beside this
// training; the gap between the floor and a checkout is that server's own part.
//
// This checkout runs once per `--isolation` value (MODELREG_TRAIN_ISOLATION of the server: `process`,
// its default, trains in a child process; `thread`, in worker threads), in that order.
//
// The training ends when POST /train answers (the landed code trains inside the request) or, on
// code with training jobs (POST /train answers 202), when GET /jobs/:id is terminal.
//
// The landed checkout: `--landed <dir>` (a built checkout), else /tmp/modelreg-landed-<commit>,
// created when missing with `git worktree add`, this checkout's node_modules (hard links) and
// `npx turbo run build --filter=@modelreg/example-express-server...` (slow: minutes).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { call, freePort } from './lib/http.mjs';
import { printTable } from './lib/table.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    trees: { type: 'string', default: '100' },
    connections: { type: 'string', default: '10' },
    idle: { type: 'string', default: '10' },
    isolation: { type: 'string', default: 'process,thread' },
    landed: { type: 'string' },
    'landed-commit': { type: 'string', default: 'b945b74' },
    'no-landed': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    server: { type: 'string', multiple: true },
  },
});
const rows = Number(args.rows);
const trees = Number(args.trees);
const connections = Number(args.connections);
const idleSeconds = Number(args.idle);
const here = fileURLToPath(new URL('..', import.meta.url));
const irisCsv = join(here, 'packages/core/test/fixtures/datasets/iris.csv');
const IRIS_ROW = { sepal_length_cm: 5.9, sepal_width_cm: 3.0, petal_length_cm: 4.2, petal_width_cm: 1.5 };
const TRAINING_TIMEOUT_MS = 20 * 60 * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const git = (cwd, ...a) => execFileSync('git', a, { cwd, encoding: 'utf8' }).trim();

/** Builds the Friedman #1 regression data: y = 10 sin(pi x0 x1) + 20 (x2 - .5)^2 + 10 x3 + 5 x4 + N(0, 1). */
function friedmanCsv(n) {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const lines = [[...Array.from({ length: 10 }, (_, i) => `x${i}`), 'y'].join(',')];
  for (let r = 0; r < n; r++) {
    const x = Array.from({ length: 10 }, rand);
    const y = 10 * Math.sin(Math.PI * x[0] * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4] + gauss();
    lines.push([...x.map((v) => v.toFixed(5)), y.toFixed(5)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Makes sure the landed commit is checked out and its server built; returns its folder. */
function prepareLanded(commit) {
  const dir = args.landed ? resolve(args.landed) : join(tmpdir(), `modelreg-landed-${commit}`);
  const serverJs = join(dir, 'examples/express-server/dist/server.js');
  if (existsSync(serverJs)) return dir;
  if (args.landed) throw new Error(`${serverJs} is missing: build that checkout first`);
  console.log(`preparing ${dir}: git worktree add, node_modules (hard links), build (takes minutes)`);
  if (!existsSync(dir)) git(here, 'worktree', 'add', '--detach', dir, commit);
  if (!existsSync(join(dir, 'node_modules')))
    execFileSync('cp', ['-al', join(here, 'node_modules'), join(dir, 'node_modules')]);
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@modelreg/example-express-server...'], {
    cwd: dir,
    stdio: 'inherit',
  });
  return dir;
}

/** A child process that GETs /health every 20 ms (after each answer) and reports the worst and p99. */
function startProbe(base) {
  const code = `
    const base = ${JSON.stringify(base)};
    const times = [];
    const slow = []; // [ms, Date.now() at the request]
    let stop = false;
    process.on('message', () => { stop = true; });
    (async () => {
      // One untimed request first: a fresh process's first fetch loads and compiles undici and opens
      // the connection (100-200 ms on this machine), which is the probe's start, not the server.
      try { const r = await fetch(base + '/health'); await r.arrayBuffer(); } catch {}
      while (!stop) {
        const t = performance.now();
        const at = Date.now();
        try { const r = await fetch(base + '/health'); await r.arrayBuffer(); } catch {}
        times.push(performance.now() - t);
        slow.push([times.at(-1), at]);
        await new Promise((r) => setTimeout(r, 20));
      }
      slow.sort((a, b) => b[0] - a[0]);
      times.sort((a, b) => a - b);
      process.send({ n: times.length, worst: times.at(-1) ?? 0, p99: times[Math.floor(times.length * 0.99)] ?? 0, slowest: slow.slice(0, 5) }, () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise((resolvePromise) => child.once('message', resolvePromise));
  return {
    async stop() {
      child.send('stop');
      return result;
    },
  };
}

/**
 * The server's own event-loop delay since the last call, in ms: prom-client's default metrics on
 * /metrics (a `monitorEventLoopDelay` histogram at 10 ms resolution, reset by each scrape). It tells
 * the server's stalls apart from the probe's view, which also holds the probe's and autocannon's
 * turns for the two cores. null when the server has no such metric.
 */
async function eventLoopDelay(base) {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const read = (name) => {
      const m = new RegExp(`^\\w*nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
      // Node records the interval between the monitor's 10 ms timer turns: the delay is what exceeds it.
      return m ? Math.max(0, Number(m[1]) * 1000 - 10) : null;
    };
    const max = read('max');
    return max === null ? null : { max, p99: read('p99') };
  } catch {
    return null;
  }
}

function startLoad(base, durationSeconds) {
  const instance = autocannon({
    url: `${base}/models/iris/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: [IRIS_ROW] }),
    connections,
    duration: durationSeconds,
  });
  const done = new Promise((resolvePromise, reject) =>
    instance.once('done', resolvePromise).once('error', reject),
  );
  return { instance, done };
}

/** Polls `base + '/health'` every 100 ms until it answers 200 (a fresh server is starting). */
async function waitForHealth(label, base) {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`${label}: the server did not answer /health`);
    await sleep(100);
  }
}

/**
 * The two phases of one column, on a server that is up and serves the iris model: the load and the
 * probe for `idleSeconds` without a training, then again while `train()` runs (it resolves when the
 * training ended, with `{ outcome, phases, pollErrors }`).
 */
async function runPhases(label, base, train) {
  for (let i = 0; i < 20; i++) await call('POST', `${base}/models/iris/predict`, { rows: [IRIS_ROW] });

  // The same load and probe without a training, for the tail the machine gives anyway.
  const idleProbe = startProbe(base);
  await eventLoopDelay(base);
  const idle = await startLoad(base, idleSeconds).done;
  const idleLoop = await eventLoopDelay(base);
  const idleHealth = await idleProbe.stop();

  const probe = startProbe(base);
  const load = startLoad(base, TRAINING_TIMEOUT_MS / 1000);
  await sleep(500);
  await eventLoopDelay(base);
  const t0 = performance.now();
  const startedAt = Date.now();
  const { outcome, phases, pollErrors } = await train(t0);
  const trainingSeconds = (performance.now() - t0) / 1000;
  const endedAt = Date.now();
  const loop = await eventLoopDelay(base);
  load.instance.stop();
  const during = await load.done;
  const health = await probe.stop();
  return {
    label,
    outcome,
    idleP50: idle.latency.p50,
    idleP99: idle.latency.p99,
    p50: during.latency.p50,
    p99: during.latency.p99,
    max: during.latency.max,
    requests: during.requests.total,
    errors: during.non2xx + during.errors + during.timeouts,
    idleHealthWorst: idleHealth.worst,
    idleHealthP99: idleHealth.p99,
    idleHealthN: idleHealth.n,
    healthWorst: health.worst,
    healthP99: health.p99,
    healthN: health.n,
    idleLoop,
    loop,
    // When the slowest /health answers were asked, from the training's start and before its end
    // (the end is seen by a poll every 100 ms): a stall at the end points at the hand-over.
    healthSlowest: health.slowest
      .map(
        ([ms, at]) =>
          `${ms.toFixed(0)} ms at +${((at - startedAt) / 1000).toFixed(1)} s / end-${((endedAt - at) / 1000).toFixed(1)} s`,
      )
      .join('; '),
    phases: phases.map(([p, at]) => `${p} +${((at - startedAt) / 1000).toFixed(1)} s`).join(', '),
    trainingSeconds,
    pollErrors,
  };
}

/** Stops a server child: SIGTERM, then SIGKILL after 15 s. */
async function stopServer(server, exited) {
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function measure(label, root, env = {}) {
  const serverJs = join(root, 'examples/express-server/dist/server.js');
  if (!existsSync(serverJs)) throw new Error(`${serverJs} is missing: build it first`);
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-bench-sut-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // BENCH_SERVER_NODE_ARGS passes node flags to the server, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = spawn(process.execPath, [...nodeArgs, serverJs], {
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODELREG_DIR: dir,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(server, 'exit');
  try {
    await waitForHealth(label, base);
    await call('POST', `${base}/datasets?name=iris`, await readFile(irisCsv), 'text/csv');
    await call('POST', `${base}/train?wait=true`, {
      experiment: 'bench',
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 5, maxDepth: 6 } },
      register: { name: 'iris', stage: 'production' },
    });
    await call('POST', `${base}/datasets?name=friedman`, friedmanCsv(rows), 'text/csv');
    return await runPhases(label, base, async (t0) => {
      const submitted = await call('POST', `${base}/train`, {
        experiment: 'bench',
        dataset: 'friedman',
        target: 'y',
        model: { type: 'random-forest', params: { nEstimators: trees } },
        register: { name: 'friedman_rf' },
      });
      let outcome = 'succeeded';
      let pollErrors = 0;
      const phases = []; // [phase, Date.now() when a poll first saw it]
      if (submitted.status === 202) {
        const id = submitted.body.job.id;
        for (;;) {
          let body;
          try {
            ({ body } = await call('GET', `${base}/jobs/${id}`));
          } catch {
            // A server whose event loop is blocked may reset the connection (Node's headersTimeout).
            pollErrors++;
            await sleep(100);
            continue;
          }
          const phase = body.job.progress?.phase;
          if (phase && phases.at(-1)?.[0] !== phase) phases.push([phase, Date.now()]);
          if (['succeeded', 'failed', 'cancelled'].includes(body.job.state)) {
            outcome =
              body.job.state === 'succeeded' ? outcome : `${body.job.state}: ${body.job.error?.message}`;
            break;
          }
          if (performance.now() - t0 > TRAINING_TIMEOUT_MS) throw new Error(`${label}: training timed out`);
          await sleep(100);
        }
      }
      return { outcome, phases, pollErrors };
    });
  } finally {
    await stopServer(server, exited);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The machine's floor, measured like a checkout: a bare Express server (lib/floor-server.mjs, no
 * registry, fixed answers) under the same load and probe, idle and while the same training runs in
 * another process (lib/floor-training.mjs: the server's registry and POST /train, serving nothing).
 * What it shows is what any Express server gets on this machine; a target it misses is the machine's.
 */
async function measureFloor(label) {
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-bench-floor-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [join(here, 'bench/lib/floor-server.mjs'), here], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(server, 'exit');
  try {
    await waitForHealth(label, base);
    const csvFile = join(dir, 'friedman.csv');
    await writeFile(csvFile, friedmanCsv(rows));
    return await runPhases(label, base, async () => {
      const trainer = spawn(
        process.execPath,
        [join(here, 'bench/lib/floor-training.mjs'), csvFile, String(trees)],
        {
          env: { ...process.env, MODELREG_DIR: join(dir, 'registry') },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      const [code, signal] = await once(trainer, 'exit');
      return {
        outcome: code === 0 ? 'succeeded' : `failed: exit ${code ?? signal}`,
        phases: [],
        pollErrors: 0,
      };
    });
  } finally {
    await stopServer(server, exited);
    await rm(dir, { recursive: true, force: true });
  }
}

const checkouts = (args.server ?? []).map((dir) => ({ label: dir, root: resolve(dir) }));
if (!checkouts.length) {
  const head = git(here, 'rev-parse', '--short', 'HEAD');
  const branch = git(here, 'rev-parse', '--abbrev-ref', 'HEAD');
  for (const isolation of args.isolation.split(',').filter(Boolean))
    checkouts.push({
      label: `this (${branch} ${head}), ${isolation}`,
      root: here,
      env: { MODELREG_TRAIN_ISOLATION: isolation },
    });
  if (!args['no-floor']) checkouts.push({ label: 'floor: bare Express', floor: true });
  if (!args['no-landed']) {
    const commit = args['landed-commit'];
    checkouts.push({ label: `landed (${commit})`, root: prepareLanded(commit) });
  }
}

console.log(
  `Serving under training: ${rows.toLocaleString('en')} rows × 10 features, random forest of ${trees} trees; ` +
    `autocannon 1-row predict, ${connections} connections; /health probe every 20 ms`,
);
const results = [];
for (const c of checkouts) {
  console.log(`running: ${c.label}`);
  results.push(c.floor ? await measureFloor(c.label) : await measure(c.label, c.root, c.env));
}
const ms = (v) => `${v.toFixed(1)}ms`;
const loopDelay = (d) => (d ? `${ms(d.max)} / ${ms(d.p99)}` : '—');
const metrics = [
  ['predict p50, idle', (r) => ms(r.idleP50), ''],
  ['predict p99, idle', (r) => ms(r.idleP99), ''],
  ['predict p50, training', (r) => ms(r.p50), ''],
  ['predict p99, training', (r) => ms(r.p99), '<= 20ms'],
  ['predict max, training', (r) => ms(r.max), ''],
  ['predict requests (errors)', (r) => `${r.requests} (${r.errors})`, ''],
  ['/health worst, idle', (r) => ms(r.idleHealthWorst), ''],
  ['/health p99, idle (probes)', (r) => `${ms(r.idleHealthP99)} (${r.idleHealthN})`, ''],
  ['/health worst', (r) => ms(r.healthWorst), '<= 50ms'],
  ['/health p99 (probes)', (r) => `${ms(r.healthP99)} (${r.healthN})`, ''],
  ['server event-loop delay max / p99, idle', (r) => loopDelay(r.idleLoop), ''],
  ['server event-loop delay max / p99, training', (r) => loopDelay(r.loop), ''],
  ['training time', (r) => `${r.trainingSeconds.toFixed(1)}s`, ''],
  ['training outcome', (r) => r.outcome, ''],
  ['GET /jobs/:id polls reset', (r) => String(r.pollErrors), ''],
];
printTable(
  'Serving while the same server trains',
  ['', ...results.map((r) => r.label), 'target'],
  metrics.map(([name, get, target]) => [name, ...results.map(get), target]),
);
for (const r of results) {
  console.log(`slowest /health answers, ${r.label}: ${r.healthSlowest}`);
  if (r.phases) console.log(`training phases as polled, ${r.label}: ${r.phases}`);
}
