import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { worker: 'src/worker.ts' },
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
