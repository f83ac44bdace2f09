// The whole `registry.train` call of a random forest next to XGBoost 1.7's histogram random forest
// (`XGBRFRegressor`, `tree_method=hist`, n_jobs=1), in one run, on the same rows: `node
// bench/forest-vs-xgboost.mjs` after building core (`npx turbo run build --filter=@modelreg/core`).
// Friedman #1 (bench/boosting_ref.py: make_friedman1, seed 0; 75,000 training rows of 100,000), 20
// trees, depth 12, all features at every split. modelreg's call is timed three ways: native format
// only, as the first training on a data set version (the CSV is parsed) and again (the train worker
// kept the parsed table); and again with the ONNX export and its parity check. XGBoost's figure is
// its fit alone, on arrays in memory. XGBRF keeps its default row subsample (0.8) with
// colsample_bynode 1. Median of BENCH_REPEATS (default 3), interleaved; wall and CPU seconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { PYTHON, f64, python } from './lib/boosting-ref.mjs';
import { printTable } from './lib/table.mjs';

const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const probe = spawnSync(PYTHON, ['-c', 'import xgboost; print(xgboost.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log('needs /usr/bin/python3 with xgboost: apt-get install -y python3-xgboost python3-sklearn');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'modelreg-forest-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  console.log(
    `XGBoost ${probe.stdout.trim()}; load average at start ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  python(['prepare', '--dir', dir]);
  const F = 10;
  // The test rows first: train's split is stratified for classification only, so with testSize
  // 0.25 and this seed it draws its own 25% — the same distribution, not the same rows as XGBoost's.
  const parts = ['xtrain', 'xtest'].map((s) => f64(join(dir, `friedman1.${s}`)));
  const ys = ['ytrain', 'ytest'].map((s) => f64(join(dir, `friedman1.${s}`)));
  const lines = [[...Array.from({ length: F }, (_, f) => `x${f}`), 'y'].join(',')];
  parts.forEach((x, p) => {
    for (let r = 0; r < ys[p].length; r++) {
      lines.push([...Array.from(x.subarray(r * F, r * F + F)), ys[p][r]].join(','));
    }
  });
  const registry = await ModelRegistry.open({
    metadata: createMemoryMetadataStore(),
    artifacts: createMemoryArtifactStore(),
  });
  const csv = lines.join('\n');
  const train = async (formats, dataset = 'friedman1') => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await registry.train({
      dataset,
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 20, maxDepth: 12, maxFeatures: 'all' } },
      split: { testSize: 0.25, seed: 1 },
      formats,
    });
    const c = process.cpuUsage(c0);
    return {
      fitSeconds: (performance.now() - t0) / 1000,
      cpuSeconds: (c.user + c.system) / 1e6,
      quality: r.metrics.r2,
    };
  };
  const coldRuns = [];
  const nativeRuns = [];
  const onnxRuns = [];
  const xgbRuns = [];
  const xgbParams = JSON.stringify({ n_estimators: 20, max_depth: 12, max_bin: 256, colsample_bynode: 1.0 });
  for (let i = 0; i < repeats; i++) {
    // Each repeat uploads a new version of the data set (the same rows; i + 1 blank lines at the end
    // change its bytes), whose first training parses the CSV; the next ones on it find the table the
    // train worker kept.
    await registry.datasets.upload('friedman1.csv', new TextEncoder().encode(csv + '\n'.repeat(i + 1)));
    coldRuns.push(await train(['native']));
    nativeRuns.push(await train(['native']));
    onnxRuns.push(await train(['native', 'onnx']));
    xgbRuns.push(
      JSON.parse(
        python(['fit', '--dir', dir, '--name', 'friedman1', '--model', 'xgbrf', '--params', xgbParams]),
      ),
    );
  }
  const m = (runs, k) => median(runs.map((r) => r[k]));
  const xw = m(xgbRuns, 'fitSeconds');
  const xc = m(xgbRuns, 'cpuSeconds');
  const row = (what, runs) => [
    what,
    runs[0].quality.toFixed(4),
    m(runs, 'fitSeconds').toFixed(2),
    (m(runs, 'fitSeconds') / xw).toFixed(2) + 'x',
    m(runs, 'cpuSeconds').toFixed(2),
    (m(runs, 'cpuSeconds') / xc).toFixed(2) + 'x',
  ];
  printTable(
    `random forest, Friedman #1 75,000 x 10, 20 trees, depth 12, all features, one thread (median of ${repeats})`,
    ['what', 'held-out r2', 'wall s', 'vs XGBRF', 'cpu s', 'cpu vs XGBRF'],
    [
      row('modelreg registry.train, native only, first on the data set', coldRuns),
      row('modelreg registry.train, native only, again (table kept)', nativeRuns),
      row('modelreg registry.train, native + ONNX, again (table kept)', onnxRuns),
      row('XGBRFRegressor fit (hist, n_jobs=1)', xgbRuns),
    ],
  );
  console.log(
    `load average at end ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
