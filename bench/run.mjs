// Runs the benchmarks and prints their tables: `npm run bench` (all) or `npm run bench -- predict quality`.
// Each bench is a separate Node process so that one's memory and JIT state do not colour another's.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const all = [
  'ml-random-forest',
  'predict',
  'predict-server',
  'encode',
  'quality',
  'native-trees',
  'resolve',
  'gc',
  'abort-and-limits',
  'export-speed',
  'abort-latency',
  'store-write-stall',
  'serving-under-training',
  'boosting',
  'forest-vs-xgboost',
  'nats-worker',
  'linear',
];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`unknown bench "${name}"; known: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n===== ${name} =====`);
  const file = fileURLToPath(new URL(`./${name}.mjs`, import.meta.url));
  const result = spawnSync(process.execPath, ['--expose-gc', file], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
