import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../src/training/native/index.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'native-trees-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  it.each(['esm', 'cjs'] as const)('work from a bundled %s build, as shipped in dist', async (format) => {
    const outfile = join(dir, format === 'esm' ? 'native.mjs' : 'native.cjs');
    // tsup (the package build) bundles with esbuild like this.
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      outfile,
      logLevel: 'error',
    });
    const script = join(dir, format === 'esm' ? 'check.mjs' : 'check.cjs');
    writeFileSync(
      script,
      format === 'esm'
        ? `import { fitForest } from './native.mjs';\n${check}`
        : `const { fitForest } = require('./native.cjs');\n(async () => {\n${check}\n})();`,
    );
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(JSON.parse(out)).toEqual({ same: true, trees: 4 });
  });
});
