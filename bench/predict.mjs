// Predict throughput and latency through LoadedModel.predict, against a bare onnxruntime-node session
// on the same model.onnx and against the native JS predictor. 25k rows x 10 features, a 20-tree,
// depth-10 random forest (regression, native engine) trained on BENCH_TRAIN_ROWS rows (default 100k).
// Batch cases report wall time and the process's CPU time (user + system, all threads), each the
// median of interleaved rounds: on a shared machine the CPU ratio is the steadier one.
// The native session under onnxruntime-node's InferenceSession (its internal binding, which modelreg
// runs when it recognizes it: see formats/onnx/binding.ts) is timed too, as the floor of any wrapper.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { createOnnxPredictor } from '@modelreg/core/formats';
import { friedman } from './lib/bench-data.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const trainRows = Number(process.env.BENCH_TRAIN_ROWS ?? (quick ? 2000 : 100_000));
const nRows = 25_000;
const nFeatures = 10;
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 3 : 7));
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
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Minor page faults of this process so far (Linux; null elsewhere). A fresh JS array of more than
 * ~16k elements is a large object that V8 maps anew each time, one fault per 4 KiB page touched; on
 * a loaded virtual machine each fault costs tens of µs, so the column explains much of the gap.
 */
function minorFaults() {
  try {
    return Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
  } catch {
    return null;
  }
}
/**
 * Times every case in the same rounds (each round starting one case further on), so that load from
 * other processes falls on all of them alike; returns the median wall and CPU seconds of each.
 */
async function timeInterleaved(cases) {
  for (const [, fn] of cases) await fn(); // warm
  const wall = cases.map(() => []);
  const cpu = cases.map(() => []);
  const faults = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (r + k) % cases.length;
      const fn = cases[i][1];
      // The garbage of the case before is not timed in this one: collected, and the collector's
      // background threads (counted in the process's CPU time) given time to finish sweeping it.
      globalThis.gc?.();
      await sleep(30);
      const f = minorFaults();
      const c = process.cpuUsage();
      const t = performance.now();
      await fn();
      wall[i].push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu[i].push((used.user + used.system) / 1000);
      if (f !== null) faults[i].push(minorFaults() - f);
    }
  }
  return {
    wall: wall.map((ts) => median(ts) / 1000),
    cpu: cpu.map((ts) => median(ts) / 1000),
    faults: faults.map((fs) => (fs.length ? median(fs) : null)),
  };
}
/** Per-call latencies in µs of each case, sampled in alternating blocks of 500 calls. */
async function latenciesInterleaved(cases) {
  const out = cases.map(() => []);
  for (const [, fn] of cases) for (let i = 0; i < 2000; i++) await fn(i);
  const block = 500;
  for (let done = 0; done < singleIterations; done += block) {
    for (const [c, [, fn]] of cases.entries()) {
      for (let i = done; i < done + block; i++) {
        const t = process.hrtime.bigint();
        await fn(i);
        out[c].push(Number(process.hrtime.bigint() - t) / 1000);
      }
    }
  }
  return out.map((l) => Float64Array.from(l).sort());
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

const sessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
};
const session = await ort.InferenceSession.create(onnxBytes, sessionOptions);
const { binding, initOrt } = createRequire(import.meta.url)('onnxruntime-node/dist/binding');
initOrt();
const nativeSession = new binding.InferenceSession();
nativeSession.loadModel(onnxBytes.buffer, onnxBytes.byteOffset, onnxBytes.byteLength, sessionOptions);
const fetchVariable = { variable: null };
const probe = await createOnnxPredictor(onnxBytes);
const runPath = probe.path;
await probe.release();
const onnxModel = await registry.load('models:/bench/1', { format: 'onnx' });
const nativeModel = await registry.load('models:/bench/1', { format: 'native' });
const check = await onnxModel.predict(matrix.slice(0, 5));
const bare = await session.run({
  input: new ort.Tensor('float32', x32.subarray(0, 5 * nFeatures), [5, nFeatures]),
});
if (check.some((v, i) => Math.abs(v - bare.variable.data[i]) > 1e-4))
  throw new Error('bare session and LoadedModel disagree');

const cases = [
  [
    'bare onnxruntime-node session',
    'Float32Array tensor',
    () => session.run({ input: new ort.Tensor('float32', x32, [nRows, nFeatures]) }),
  ],
  [
    'bare native binding (sync, internal)',
    'Float32Array tensor',
    async () =>
      nativeSession.run({ input: new ort.Tensor('float32', x32, [nRows, nFeatures]) }, fetchVariable),
  ],
  ['LoadedModel.predict (onnx)', 'records', () => onnxModel.predict(allRecords)],
  ['LoadedModel.predict (onnx)', 'number[][]', () => onnxModel.predict(matrix)],
  ['LoadedModel.predict (native JS)', 'records', () => nativeModel.predict(allRecords)],
  ['LoadedModel.predict (native JS)', 'number[][]', () => nativeModel.predict(matrix)],
  ['LoadedModel.predict (native JS)', '{ csv }', () => nativeModel.predict(csvInput)],
];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const loadBefore = load();
const { wall, cpu, faults } = await timeInterleaved(
  cases.map(([label, input, fn]) => [`${label} ${input}`, fn]),
);
const rate = (s) => Math.round(nRows / s).toLocaleString('en-US');
const target = { records: 0.9, 'number[][]': 0.95 };
const verdict = (ratio, want) => (ratio >= want ? 'ok' : 'MISSED');
printTable(
  `Batch predict, ${nRows.toLocaleString('en-US')} rows x ${nFeatures} features, 20 trees depth 10 (fit on ${trainRows.toLocaleString('en-US')} rows in ${fitSeconds.toFixed(1)} s), one thread, median of ${rounds} interleaved rounds; LoadedModel's ONNX runs go through the ${runPath === 'binding' ? 'native binding' : 'public InferenceSession'}; load average ${loadBefore} before, ${load()} after`,
  [
    'path',
    'input',
    'wall s',
    'rows/s',
    'vs bare (wall)',
    'CPU s',
    'vs bare (CPU)',
    'page faults',
    'acceptance (onnx): wall, CPU',
  ],
  cases.map(([label, input], i) => {
    const ratioWall = wall[0] / wall[i];
    const ratioCpu = cpu[0] / cpu[i];
    return [
      label,
      input,
      wall[i].toFixed(4),
      rate(wall[i]),
      `${ratioWall.toFixed(2)}x`,
      cpu[i].toFixed(4),
      `${ratioCpu.toFixed(2)}x`,
      faults[i],
      i === 2 || i === 3
        ? `>= ${target[input]}x: ${verdict(ratioWall, target[input])}, ${verdict(ratioCpu, target[input])}`
        : '',
    ];
  }),
);

const oneTensor = (i) =>
  new ort.Tensor('float32', x32.subarray((i % nRows) * nFeatures, ((i % nRows) + 1) * nFeatures), [
    1,
    nFeatures,
  ]);
const row = (i) => [records[i % records.length]];
const singleCases = [
  ['bare session, Float32Array', (i) => session.run({ input: oneTensor(i) })],
  [
    'bare native binding (sync, internal)',
    async (i) => nativeSession.run({ input: oneTensor(i) }, fetchVariable),
  ],
  ['LoadedModel.predict (onnx), one record', (i) => onnxModel.predict(row(i))],
  ['registry.predict(uri) (onnx), one record', (i) => registry.predict('models:/bench/1', row(i))],
  ['LoadedModel.predict (native), one record', (i) => nativeModel.predict(row(i))],
];
const lat = await latenciesInterleaved(singleCases);
const p50 = lat.map((l) => quantile(l, 0.5));
const limits = [null, null, 10, null, 2];
const loadAfterSingle = load();
printTable(
  `Single-row warm predict latency (µs), ${singleIterations.toLocaleString('en-US')} calls each in alternating blocks; load average ${loadAfterSingle} at the end`,
  ['path', 'p50 µs', 'p99 µs', 'acceptance'],
  singleCases.map(([label], i) => [
    label,
    p50[i].toFixed(1),
    quantile(lat[i], 0.99).toFixed(1),
    limits[i] !== null
      ? `p50 <= ${limits[i]} µs: ${p50[i] <= limits[i] ? 'ok' : 'MISSED'}`
      : i === 3
        ? `${(p50[3] / p50[2]).toFixed(2)}x LoadedModel (<= 1.2x: ${p50[3] / p50[2] <= 1.2 ? 'ok' : 'MISSED'})`
        : '',
  ]),
);
await session.release();
nativeSession.dispose();
await registry.close();
