// The Python side of the boosting and forest benchmarks (bench/boosting_ref.py: XGBoost and
// scikit-learn at one thread each), and the float64 files it writes the datasets to.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../boosting_ref.py', import.meta.url));
const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };

/** Runs `boosting_ref.py <args>` and answers its stdout; throws with its stderr when it fails. */
export function python(args) {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`boosting_ref.py ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}

/** A file of little-endian float64 values, as boosting_ref.py writes them. */
export function f64(path) {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
