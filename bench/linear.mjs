// The `linear` trainer next to scikit-learn 1.2 (acceptance 2 of issue 17): `node bench/linear.mjs`
// after building core (`npx turbo run build --filter=@modelreg/core`). For each shared dataset,
// modelreg fits on its split (registry.train's: test 20 %, seed 42); scikit-learn's LinearRegression,
// Ridge and LogisticRegression (lbfgs, the same C, tol 1e-10) fit on the same standardised / one-hot
// design rows, written to a file. Coefficients are compared as max |ours - theirs| / max |theirs|
// (intercepts included; multinomial intercepts centred, as both are only defined up to a shift), and
// held-out r2 / accuracy side by side. One thread on both sides. For logistic regression, both are
// also compared with the optimum to machine precision (scikit-learn's newton-cg at tol 1e-14).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTable, profileCsv } from '@modelreg/core/datasets';
import { designMatrix } from '@modelreg/core/formats';
import { fitModel, linearTrainer } from '@modelreg/core/training';
import { datasetPath, loadSplit, sharedDatasets } from './lib/datasets.mjs';
import { sklearnAvailable } from './lib/sklearn.mjs';
import { fixed, printTable } from './lib/table.mjs';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./sklearn_linear.py', import.meta.url));
const TEST_SIZE = 0.2;
const SEED = 42;
const COEF_TOLERANCE = 1e-4;
const METRIC_TOLERANCE = 0.005;

function sklearnLinear(z, y, nTrain, width, model, extra) {
  const dir = mkdtempSync(join(tmpdir(), 'modelreg-linear-'));
  try {
    writeFileSync(join(dir, 'z.bin'), Buffer.from(z.buffer, z.byteOffset, z.byteLength));
    writeFileSync(join(dir, 'y.bin'), Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    const args = [SCRIPT, '--z', join(dir, 'z.bin'), '--y', join(dir, 'y.bin')];
    args.push('--n-train', String(nTrain), '--width', String(width), '--model', model, ...extra);
    const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (run.status !== 0) throw new Error(`sklearn_linear.py failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows of [coef..., intercept], intercepts centred over rows when there are several. */
function flatten(coef, intercept) {
  const mean = intercept.length > 1 ? intercept.reduce((a, b) => a + b, 0) / intercept.length : 0;
  return coef.flatMap((row, k) => [...row, intercept[k] - mean]);
}

function relativeDiff(ours, theirs) {
  let diff = 0;
  let scale = 0;
  ours.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  });
  return diff / Math.max(scale, 1e-300);
}

function concat(a, b) {
  const out = new Float64Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

if (!sklearnAvailable()) process.exit(0);
const rows = [];
let failures = 0;
for (const { name, target } of sharedDatasets) {
  const csv = readFileSync(datasetPath(name));
  const profile = await profileCsv(csv);
  const table = await loadTable(csv, profile.columns);
  const split = await loadSplit(name, target, { testSize: TEST_SIZE, seed: SEED });
  const configs =
    split.task === 'regression'
      ? [
          ['LinearRegression', {}, []],
          ['Ridge', { alpha: 1 }, ['--alpha', '1']],
          ['Ridge', { alpha: 10 }, ['--alpha', '10']],
        ]
      : [
          ['LogisticRegression', { C: 1 }, ['--C', '1']],
          ['LogisticRegression', { C: 0.1 }, ['--C', '0.1']],
        ];
  for (const [model, params, extra] of configs) {
    const t = performance.now();
    const fit = await fitModel({
      table,
      target,
      trainer: linearTrainer,
      params,
      split: { testSize: TEST_SIZE, seed: SEED },
    });
    const oursSeconds = (performance.now() - t) / 1000;
    const linear = fit.model.linear;
    const width = linear.coef[0].length;
    const zTrain = designMatrix(linear.inputs, split.train.x, split.train.nRows);
    const zTest = designMatrix(linear.inputs, split.test.x, split.test.nRows);
    const theirs = sklearnLinear(
      concat(zTrain, zTest),
      concat(split.train.y, split.test.y),
      split.train.nRows,
      width,
      model,
      extra,
    );
    const coefDiff = relativeDiff(
      flatten(linear.coef, linear.intercept),
      flatten(theirs.coef, theirs.intercept),
    );
    const ours = flatten(linear.coef, linear.intercept);
    const optimum = theirs.ref ? flatten(theirs.ref.coef, theirs.ref.intercept) : undefined;
    const oursToOptimum = optimum ? relativeDiff(ours, optimum).toExponential(2) : undefined;
    const sklearnToOptimum = optimum
      ? relativeDiff(flatten(theirs.coef, theirs.intercept), optimum).toExponential(2)
      : undefined;
    const ourMetric = split.task === 'regression' ? fit.metrics.r2 : fit.metrics.accuracy;
    const metricDiff = Math.abs(ourMetric - theirs.metric);
    const ok = coefDiff <= COEF_TOLERANCE && metricDiff <= METRIC_TOLERANCE;
    if (!ok) failures++;
    rows.push([
      name,
      `${model}(${Object.entries(params)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')})`,
      `${split.train.nRows}x${width}`,
      coefDiff.toExponential(2),
      oursToOptimum,
      sklearnToOptimum,
      fixed(ourMetric),
      fixed(theirs.metric),
      `${linear.solver?.method ?? ''} ${linear.solver?.iterations ?? ''}`,
      String(theirs.n_iter),
      (oursSeconds * 1000).toFixed(1) + 'ms',
      (theirs.fit_s * 1000).toFixed(1) + 'ms',
      ok ? 'ok' : 'FAIL',
    ]);
  }
}
printTable(
  `linear vs scikit-learn ${sklearnAvailable()} (coef: max |diff| / max |sklearn|, limit ${COEF_TOLERANCE}; metric: held-out r2 or accuracy, limit ${METRIC_TOLERANCE})`,
  [
    'dataset',
    'model',
    'train design',
    'coef rel diff',
    'modelreg vs optimum',
    'sklearn lbfgs vs optimum',
    'modelreg',
    'sklearn',
    'modelreg solver',
    'sklearn iters',
    'modelreg fitModel',
    'sklearn fit',
    '',
  ],
  rows,
);
if (failures > 0) {
  console.log(`\n${failures} comparison(s) outside the limits`);
  process.exitCode = 1;
}
