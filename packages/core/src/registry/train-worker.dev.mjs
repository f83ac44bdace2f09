// Starts the train worker when core runs from its TypeScript source (vitest resolves core to src/):
// a worker thread cannot load `.ts`, so this bundles ./train-worker.ts with esbuild (a dev dependency
// of the repository), its npm dependencies left as imports, into a file under node_modules/.cache
// (where those imports resolve) named by its content, and imports it. The built package never uses
// this file.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';

const result = await build({
  entryPoints: [fileURLToPath(new URL('./train-worker.ts', import.meta.url))],
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'silent',
});
const code = result.outputFiles[0].text;
const dir = fileURLToPath(new URL('../../node_modules/.cache/modelreg-dev/', import.meta.url));
const file = `${dir}train-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
if (!existsSync(file)) {
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${threadId}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, file);
}
await import(pathToFileURL(file).href);
