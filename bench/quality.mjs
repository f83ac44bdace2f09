// Held-out quality on the shared datasets: modelreg's random forest, engine 'native' and engine
// 'ml-random-forest' side by side, against scikit-learn's RandomForestClassifier/Regressor (n_jobs=1) with
// the same tree count and default params, on exactly the same 25% stratified splits. The test sets are
// small (38 to 143 rows: one iris row is 0.026 accuracy), so every figure is the mean over BENCH_SEEDS
// splits (split seed = model seed = scikit-learn random_state = 42, 43, ...), with the standard error
// of the paired difference; the first table is the single seed-42 split.
// Env: BENCH_TREES (default 100) · BENCH_ENGINES (default native,ml-random-forest) · BENCH_SEEDS (default 10).
import { createDefaultTrainerRegistry, fitModel } from '@modelreg/core/training';
import { loadSplit, sharedDatasets } from './lib/datasets.mjs';
import { sklearnForest } from './lib/sklearn.mjs';
import { fixed, printTable, seconds } from './lib/table.mjs';

const nEstimators = Number(process.env.BENCH_TREES ?? 100);
const nSeeds = Number(process.env.BENCH_SEEDS ?? 10);
const trainers = createDefaultTrainerRegistry();
/** Engines of the random-forest trainer to compare (its `engine` param). */
const engines = (process.env.BENCH_ENGINES ?? 'native,ml-random-forest').split(',');

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stdErr = (xs) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length);
};
const signed = (v) => (v >= 0 ? '+' : '') + v.toFixed(4);

const single = [];
const averaged = [];
for (const { name, target } of sharedDatasets) {
  const runs = engines.map(() => ({ quality: [], seconds: [] }));
  const sk = { quality: [], seconds: [] };
  let metric;
  for (let s = 0; s < nSeeds; s++) {
    const seed = 42 + s;
    const split = await loadSplit(name, target, { seed });
    metric = split.task === 'classification' ? 'accuracy' : 'r2';
    for (const [i, engine] of engines.entries()) {
      const t0 = performance.now();
      const fit = await fitModel({
        table: split.table,
        target,
        trainer: trainers.get('random-forest'),
        params: { engine, nEstimators },
        split: { testSize: split.testSize, seed },
      });
      runs[i].quality.push(fit.metrics[metric]);
      runs[i].seconds.push((performance.now() - t0) / 1000);
    }
    const r = sklearnForest({ ...split, nEstimators, maxDepth: null, seed });
    if (r) {
      sk.quality.push(r.quality);
      sk.seconds.push(r.fitSeconds);
    }
  }
  const hasSk = sk.quality.length === nSeeds;
  for (const [i, engine] of engines.entries()) {
    const q = runs[i].quality;
    single.push([
      name,
      metric,
      engine,
      fixed(q[0], 4),
      hasSk ? fixed(sk.quality[0], 4) : undefined,
      hasSk ? signed(q[0] - sk.quality[0]) : undefined,
      seconds(runs[i].seconds[0]),
      hasSk ? seconds(sk.seconds[0]) : undefined,
    ]);
    const diffs = hasSk ? q.map((v, k) => v - sk.quality[k]) : [];
    averaged.push([
      name,
      metric,
      engine,
      fixed(mean(q), 4),
      hasSk ? fixed(mean(sk.quality), 4) : undefined,
      hasSk ? `${signed(mean(diffs))} ± ${stdErr(diffs).toFixed(4)}` : undefined,
      hasSk ? Math.max(...diffs.map(Math.abs)).toFixed(4) : undefined,
      seconds(mean(runs[i].seconds)),
      hasSk ? seconds(mean(sk.seconds)) : undefined,
    ]);
  }
}
printTable(
  `Held-out quality, ${nEstimators} trees, 25% stratified holdout, seed 42 (one split; same split for both)`,
  [
    'dataset',
    'metric',
    'modelreg engine',
    'modelreg',
    'scikit-learn',
    'difference',
    'modelreg fitModel',
    'sklearn fit',
  ],
  single,
);
printTable(
  `Held-out quality, ${nEstimators} trees, mean over ${nSeeds} seeded 25% stratified splits (seeds 42..${41 + nSeeds})`,
  [
    'dataset',
    'metric',
    'modelreg engine',
    'modelreg',
    'scikit-learn',
    'mean diff ± s.e.',
    'max |diff|',
    'modelreg fitModel',
    'sklearn fit',
  ],
  averaged,
);
