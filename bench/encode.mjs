// Input encoding alone (validation + value rules + coding, no model): what each predict input form
// costs per call, with the encoder built once per model as LoadedModel does. 100k rows x 10 features.
import { createInputEncoder } from '@modelreg/core/serving';
import { printTable } from './lib/table.mjs';

const quick = process.env.BENCH_QUICK === '1';
const nRows = 100_000;
const nFeatures = 10;
const runs = quick ? 10 : 30;
const names = Array.from({ length: nFeatures }, (_, i) => `f${i}`);
const numeric = names.map((name) => ({ name, type: 'number', fill: 0 }));
const categories = ['a', 'b', 'c', 'd', 'e'];
const categorical = names.map((name) => ({ name, type: 'categorical', categories, fill: categories.length }));

const value = (r, i) => Math.sin(r * 7 + i);
const records = Array.from({ length: nRows }, (_, r) =>
  Object.fromEntries(names.map((n, i) => [n, value(r, i)])),
);
const stringRecords = records.map((rec) => Object.fromEntries(names.map((n) => [n, String(rec[n])])));
const categoryRecords = Array.from({ length: nRows }, (_, r) =>
  Object.fromEntries(names.map((n, i) => [n, categories[(r + i) % categories.length]])),
);
const csv = {
  csv: [names.join(','), ...records.map((rec) => names.map((n) => rec[n]).join(','))].join('\n'),
};

const matrix = records.map((rec) => names.map((n) => rec[n]));
const cases = [
  ['number[][]', numeric, matrix],
  ['records of numbers', numeric, records],
  ['records of strings (CSV cells)', numeric, stringRecords],
  ['records of categories', categorical, categoryRecords],
  ['{ csv }', numeric, { csv: csv.csv }],
];
const rows = [];
/** Min and median ms of `runs` calls of `fn`, after 3 warm-up calls. */
function timeRuns(fn) {
  for (let i = 0; i < 3; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return [times[0], times[times.length >> 1]];
}
const row = (label, [min, median]) => [
  label,
  min.toFixed(1),
  median.toFixed(1),
  Math.round(nRows / (median / 1000)).toLocaleString('en-US'),
];
for (const [label, features, input] of cases) {
  const encode = createInputEncoder(features);
  rows.push(
    row(
      label,
      timeRuns(() => encode(input)),
    ),
  );
}
// A process that serves several models: another model's encoder has seen rows of integers and rows
// with nulls, into float64 buffers. Each encoder compiles its own loops (see compileLoops in
// signature.ts), so this one's stay specialized to its own rows: 3.2 ms median here, against 6.4 ms
// with loops shared by every encoder (one run of each, 100k rows).
{
  const other = createInputEncoder(numeric);
  const ints = Array.from({ length: 1000 }, () => names.map((_, i) => i));
  const nulls = Array.from({ length: 1000 }, () => names.map((_, i) => (i % 2 ? 1.5 : null)));
  for (let i = 0; i < 50; i++) for (const input of [ints, nulls]) other.into(input, new Float64Array(10_000));
  const encode = createInputEncoder(numeric);
  const x = new Float32Array(nRows * nFeatures);
  rows.push(
    row(
      "number[][] into a reused float32 buffer, after another model's integer and null rows",
      timeRuns(() => encode.into(matrix, x)),
    ),
  );
}
// The single-row path of LoadedModel.predict: one record into a reused buffer.
{
  const encode = createInputEncoder(numeric);
  const x = new Float64Array(nFeatures);
  const one = records.slice(0, 1000).map((r) => [r]);
  for (let i = 0; i < 200_000; i++) encode.one(one[i % 1000], x);
  const n = 1_000_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) encode.one(one[i % 1000], x);
  const ms = performance.now() - t;
  rows.push([
    'one record into a reused buffer (encoder.one), 10^6 calls: total ms',
    '—',
    ms.toFixed(1),
    Math.round(n / (ms / 1000)).toLocaleString('en-US'),
  ]);
}
printTable(
  `Input encoding, ${nRows.toLocaleString('en-US')} rows x ${nFeatures} features, ${runs} runs`,
  ['input', 'min ms', 'median ms', 'rows/s (median)'],
  rows,
);
