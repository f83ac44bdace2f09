// How fast `train` stops when its signal fires in each phase, and how free the caller's event loop
// stays while it trains: `node bench/abort-latency.mjs` after building core. Friedman #1, 10 features.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { createRandom, friedman } from './lib/bench-data.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const nRows = quick ? 20_000 : 100_000;
const nFeatures = 10;

const d = friedman(nRows, nFeatures, 7);
const header = [...Array.from({ length: nFeatures }, (_, f) => `x${f}`), 'y'];
const lines = [header.join(',')];
const records = [];
for (let r = 0; r < nRows; r++) {
  const row = {};
  const cells = [];
  for (let f = 0; f < nFeatures; f++) {
    row[header[f]] = d.x[r * nFeatures + f];
    cells.push(d.x[r * nFeatures + f].toFixed(6));
  }
  row.y = d.y[r];
  cells.push(d.y[r].toFixed(6));
  records.push(row);
  lines.push(cells.join(','));
}
const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
});
await registry.datasets.upload('friedman.csv', new TextEncoder().encode(lines.join('\n')));
const model = { type: 'random-forest', params: { nEstimators: 30, maxDepth: 14 } };

// 1. Abort latency: from `abort()` to the rejection, at a random moment of each phase.
{
  const random = createRandom(13);
  const rows = [];
  for (const [phase, maxDelay] of [
    ['reading', 50],
    ['fitting', 500],
    ['exporting', 30],
    ['checking', 30],
    ['writing', 0],
  ]) {
    const latencies = [];
    let reached = 0;
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const controller = new AbortController();
      let abortedAt = 0;
      let seen = false;
      const lastPhase = { value: '' };
      const error = await registry
        .train({
          dataset: 'friedman',
          target: 'y',
          model,
          register: { name: 'never' },
          signal: controller.signal,
          onProgress: (p) => {
            lastPhase.value = p.phase;
            if (p.phase !== phase || seen) return;
            seen = true;
            const fire = () => {
              if (lastPhase.value === phase) reached++;
              abortedAt = performance.now();
              controller.abort();
            };
            if (maxDelay === 0) fire();
            else setTimeout(fire, random() * maxDelay);
          },
        })
        .then(
          () => null,
          (e) => e,
        );
      if (error?.code === 'ABORTED') latencies.push(performance.now() - abortedAt);
    }
    latencies.sort((a, b) => a - b);
    rows.push([
      phase,
      `${latencies.length}`,
      `${reached}`,
      latencies.length ? latencies[Math.floor(latencies.length / 2)].toFixed(1) + 'ms' : undefined,
      latencies.length ? latencies.at(-1).toFixed(1) + 'ms' : undefined,
    ]);
  }
  const left = (await registry.listExperiments()).length;
  printTable(
    `Abort latency per phase: ${nRows} rows x ${nFeatures}, 30 trees depth 14 (experiments left behind: ${left}; issue 13 measured 18.7 s during the landed ONNX export)`,
    ['phase', 'aborted', 'still in phase', 'median', 'worst'],
    rows,
  );
}

// 2. The caller's event loop while a training runs (worst delay seen by monitorEventLoopDelay).
{
  const rows = [];
  for (const [what, dataset] of [
    ['catalog dataset (CSV bytes)', 'friedman'],
    ['inline records', { rows: records }],
  ]) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t = performance.now();
    await registry.train({ dataset, target: 'y', model });
    const total = performance.now() - t;
    h.disable();
    rows.push([
      what,
      (total / 1000).toFixed(2) + 's',
      (h.max / 1e6).toFixed(1) + 'ms',
      (h.percentile(99) / 1e6).toFixed(1) + 'ms',
    ]);
  }
  printTable(
    `Event loop of the caller during one train of ${nRows} rows x ${nFeatures} (issue 13: 11.3 s frozen on the landed code)`,
    ['dataset', 'train time', 'worst delay', 'p99 delay'],
    rows,
  );
}
await registry.close();
