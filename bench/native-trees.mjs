#!/usr/bin/env node
// Native tree learner vs ml-random-forest vs scikit-learn: fit time, held-out quality, peak RSS,
// predict throughput and model file size, in one run. Runs against the built core (packages/core/dist);
// build it first (`npm run build -w @modelreg/core`). Single-threaded unless a row says otherwise.
// Run with `node --expose-gc` (bench/run.mjs does).
//
// Env: BENCH_QUICK=1 tiny sizes (smoke test) · BENCH_TREES (default 20) · BENCH_DEPTH (default 12)
//      BENCH_SKIP_1M=1 · BENCH_NO_SKLEARN=1 · BENCH_NO_MLRF=1 · BENCH_PYTHON (default /usr/bin/python3)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  createTreeEnsembleModel,
  predictEnsemble,
  predictEnsembleFast,
  treeEnsembleFromJson,
  treeEnsembleToJson,
} from '@modelreg/core/formats';
import { fitForest } from '@modelreg/core/training';
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

console.log(
  `native trees benchmark — core from @modelreg/core (packages/core/dist); scikit-learn: ${sklearnState}`,
);
console.log(
  `node ${process.version}; trees ${TREES}, max depth ${DEPTH}; single thread unless noted${QUICK ? '; QUICK sizes' : ''}`,
);

// --- 1. Fit time and held-out quality. ---
const fitRows = [];
const diff = (r, sk) =>
  r?.quality !== undefined && sk?.quality !== undefined
    ? (r.quality - sk.quality >= 0 ? '+' : '') + (r.quality - sk.quality).toFixed(4)
    : undefined;
const addRow = (name, learner, r, base, sk) =>
  fitRows.push([
    name,
    learner,
    TREES,
    seconds(r?.fitSeconds),
    fixed(r?.quality),
    diff(r, sk),
    ratio(r?.fitSeconds, base),
  ]);
const regSizes = QUICK ? [2000, 5000] : [10_000, 100_000, ...(env.BENCH_SKIP_1M === '1' ? [] : [1_000_000])];
const mlRfRows = QUICK ? 500 : 4000;
const jobs = [
  ...(env.BENCH_NO_MLRF === '1' ? [] : [{ kind: 'regression', n: mlRfRows, F: 10, mlrf: true }]),
  ...regSizes.map((n) => ({ kind: 'regression', n, F: 10 })),
  { kind: 'classification', n: QUICK ? 5000 : 50_000, F: 20 },
];
let mlRfRegression;
for (const job of jobs) {
  const { d, nTrain, train, test } = dataset(job.kind, job.n, job.F);
  const name = `${job.kind === 'regression' ? 'friedman' : '3-class'} ${label(job.n)}×${job.F}`;
  const params = { trees: TREES, depth: DEPTH, maxFeatures: maxFeaturesFor(job.kind) };
  const native = await runNative(train, test, params);
  const sk = runSklearn(d, nTrain, params);
  addRow(name, 'native', native, native.fitSeconds, sk);
  if (job.mlrf) {
    mlRfRegression = runMlRf(train, test, params);
    addRow(name, 'ml-random-forest', mlRfRegression, native.fitSeconds, sk);
  }
  addRow(name, 'scikit-learn', sk, native.fitSeconds, sk);
}
printTable(
  `Fit time and held-out quality (r2 for friedman, accuracy for 3-class; max_features 1.0 for regression, sqrt for classification; ml-random-forest: 1.0 per tree)`,
  ['data', 'learner', 'trees', 'fit', 'quality', 'vs sklearn', 'time vs native'],
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
    { encoding: 'utf8', env: { ...env } },
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
const pr = dataset('regression', QUICK ? 20_000 : 100_000, 10);
const predModel = (await runNative(pr.train, pr.test, { trees: 20, depth: 10, maxFeatures: 'all' })).model;
const loaded = createTreeEnsembleModel(
  treeEnsembleFromJson(JSON.parse(JSON.stringify(treeEnsembleToJson(predModel)))),
);
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
const tLoaded = best(() => loaded.predict(probe.x, probe.nRows));
const rate = (s) => `${(probe.nRows / s / 1e6).toFixed(2)}M rows/s`;
printTable(
  `Predict: 20 trees, depth 10 (${nodeCount(predModel)} nodes, fit on ${label(pr.nTrain)} rows), 10 features, ${label(probe.nRows)} rows, one thread (best of 3)`,
  ['predictor', 'throughput'],
  [
    ['predictEnsemble (reference loop over the IR)', rate(tBase)],
    ['predictEnsembleFast (packed flat arrays)', rate(tFast)],
    ['native model loaded from model.native.json, .predict', rate(tLoaded)],
  ],
);

// --- 5. Model file size: 100-tree, depth-12 forests, regression and 3 classes. ---
const clsData = dataset('classification', QUICK ? 5000 : 50_000, 20);
const clsParams = { trees: headParams.trees, depth: 12, maxFeatures: 'sqrt' };
const clsForest = (await runNative(clsData.train, clsData.test, clsParams)).model;
// ml-random-forest cannot fit these sizes in reasonable time (its fit grows with the square of the rows),
// so its size is its measured JSON bytes per node, from real depth-12 fits on rows of the same
// distributions, times the node count of the native forest.
const mlRfCls = QUICK
  ? undefined
  : runMlRf(dataset('classification', mlRfRows, 20).train, clsData.test, { trees: 10, depth: 12 });
const sizeRows = [];
for (const [what, model, ml, mlHow] of [
  ['regression', headNative.model, mlRfRegression, `${TREES} trees on friedman ${label(mlRfRows)}×10`],
  ['3-class', clsForest, mlRfCls, `10 trees on 3-class ${label(mlRfRows)}×20`],
]) {
  const nodes = nodeCount(model);
  const v2 = JSON.stringify(treeEnsembleToJson(model));
  const v1 = JSON.stringify(treeEnsembleToJson(model, { version: 1 }));
  const perNode = (bytes) => (bytes / nodes).toFixed(1);
  sizeRows.push([
    what,
    'native JSON v2 (written)',
    mb(v2.length),
    mb(gzipSync(v2).length),
    perNode(v2.length),
    '—',
    `${nodes} nodes`,
  ]);
  sizeRows.push([
    what,
    'native JSON v1 (previous)',
    mb(v1.length),
    mb(gzipSync(v1).length),
    perNode(v1.length),
    ratio(v1.length, v2.length),
    '',
  ]);
  if (ml) {
    const est = (ml.jsonBytes / ml.nodes) * nodes;
    const how = `estimated: ${(ml.jsonBytes / ml.nodes).toFixed(1)} B/node measured on ${mlHow} (${ml.nodes} nodes, depth 12) × ${nodes} nodes`;
    sizeRows.push([
      what,
      'ml-random-forest toJSON',
      mb(est),
      undefined,
      perNode(est),
      ratio(est, v2.length),
      how,
    ]);
  }
}
printTable(
  `Model size: ${headParams.trees}-tree depth-12 native forests (regression: the headline forest; 3-class: 50k×20, max_features sqrt)`,
  ['task', 'format', 'size', 'gzip', 'bytes/node', '× v2 size', 'how'],
  sizeRows,
);
