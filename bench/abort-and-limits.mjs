// How fast oversized calls are refused and aborted trains stop: `node bench/abort-and-limits.mjs`
// after building core (`npm run build -w @modelreg/core`). Friedman #1 rows, 10 features.
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { friedman } from './lib/bench-data.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const nRows = quick ? 5000 : 20_000;
const nFeatures = 10;

const open = () =>
  ModelRegistry.open({ metadata: createMemoryMetadataStore(), artifacts: createMemoryArtifactStore() });

// 1. Calls above the per-call limits: refused before any store is called.
{
  const registry = await open();
  const run = await registry.startRun({ experiment: 'limits' });
  const big = {};
  for (let i = 0; i < 1_000_000; i++) big[`k${i}`] = 1;
  const rows = [];
  for (const [what, call] of [
    ['logParams', () => run.logParams(big)],
    ['logMetrics', () => run.logMetrics(big)],
    ['setTags', () => run.setTags(big)],
  ]) {
    const t = performance.now();
    const error = await call().catch((e) => e);
    rows.push([
      `${what} with 10^6 keys`,
      error?.code ?? 'accepted',
      (performance.now() - t).toFixed(0) + 'ms',
    ]);
  }
  printTable(
    'Oversized calls (limits: 100 params, 1,000 metrics, 100 tags per call)',
    ['call', 'result', 'time'],
    rows,
  );
  await registry.close();
}

// 2. Aborted trains: time from the moment the abort was due (a timer) to the rejection.
{
  const d = friedman(nRows, nFeatures, 7);
  const records = Array.from({ length: nRows }, (_, r) => {
    const row = {};
    for (let f = 0; f < nFeatures; f++) row[`x${f}`] = d.x[r * nFeatures + f];
    row.y = d.y[r];
    return row;
  });
  const registry = await open();
  const phases = [
    ['mid-fit, main thread', { nEstimators: 60 }, (f) => f > 0, 50],
    ['mid-fit, 2 workers', { nEstimators: 60, workers: 2 }, (f) => f > 0, 50],
    ['right after the last tree', { nEstimators: 30 }, (f) => f === 1, 0],
    ['ONNX export (due 150 ms after the last tree)', { nEstimators: 30 }, (f) => f === 1, 150],
    ['ONNX export or parity (due 600 ms after)', { nEstimators: 30 }, (f) => f === 1, 600],
    ['ONNX export or parity (due 1,000 ms after)', { nEstimators: 30 }, (f) => f === 1, 1000],
    ['ONNX export or parity (due 1,500 ms after)', { nEstimators: 30 }, (f) => f === 1, 1500],
  ];
  const rows = [];
  for (const [phase, params, when, delay] of phases) {
    const controller = new AbortController();
    let due = Infinity;
    const error = await registry
      .train({
        dataset: { rows: records },
        target: 'y',
        model: { type: 'random-forest', params },
        signal: controller.signal,
        onProgress: (p) => {
          if (due !== Infinity || !when(p.fraction)) return;
          due = performance.now() + delay;
          setTimeout(() => controller.abort(), delay);
        },
      })
      .then(
        () => null,
        (e) => e,
      );
    const after = error ? (performance.now() - due).toFixed(0) + 'ms' : 'finished before the abort was due';
    rows.push([phase, error?.code ?? 'finished', after]);
  }
  const runs = (await registry.listExperiments()).length;
  printTable(
    `Aborted train on ${nRows} rows x ${nFeatures} features (experiments left behind: ${runs})`,
    ['abort during', 'result', 'after the abort'],
    rows,
  );
  await registry.close();
}
