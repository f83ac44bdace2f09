// Gradient boosting side by side with XGBoost 1.7 (`tree_method=hist`, n_jobs=1) and scikit-learn's
// HistGradientBoosting (OMP_NUM_THREADS=1), in one run, on the same rows: `node bench/boosting.mjs`
// after building core (`npx turbo run build --filter=@modelreg/core`). Needs /usr/bin/python3 with
// python3-xgboost and python3-sklearn (apt): bench/boosting_ref.py makes the data sets with fixed
// seeds (Friedman #1 75k train rows; a 3-class make_classification 50k x 20; the four shared data
// sets) and fits the references. 200 rounds, depth 6, learning rate 0.1, 256 bins (scikit-learn's
// maximum is 255). Fit times are wall and CPU seconds of the fit call alone; the big two data sets are
// run BENCH_REPEATS times (default 3) and the median is shown. The machine's load is printed: wall
// times are only comparable within one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitBoosting } from '@modelreg/core/training';
import { predictEnsembleFast } from '@modelreg/core/formats';
import { PYTHON, f64, python } from './lib/boosting-ref.mjs';
import { printTable } from './lib/table.mjs';

const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const only = process.env.BENCH_ONLY?.split(',');

const probe = spawnSync(
  PYTHON,
  ['-c', 'import xgboost, sklearn; print(xgboost.__version__, sklearn.__version__)'],
  {
    encoding: 'utf8',
  },
);
if (probe.status !== 0) {
  console.log(
    'needs /usr/bin/python3 with xgboost and scikit-learn: apt-get install -y python3-xgboost python3-sklearn',
  );
  process.exit(1);
}
const [xgbVersion, sklearnVersion] = probe.stdout.trim().split(' ');
const dir = mkdtempSync(join(tmpdir(), 'modelreg-boosting-'));

function quality(meta, ensemble, x, y) {
  const p = predictEnsembleFast(ensemble, x, meta.nTest);
  if (meta.task === 'regression') {
    let mean = 0;
    for (const v of y) mean += v / y.length;
    let res = 0;
    let tot = 0;
    for (let i = 0; i < y.length; i++) {
      res += (y[i] - p[i]) ** 2;
      tot += (y[i] - mean) ** 2;
    }
    return 1 - res / tot;
  }
  const k = meta.nClasses;
  let ok = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[r * k + j] > p[r * k + best]) best = j;
    if (best === y[r]) ok++;
  }
  return ok / y.length;
}

async function fitJs(meta) {
  const name = meta.name;
  const x = f64(join(dir, `${name}.xtrain`));
  const y = f64(join(dir, `${name}.ytrain`));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fitBoosting({
    x,
    nRows: meta.nTrain,
    nFeatures: meta.nFeatures,
    y,
    task: meta.task,
    ...(meta.nClasses ? { nClasses: meta.nClasses } : {}),
    params: { nEstimators: 200, maxDepth: 6, learningRate: 0.1, maxBins: 256 },
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const q = quality(meta, result.ensemble, f64(join(dir, `${name}.xtest`)), f64(join(dir, `${name}.ytest`)));
  return { fitSeconds, cpuSeconds: (c.user + c.system) / 1e6, quality: q };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function summarize(runs) {
  return {
    fitSeconds: median(runs.map((r) => r.fitSeconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    quality: runs[0].quality,
  };
}

try {
  console.log(
    `XGBoost ${xgbVersion}, scikit-learn ${sklearnVersion}; load average at start ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  python(['prepare', '--dir', dir]);
  const metas = JSON.parse(readFileSync(join(dir, 'datasets.json'), 'utf8')).filter(
    (m) => !only || only.includes(m.name),
  );
  const rows = [];
  for (const meta of metas) {
    const big = meta.nTrain > 10_000;
    const n = big ? repeats : 1;
    const js = [];
    const xgb = [];
    const hgb = [];
    const xgbParams = JSON.stringify({ n_estimators: 200, max_depth: 6, learning_rate: 0.1, max_bin: 256 });
    const hgbParams = JSON.stringify({
      max_iter: 200,
      max_depth: 6,
      learning_rate: 0.1,
      max_bins: 255,
      max_leaf_nodes: null,
      early_stopping: false,
    });
    // Interleaved, so that a change of the machine's load hits every learner alike.
    for (let i = 0; i < n; i++) {
      js.push(await fitJs(meta));
      xgb.push(
        JSON.parse(
          python(['fit', '--dir', dir, '--name', meta.name, '--model', 'xgboost', '--params', xgbParams]),
        ),
      );
      hgb.push(
        JSON.parse(
          python(['fit', '--dir', dir, '--name', meta.name, '--model', 'hgb', '--params', hgbParams]),
        ),
      );
    }
    const a = summarize(js);
    const b = summarize(xgb);
    const c = summarize(hgb);
    rows.push([
      `${meta.name} (${meta.nTrain}x${meta.nFeatures}${meta.nClasses ? `, ${meta.nClasses} classes` : ''})`,
      meta.task === 'regression' ? 'r2' : 'accuracy',
      a.quality.toFixed(4),
      b.quality.toFixed(4),
      c.quality.toFixed(4),
      (a.quality - b.quality).toFixed(4),
      a.fitSeconds.toFixed(2),
      b.fitSeconds.toFixed(2),
      c.fitSeconds.toFixed(2),
      (a.fitSeconds / b.fitSeconds).toFixed(2) + 'x',
      a.cpuSeconds.toFixed(2),
      b.cpuSeconds.toFixed(2),
      c.cpuSeconds.toFixed(2),
      (a.cpuSeconds / b.cpuSeconds).toFixed(2) + 'x',
    ]);
    console.log(`  done: ${meta.name}`);
  }
  printTable(
    `gradient boosting: 200 rounds, depth 6, lr 0.1, 256 bins, one thread; held-out quality; fit seconds (median of ${repeats} on the big sets)`,
    [
      'dataset',
      'metric',
      'modelreg',
      'xgboost',
      'sklearn HGB',
      'Δ vs xgb',
      'wall modelreg',
      'wall xgb',
      'wall HGB',
      'ratio',
      'cpu modelreg',
      'cpu xgb',
      'cpu HGB',
      'cpu ratio',
    ],
    rows,
  );
  console.log(
    `load average at end ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
