// Predict throughput and latency through LoadedModel.predict, against a bare onnxruntime-node session
// on the same model.onnx and against the native JS predictor. 100k rows x 10 features, a 20-tree,
// depth-10 random forest (regression, native engine) trained on BENCH_TRAIN_ROWS rows (default 100k).
import * as ort from 'onnxruntime-node';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { friedman } from './lib/bench-data.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const trainRows = Number(process.env.BENCH_TRAIN_ROWS ?? (quick ? 2000 : 100_000));
const nRows = quick ? 20_000 : 100_000;
const nFeatures = 10;
const repeats = quick ? 3 : 7;
const singleIterations = quick ? 2_000 : 20_000;
const names = Array.from({ length: nFeatures }, (_, i) => `f${i}`);

function toCsv(d) {
  const lines = [[...names, 'target'].join(',')];
  for (let r = 0; r < d.nRows; r++)
    lines.push([...d.x.subarray(r * nFeatures, (r + 1) * nFeatures), d.y[r]].join(','));
  return lines.join('\n') + '\n';
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
async function timeIt(fn) {
  await fn(); // warm
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times) / 1000;
}
async function latencies(fn) {
  for (let i = 0; i < 2000; i++) await fn(i);
  const out = new Float64Array(singleIterations);
  for (let i = 0; i < singleIterations; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  return out.sort();
}

const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
});
const t0 = performance.now();
const trained = await registry.train({
  dataset: { csv: toCsv(friedman(trainRows, nFeatures, 3)) },
  target: 'target',
  model: { type: 'random-forest', params: { engine: 'native', nEstimators: 20, maxDepth: 10 } },
  register: { name: 'bench' },
});
const fitSeconds = (performance.now() - t0) / 1000;
const onnxFile = trained.version.files.find((f) => f.path === 'model.onnx');
const onnxBytes = await registry.stores.artifacts.get(onnxFile.key);

const data = friedman(nRows, nFeatures, 11);
const matrix = Array.from({ length: nRows }, (_, r) =>
  Array.from(data.x.subarray(r * nFeatures, (r + 1) * nFeatures)),
);
const allRecords = matrix.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
const records = allRecords.slice(0, 1000);
const csvInput = { csv: [names.join(','), ...matrix.map((row) => row.join(','))].join('\n') };
const x32 = Float32Array.from(data.x);

const session = await ort.InferenceSession.create(onnxBytes, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
});
const onnxModel = await registry.load('models:/bench/1', { format: 'onnx' });
const nativeModel = await registry.load('models:/bench/1', { format: 'native' });
const check = await onnxModel.predict(matrix.slice(0, 5));
const bare = await session.run({
  input: new ort.Tensor('float32', x32.subarray(0, 5 * nFeatures), [5, nFeatures]),
});
if (check.some((v, i) => Math.abs(v - bare.variable.data[i]) > 1e-4))
  throw new Error('bare session and LoadedModel disagree');

const bareSeconds = await timeIt(() =>
  session.run({ input: new ort.Tensor('float32', x32, [nRows, nFeatures]) }),
);
const onnxSeconds = await timeIt(() => onnxModel.predict(matrix));
const nativeSeconds = await timeIt(() => nativeModel.predict(matrix));
const recordsSeconds = await timeIt(() => nativeModel.predict(allRecords));
const csvSeconds = await timeIt(() => nativeModel.predict(csvInput));
const rate = (s) => Math.round(nRows / s).toLocaleString('en-US');
printTable(
  `Batch predict, ${nRows.toLocaleString('en-US')} rows x ${nFeatures} features, 20 trees depth 10 (fit on ${trainRows.toLocaleString('en-US')} rows in ${fitSeconds.toFixed(1)} s), one thread, median of ${repeats}`,
  ['path', 'input', 'seconds', 'rows/s', 'vs bare session'],
  [
    [
      'bare onnxruntime-node session',
      'Float32Array tensor',
      bareSeconds.toFixed(4),
      rate(bareSeconds),
      '1.00x',
    ],
    [
      'LoadedModel.predict (onnx)',
      'number[][]',
      onnxSeconds.toFixed(4),
      rate(onnxSeconds),
      `${(bareSeconds / onnxSeconds).toFixed(2)}x`,
    ],
    [
      'LoadedModel.predict (native JS)',
      'number[][]',
      nativeSeconds.toFixed(4),
      rate(nativeSeconds),
      `${(bareSeconds / nativeSeconds).toFixed(2)}x`,
    ],
    [
      'LoadedModel.predict (native JS)',
      'records',
      recordsSeconds.toFixed(4),
      rate(recordsSeconds),
      `${(bareSeconds / recordsSeconds).toFixed(2)}x`,
    ],
    [
      'LoadedModel.predict (native JS)',
      '{ csv }',
      csvSeconds.toFixed(4),
      rate(csvSeconds),
      `${(bareSeconds / csvSeconds).toFixed(2)}x`,
    ],
  ],
);

const single = [];
const oneTensor = (i) =>
  new ort.Tensor('float32', x32.subarray((i % nRows) * nFeatures, ((i % nRows) + 1) * nFeatures), [
    1,
    nFeatures,
  ]);
for (const [label, fn] of [
  ['bare session, Float32Array', (i) => session.run({ input: oneTensor(i) })],
  ['LoadedModel.predict (onnx), one record', (i) => onnxModel.predict([records[i % records.length]])],
  ['LoadedModel.predict (native), one record', (i) => nativeModel.predict([records[i % records.length]])],
  [
    'registry.predict(uri) (onnx), one record',
    (i) => registry.predict('models:/bench/1', [records[i % records.length]]),
  ],
]) {
  const l = await latencies(fn);
  single.push([label, quantile(l, 0.5).toFixed(1), quantile(l, 0.99).toFixed(1)]);
}
printTable(
  `Single-row warm predict latency (µs), ${singleIterations.toLocaleString('en-US')} calls`,
  ['path', 'p50 µs', 'p99 µs'],
  single,
);
await session.release();
await registry.close();
