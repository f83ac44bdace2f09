// Starts the forest worker when core runs from its TypeScript source (vitest resolves core to src/):
// a worker thread cannot load `.ts`, so this bundles ./forest-worker.ts with esbuild (a dev dependency
// of the repository) and imports the bundle. The built package never uses this file.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const result = await build({
  entryPoints: [fileURLToPath(new URL('./forest-worker.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  logLevel: 'silent',
});
const code = result.outputFiles[0].text;
await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
