// Training time and predict throughput of the random-forest trainer's `ml-random-forest` engine
// (regression, 10 features); the native engine is benchmarked in native-trees.mjs.
// ml-random-forest's fit time grows with the square of the rows, so the 20k-row case fits fewer trees
// and the table also gives the time per tree.
import { predictEnsemble } from '@modelreg/core/formats';
import { randomForestTrainer } from '@modelreg/core/training';
import { friedman } from './lib/bench-data.mjs';
import { printTable, seconds } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const cases = quick
  ? [{ rows: 1000, trees: 5 }]
  : [
      { rows: 1000, trees: 10 },
      { rows: 5000, trees: 10 },
      { rows: 20000, trees: 2 },
    ];
const maxDepth = 10;
const features = 10;
const rows = [];
for (const c of cases) {
  const data = friedman(c.rows, features, 7);
  const params = randomForestTrainer.paramsSchema.parse({
    engine: 'ml-random-forest',
    nEstimators: c.trees,
    maxDepth,
  });
  const t0 = performance.now();
  const model = await randomForestTrainer.fit({
    x: data.x,
    nRows: c.rows,
    nFeatures: features,
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    y: data.y,
    task: 'regression',
    nClasses: undefined,
    params,
    seed: 1,
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const probe = friedman(100_000, features, 8);
  const rate = (predict) => {
    predict(1000); // warm up (and pack the forest for the fast predictor)
    const t1 = performance.now();
    predict(probe.nRows);
    return Math.round(probe.nRows / ((performance.now() - t1) / 1000)).toLocaleString('en-US');
  };
  rows.push([
    c.rows.toLocaleString('en-US'),
    c.trees,
    maxDepth,
    seconds(fitSeconds),
    seconds(fitSeconds / c.trees),
    rate((n) => model.predict(probe.x.subarray(0, n * features), n)),
    rate((n) => predictEnsemble(model.ensemble, probe.x, n)),
  ]);
}
printTable(
  'random-forest trainer, engine ml-random-forest: fit time and predict throughput (rows x 10 features, regression; predict: 100k rows, one core, through model.predict (the packed fast predictor the native serving path uses) and through the reference predictEnsemble loop)',
  ['rows', 'trees', 'max depth', 'fit', 'fit per tree', 'model.predict rows/s', 'predictEnsemble rows/s'],
  rows,
);
