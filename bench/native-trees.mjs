#!/usr/bin/env node
// Native tree learner vs ml-random-forest vs scikit-learn: fit time, held-out quality, peak RSS,
// predict throughput and model file size. Runs against the built core (packages/core/dist); build
// it first (`npm run build -w @modelreg/core`). Single-threaded unless a row says otherwise.
//
// Env: BENCH_QUICK=1 tiny sizes (smoke test) · BENCH_TREES (default 20) · BENCH_DEPTH (default 12)
//      BENCH_SKIP_1M=1 · BENCH_NO_SKLEARN=1 · BENCH_NO_MLRF=1 · BENCH_PYTHON (default /usr/bin/python3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { accuracyOfProba, friedman, r2, splitRows, threeClasses, toRows } from './lib/bench-data.mjs';
import { fixed, mb, printTable, seconds } from './lib/table.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const TREES = Number(env.BENCH_TREES ?? (QUICK ? 5 : 20));
const DEPTH = Number(env.BENCH_DEPTH ?? 12);
const PYTHON = env.BENCH_PYTHON ?? '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'bench-native-trees-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The core package: its dist when it exports the native learner, else the sources bundled with esbuild. */
async function loadCore() {
  try {
    const core = await import('@modelreg/core');
    if (typeof core.fitForest === 'function' && typeof core.predictEnsembleFast === 'function') {
      return { core, from: '@modelreg/core (packages/core/dist)' };
    }
  } catch {
    // not built: fall through
  }
  const src = join(here, '../packages/core/src');
  const entry = join(tmp, 'entry.mjs');
  writeFileSync(
    entry,
    [
      `export { fitForest, predictEnsembleFast } from '${src}/training/native/index.ts';`,
      `export { predictEnsemble } from '${src}/formats/tree-ensemble.ts';`,
      `export { treeEnsembleToJson } from '${src}/formats/native/tree-ensemble-json.ts';`,
    ].join('\n'),
  );
  const { build } = await import('esbuild');
  const outfile = join(tmp, 'core-native.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'error',
  });
  return {
    core: await import(pathToFileURL(outfile).href),
    from: 'sources bundled with esbuild (dist has no fitForest yet)',
  };
}

const { core, from } = await loadCore();
const { fitForest, predictEnsemble, predictEnsembleFast, treeEnsembleToJson } = core;

const maxFeaturesFor = (task) => (task === 'regression' ? 'all' : 'sqrt');
const quality = (d, pred, model) =>
  d.task === 'regression' ? r2(d.y, pred) : accuracyOfProba(d.y, pred, model.nOutputs);
const nodeCount = (model) => model.trees.reduce((a, t) => a + t.feature.length, 0);

async function runNative(train, test, { trees, depth, maxFeatures, workers = 1 }) {
  const t0 = performance.now();
  const model = await fitForest({
    ...train,
    params: { nEstimators: trees, maxDepth: depth, maxFeatures },
    seed: 1,
    workers,
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  return { fitSeconds, quality: quality(test, predictEnsembleFast(model, test.x, test.nRows), model), model };
}

function runMlRf(train, test, { trees, depth }) {
  const require = createRequire(join(here, '../packages/core/package.json'));
  const { RandomForestRegression, RandomForestClassifier } = require('ml-random-forest');
  const options = {
    nEstimators: trees,
    maxFeatures: 1.0,
    seed: 1,
    useSampleBagging: true,
    noOOB: true,
    treeOptions: { maxDepth: depth },
  };
  const t0 = performance.now();
  const rf =
    train.task === 'regression'
      ? new RandomForestRegression({ ...options, selectionMethod: 'mean' })
      : new RandomForestClassifier(options);
  rf.train(toRows(train), Array.from(train.y));
  const fitSeconds = (performance.now() - t0) / 1000;
  const pred = rf.predict(toRows(test));
  const q =
    train.task === 'regression'
      ? r2(test.y, pred)
      : pred.filter((p, i) => p === test.y[i]).length / test.nRows;
  let nodes = 0;
  const walk = (n) => {
    if (!n) return;
    nodes++;
    walk(n.left);
    walk(n.right);
  };
  for (const e of rf.estimators) walk(e.root);
  return { fitSeconds, quality: q, jsonBytes: JSON.stringify(rf.toJSON()).length, nodes };
}

let sklearnState = env.BENCH_NO_SKLEARN === '1' ? 'skipped (BENCH_NO_SKLEARN=1)' : undefined;
if (!sklearnState) {
  try {
    execFileSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' });
    sklearnState = 'ok';
  } catch {
    sklearnState = 'not installed (apt-get install -y python3-sklearn)';
  }
}

function runSklearn(d, nTrain, { trees, depth, maxFeatures }) {
  if (sklearnState !== 'ok') return undefined;
  const xPath = join(tmp, 'x.f64');
  const yPath = join(tmp, 'y.f64');
  writeFileSync(xPath, Buffer.from(d.x.buffer, d.x.byteOffset, d.x.byteLength));
  writeFileSync(yPath, Buffer.from(d.y.buffer, d.y.byteOffset, d.y.byteLength));
  const args = [join(here, 'sklearn_rf.py'), '--x', xPath, '--y', yPath, '--n-train', String(nTrain)];
  args.push('--n-features', String(d.nFeatures), '--task', d.task, '--n-estimators', String(trees));
  args.push(
    '--max-depth',
    depth === null ? 'none' : String(depth),
    '--max-features',
    String(maxFeatures),
    '--seed',
    '1',
  );
  const out = execFileSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

function dataset(kind, nTrain, nFeatures) {
  const nTest = Math.min(100_000, Math.max(1000, Math.round(nTrain / 4)));
  const d =
    kind === 'regression'
      ? friedman(nTrain + nTest, nFeatures, 7)
      : threeClasses(nTrain + nTest, nFeatures, 7);
  return { d, nTrain, ...splitRows(d, nTrain) };
}

const label = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const ratio = (a, b) => (a !== undefined && b !== undefined ? (a / b).toFixed(2) + '×' : undefined);

// --- Child mode: one fit, report peak RSS. ---
if (process.argv[2] === '--rss-child') {
  const [nRows, trees, depth] = process.argv.slice(3).map(Number);
  const d = friedman(nRows, 10, 3);
  const dataRss = process.memoryUsage().rss;
  const t0 = performance.now();
  await fitForest({ ...d, params: { nEstimators: trees, maxDepth: depth, maxFeatures: 'all' }, seed: 1 });
  const fitSeconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024, dataRss, fitSeconds }));
  process.exit(0);
}

console.log(`native trees benchmark — core from ${from}; scikit-learn: ${sklearnState}`);
console.log(
  `node ${process.version}; trees ${TREES}, max depth ${DEPTH}; single thread unless noted${QUICK ? '; QUICK sizes' : ''}`,
);

// --- 1. Fit time and held-out quality. ---
const fitRows = [];
const addRow = (name, learner, trees, r, base) =>
  fitRows.push([name, learner, trees, seconds(r?.fitSeconds), fixed(r?.quality), ratio(r?.fitSeconds, base)]);
const regSizes = QUICK ? [2000, 5000] : [10_000, 100_000, ...(env.BENCH_SKIP_1M === '1' ? [] : [1_000_000])];
const mlRfRows = QUICK ? 500 : 4000;
const jobs = [
  ...(env.BENCH_NO_MLRF === '1' ? [] : [{ kind: 'regression', n: mlRfRows, F: 10, mlrf: true }]),
  ...regSizes.map((n) => ({ kind: 'regression', n, F: 10 })),
  { kind: 'classification', n: QUICK ? 5000 : 50_000, F: 20 },
];
let mlRfSize;
for (const job of jobs) {
  const { d, nTrain, train, test } = dataset(job.kind, job.n, job.F);
  const name = `${job.kind === 'regression' ? 'friedman' : '3-class'} ${label(job.n)}×${job.F}`;
  const params = { trees: TREES, depth: DEPTH, maxFeatures: maxFeaturesFor(job.kind) };
  const native = await runNative(train, test, params);
  addRow(name, 'native', TREES, native, native.fitSeconds);
  if (job.mlrf) {
    const ml = runMlRf(train, test, params);
    mlRfSize = { bytesPerNode: ml.jsonBytes / ml.nodes, nodes: ml.nodes };
    addRow(name, 'ml-random-forest', TREES, ml, native.fitSeconds);
  }
  addRow(name, 'scikit-learn', TREES, runSklearn(d, nTrain, params), native.fitSeconds);
}
printTable(
  `Fit time and held-out quality (r2 for friedman, accuracy for 3-class; max_features 1.0 for regression, sqrt for classification)`,
  ['data', 'learner', 'trees', 'fit', 'quality', 'time vs native'],
  fitRows,
);

// --- 2. Headline: 100 trees, depth 12, all features, 100k×10. ---
const head = dataset('regression', QUICK ? 10_000 : 100_000, 10);
const headParams = { trees: QUICK ? 10 : 100, depth: 12, maxFeatures: 'all' };
const headNative = await runNative(head.train, head.test, headParams);
const headWorkers = await runNative(head.train, head.test, { ...headParams, workers: 2 });
const headSk = runSklearn(head.d, head.nTrain, headParams);
printTable(
  `Headline: ${headParams.trees} trees, depth 12, max_features 1.0, friedman ${label(head.nTrain)}×10`,
  ['learner', 'fit', 'r2', 'native / sklearn'],
  [
    [
      'native (1 thread)',
      seconds(headNative.fitSeconds),
      fixed(headNative.quality),
      ratio(headNative.fitSeconds, headSk?.fitSeconds),
    ],
    [
      'native (2 workers)',
      seconds(headWorkers.fitSeconds),
      fixed(headWorkers.quality),
      ratio(headWorkers.fitSeconds, headSk?.fitSeconds),
    ],
    ['scikit-learn (n_jobs=1)', seconds(headSk?.fitSeconds), fixed(headSk?.quality), undefined],
  ],
);

// --- 3. Peak RSS of a large fit, in a child process. ---
const rssRows = QUICK ? 100_000 : 1_000_000;
const child = JSON.parse(
  execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--rss-child', String(rssRows), String(TREES), String(DEPTH)],
    {
      encoding: 'utf8',
      env: { ...env },
    },
  ),
);
printTable(
  `Peak RSS: fit of ${TREES} trees, depth ${DEPTH} on ${label(rssRows)}×10 (child process)`,
  ['measure', 'value'],
  [
    ['RSS after generating the data', mb(child.dataRss)],
    ['peak RSS (resourceUsage().maxRSS)', mb(child.maxRss)],
    ['fit time', seconds(child.fitSeconds)],
  ],
);

// --- 4. Predict throughput: 20 trees, depth 10, 10 features. ---
const pr = dataset('regression', 20_000, 10);
const predModel = (await runNative(pr.train, pr.test, { trees: 20, depth: 10, maxFeatures: 'all' })).model;
const probe = friedman(QUICK ? 50_000 : 1_000_000, 10, 11);
const best = (fn) => {
  let s = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    fn();
    s = Math.min(s, (performance.now() - t0) / 1000);
  }
  return s;
};
const tBase = best(() => predictEnsemble(predModel, probe.x, probe.nRows));
const tFast = best(() => predictEnsembleFast(predModel, probe.x, probe.nRows));
const rate = (s) => `${(probe.nRows / s / 1e6).toFixed(2)}M rows/s`;
printTable(
  `Predict: 20 trees, depth 10, 10 features, ${label(probe.nRows)} rows (best of 3)`,
  ['predictor', 'throughput'],
  [
    ['predictEnsemble', rate(tBase)],
    ['predictEnsembleFast', rate(tFast)],
  ],
);

// --- 5. Model file size of the headline forest. ---
const json = JSON.stringify(treeEnsembleToJson(headNative.model));
const nodes = nodeCount(headNative.model);
const sizeRows = [
  [
    'native tree-ensemble JSON',
    mb(json.length),
    mb(gzipSync(json).length),
    (json.length / nodes).toFixed(1),
    'measured',
  ],
];
if (mlRfSize) {
  const est = mlRfSize.bytesPerNode * nodes;
  sizeRows.push([
    'ml-random-forest toJSON',
    mb(est),
    undefined,
    mlRfSize.bytesPerNode.toFixed(1),
    `estimated: bytes/node of its ${label(mlRfRows)}-row fit (${mlRfSize.nodes} nodes) × ${nodes} nodes`,
  ]);
  sizeRows.push(['ml-random-forest / native', ratio(est, json.length), undefined, undefined, '']);
  // Classification leaves carry one value per class, which changes the per-node sizes.
  const small = dataset('classification', QUICK ? 300 : 1000, 10);
  const smallParams = { trees: 3, depth: 12, maxFeatures: 'all' };
  const mlCls = runMlRf(small.train, small.test, smallParams);
  const nativeCls = (await runNative(small.train, small.test, smallParams)).model;
  const clsBytes = JSON.stringify(treeEnsembleToJson(nativeCls)).length / nodeCount(nativeCls);
  const how = `per node, 3-class forests of 3 trees on ${label(small.nTrain)} rows`;
  sizeRows.push(['native JSON, 3 classes', undefined, undefined, clsBytes.toFixed(1), how]);
  sizeRows.push([
    'ml-random-forest, 3 classes',
    undefined,
    undefined,
    (mlCls.jsonBytes / mlCls.nodes).toFixed(1),
    how,
  ]);
  sizeRows.push([
    'ml-random-forest / native, 3 classes',
    ratio(mlCls.jsonBytes / mlCls.nodes, clsBytes),
    undefined,
    undefined,
    '',
  ]);
}
printTable(
  `Model size: the headline forest (${headParams.trees} trees, depth 12, ${nodes} nodes)`,
  ['format', 'size', 'gzip', 'bytes/node', 'how'],
  sizeRows,
);
