// Runs bench/sklearn_rf.py on the same rows the JS side used, when /usr/bin/python3 has scikit-learn.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../sklearn_rf.py', import.meta.url));

let available;
/** Whether scikit-learn can be used; prints why not once. */
export function sklearnAvailable() {
  if (available === undefined) {
    const probe = spawnSync(PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], {
      encoding: 'utf8',
    });
    available = probe.status === 0 ? probe.stdout.trim() : null;
    if (!available)
      console.log('scikit-learn: not installed (apt-get install -y python3-sklearn); its columns are empty');
  }
  return available;
}

/**
 * Fits scikit-learn's RandomForest (n_jobs=1) on `train` and scores it on `test` (both `{ x, y, nRows, nFeatures }`,
 * float64 row-major). Returns the parsed JSON line of sklearn_rf.py, or undefined without scikit-learn.
 */
export function sklearnForest({ train, test, task, nEstimators, maxDepth, maxFeatures, seed = 0 }) {
  if (!sklearnAvailable()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'modelreg-bench-'));
  try {
    const nFeatures = train.nFeatures;
    const x = new Float64Array((train.nRows + test.nRows) * nFeatures);
    x.set(train.x, 0);
    x.set(test.x, train.nRows * nFeatures);
    const y = new Float64Array(train.nRows + test.nRows);
    y.set(train.y, 0);
    y.set(test.y, train.nRows);
    writeFileSync(join(dir, 'x.bin'), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(join(dir, 'y.bin'), Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    const args = [
      SCRIPT,
      '--x',
      join(dir, 'x.bin'),
      '--y',
      join(dir, 'y.bin'),
      '--n-train',
      String(train.nRows),
      '--n-features',
      String(nFeatures),
      '--task',
      task,
      '--n-estimators',
      String(nEstimators),
      '--max-depth',
      maxDepth == null ? 'none' : String(maxDepth),
      '--max-features',
      String(maxFeatures ?? (task === 'classification' ? 'sqrt' : 'all')),
      '--seed',
      String(seed),
    ];
    const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (run.status !== 0) throw new Error(`sklearn_rf.py failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
