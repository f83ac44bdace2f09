// ONNX export + parity check against the fit, for the issue-13 forest: `node bench/export-speed.mjs`
// after building core (`npm run build -w @modelreg/core`). 20 trees, depth 12, Friedman #1 rows with
// 10 features, 75,000 training rows (+ a 20% test split). Trainings with ONNX (the default) and
// without it (`formats: ['native']`) alternate; each is timed from its first fitting report to its
// writing phase (train's own progress reports), so the difference is what ONNX adds to a
// `registry.train` call, wall and CPU. Wall time depends on the other load of the machine.
//
// `--isolation process` trains in a train process (`trainIsolation: 'process'`; default `thread`):
// the CPU time is then this process's plus its train processes' (read from /proc, Linux only).
// `BENCH_PAIRS` sets the number of pairs (default 5).
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { friedman } from './lib/bench-data.mjs';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const nTrain = quick ? 15_000 : 75_000;
const nRows = Math.round(nTrain / 0.8);
const nFeatures = 10;
const repeats = Number(process.env.BENCH_PAIRS ?? (quick ? 1 : 5));

const d = friedman(nRows, nFeatures, 7);
const header = [...Array.from({ length: nFeatures }, (_, f) => `x${f}`), 'y'].join(',');
const lines = [header];
for (let r = 0; r < nRows; r++) {
  const row = [];
  for (let f = 0; f < nFeatures; f++) row.push(d.x[r * nFeatures + f].toFixed(6));
  row.push(d.y[r].toFixed(6));
  lines.push(row.join(','));
}
const { values: args } = parseArgs({ options: { isolation: { type: 'string', default: 'thread' } } });
const isolation = args.isolation;
if (!['thread', 'process'].includes(isolation)) throw new Error('--isolation is thread or process');
const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
  trainIsolation: isolation,
});
await registry.datasets.upload('friedman.csv', new TextEncoder().encode(lines.join('\n')));

const ticksPerMs = 100 / 1000; // USER_HZ, 100 on Linux
/** CPU ms of this process's children that run the train worker (train processes), from /proc. */
const childrenCpu = () => {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('train-worker')) continue;
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return ticks / ticksPerMs;
};
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 + (isolation === 'process' ? childrenCpu() : 0);
};
/** One training; the wall and CPU times at the first report of each phase (and at the check's end). */
async function train(formats) {
  const at = {};
  const cpuAt = {};
  await registry.train({
    dataset: 'friedman',
    target: 'y',
    model: { type: 'random-forest', params: { nEstimators: 20, maxDepth: 12 } },
    ...(formats ? { formats } : {}),
    onProgress: (p) => {
      // The check's end is its own report ("checked the ONNX export on N test rows"), sent by the
      // train worker before it hands the results over.
      const key = p.phase === 'checking' && p.message?.startsWith('checked') ? 'checked' : p.phase;
      if (at[key] !== undefined) return;
      at[key] = performance.now();
      cpuAt[key] = cpu();
    },
  });
  return { at, cpuAt };
}

// Pairs in alternating order: a training without ONNX (formats: ['native']) and one with it (the
// default). The overhead is the difference of their times from the fit's start to the writing phase
// (what a caller waits for), over the native-only time: it counts the export and the check wherever
// they run (the ONNX helper thread works while the train worker scores the test rows).
const runs = [];
for (let i = 0; i < repeats; i++) {
  const pair = {};
  for (const kind of i % 2 === 0 ? ['native', 'onnx'] : ['onnx', 'native']) {
    pair[kind] = await train(kind === 'native' ? ['native'] : undefined);
  }
  const { native, onnx } = pair;
  runs.push({
    nativeMs: native.at.writing - native.at.fitting,
    onnxMs: onnx.at.writing - onnx.at.fitting,
    nativeCpu: native.cpuAt.writing - native.cpuAt.fitting,
    onnxCpu: onnx.cpuAt.writing - onnx.cpuAt.fitting,
    // What the train worker still waited for after scoring the test rows.
    waitExport: onnx.at.checking - onnx.at.exporting,
    waitCheck: onnx.at.checked - onnx.at.checking,
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = (key) => median(runs.map((r) => r[key]));
const pct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}%`;
const row = (what, nativeMs, onnxMs, waits) => [
  what,
  nativeMs.toFixed(0),
  onnxMs.toFixed(0),
  (onnxMs - nativeMs).toFixed(0),
  pct(((onnxMs - nativeMs) / nativeMs) * 100),
  waits,
];
/** A row of the median of per-pair differences, as a share of the median native-only time. */
const pairedRow = (what, nativeKey, onnxKey) => {
  const base = m(nativeKey);
  const diff = median(runs.map((r) => r[onnxKey] - r[nativeKey]));
  return [what, base.toFixed(0), (base + diff).toFixed(0), diff.toFixed(0), pct((diff / base) * 100), ''];
};
printTable(
  `ONNX export + parity check vs fit: 20 trees, depth 12, ${nTrain} training rows x ${nFeatures} (median of ${repeats} pairs; trainIsolation ${isolation})`,
  ['', 'fit, native only ms', 'fit + ONNX ms', 'difference ms', 'overhead', 'waited for export / check ms'],
  [
    ['landed (issue 13, wall time measured there)', '2650', '3950', '1300', pct((1300 / 2650) * 100), ''],
    row(
      'this build, wall time (medians)',
      median(runs.map((r) => r.nativeMs)),
      median(runs.map((r) => r.onnxMs)),
      `${m('waitExport').toFixed(0)} / ${m('waitCheck').toFixed(0)}`,
    ),
    row(
      isolation === 'process'
        ? 'this build, CPU time (this process + train process)'
        : 'this build, CPU time of the process',
      m('nativeCpu'),
      m('onnxCpu'),
      '',
    ),
    // The fit's own time drifts by tens of ms between trainings: the median of each pair's
    // difference (both trainings of a pair run back to back) is steadier than the difference of medians.
    pairedRow('this build, wall, median of pair differences', 'nativeMs', 'onnxMs'),
    pairedRow('this build, CPU, median of pair differences', 'nativeCpu', 'onnxCpu'),
    ...runs.map((r, i) =>
      row(
        `  pair ${i + 1}${i === 0 ? ' (new train worker)' : ' (kept worker)'}, wall`,
        r.nativeMs,
        r.onnxMs,
        `${r.waitExport.toFixed(0)} / ${r.waitCheck.toFixed(0)}`,
      ),
    ),
  ],
);
console.log(
  `load average while it ran: ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores`,
);
console.log(
  'fit = from the first fitting report to the writing phase: binning, trees, test metrics and\n' +
    'importance, the native model file, and with ONNX the export (ONNX graph + protobuf encoding)\n' +
    'and the parity check (an onnxruntime session, graph optimization off, and both predictions on\n' +
    'at most 4,096 test rows). In the train worker the export and the onnxruntime side run on its\n' +
    'ONNX helper thread while the worker scores the test rows: the wall difference is what a caller\n' +
    'waits for, the CPU difference is the work (both threads). The landed row is the figure of\n' +
    'issue 13 (its code is gone); run this bench on the commit before issue 13 for its own figure.',
);
await registry.close();
