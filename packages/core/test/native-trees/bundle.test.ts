import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../../../tsup.shared.js';
import { entry } from '../../tsup.config.js';

// Inside the package (git-ignored `.tmp/`), so the build resolves its dependencies as dist does.
const tmp = fileURLToPath(new URL('../../.tmp/', import.meta.url));
mkdirSync(tmp, { recursive: true });
const dir = mkdtempSync(join(tmp, 'native-trees-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The package's own tsup options and worker entry, with the native learner as the main entry.
beforeAll(async () => {
  const options = buildConfig(
    { native: 'src/training/native/index.ts', 'training/forest-worker': entry['training/forest-worker'] },
    { shims: true, dts: false, sourcemap: false, outDir: dir, silent: true },
  );
  await build({ ...options, config: false });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
}, 60_000);

// Fits the same small forest on the calling thread and on 2 workers and prints whether they match.
const check = `
const n = 600, nFeatures = 4;
const x = new Float64Array(n * nFeatures).map((_, i) => ((i * 7919) % 1000) / 1000);
const y = new Float64Array(n).map((_, r) => (x[r * nFeatures] + x[r * nFeatures + 1] > 1 ? 1 : 0));
const input = { x, nRows: n, nFeatures, y, task: 'classification', params: { nEstimators: 4, maxFeatures: 2 }, seed: 9 };
const a = await fitForest(input);
const b = await fitForest({ ...input, workers: 2 });
const same = a.trees.every((t, i) => ['feature', 'threshold', 'left', 'right', 'value'].every(
  (k) => Buffer.from(t[k].buffer).equals(Buffer.from(b.trees[i][k].buffer))));
console.log(JSON.stringify({ same, trees: b.trees.length }));
`;

describe('native forest worker threads', () => {
  it.each(['esm', 'cjs'] as const)('work from the %s build, as shipped in dist', (format) => {
    const script = join(dir, format === 'esm' ? 'check.js' : 'check.cjs');
    writeFileSync(
      script,
      format === 'esm'
        ? `import { fitForest } from './native.js';\n${check}`
        : `const { fitForest } = require('./native.cjs');\n(async () => {\n${check}\n})();`,
    );
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(out)).toEqual({ same: true, trees: 4 });
  });
});
