// Held-out quality on the shared datasets: modelreg's random forest (each engine) against scikit-learn's
// RandomForestClassifier/Regressor with the same tree count, on exactly the same 25% stratified split.
import { createDefaultTrainerRegistry, fitModel } from '@modelreg/core';
import { loadSplit, sharedDatasets } from './lib/datasets.mjs';
import { sklearnForest } from './lib/sklearn.mjs';
import { fixed, printTable, seconds } from './lib/table.mjs';

const nEstimators = Number(process.env.BENCH_TREES ?? 100);
const trainers = createDefaultTrainerRegistry();
/** Engines of the random-forest trainer to compare; `engine` is the trainer param that picks one. */
const engines = (process.env.BENCH_ENGINES ?? 'ml-random-forest').split(',');

const rows = [];
for (const { name, target } of sharedDatasets) {
  const split = await loadSplit(name, target);
  const metric = split.task === 'classification' ? 'accuracy' : 'r2';
  const ours = [];
  for (const engine of engines) {
    const params = { nEstimators, ...(engine === 'default' ? {} : { engine }) };
    const t0 = performance.now();
    const fit = await fitModel({
      table: split.table,
      target,
      trainer: trainers.get('random-forest'),
      params:
        engine === 'ml-random-forest' && !trainers.get('random-forest').paramsSchema?.shape?.engine
          ? { nEstimators }
          : params,
      split: { testSize: split.testSize, seed: split.seed },
    });
    ours.push({ engine, quality: fit.metrics[metric], seconds: (performance.now() - t0) / 1000 });
  }
  const sk = sklearnForest({
    train: split.train,
    test: split.test,
    task: split.task,
    nEstimators,
    maxDepth: null,
  });
  for (const o of ours) {
    rows.push([
      name,
      metric,
      o.engine,
      fixed(o.quality, 4),
      sk ? fixed(sk.quality, 4) : undefined,
      sk ? (o.quality - sk.quality >= 0 ? '+' : '') + (o.quality - sk.quality).toFixed(4) : undefined,
      seconds(o.seconds),
      sk ? seconds(sk.fitSeconds) : undefined,
    ]);
  }
}
printTable(
  `Held-out quality, ${nEstimators} trees, 25% stratified holdout (seed 42), same split for both`,
  [
    'dataset',
    'metric',
    'modelreg engine',
    'modelreg',
    'scikit-learn',
    'difference',
    'modelreg fit',
    'sklearn fit',
  ],
  rows,
);
