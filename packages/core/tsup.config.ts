import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

// One entry per documented subpath (package.json `exports`). `/testing` is ESM-only (vitest is):
// package.json neither exports nor ships its CommonJS files. `types` is the types-only `/types`
// entry (its JS files are empty). `training/forest-worker` is the worker threads' module, started by
// file next to the bundle; `shims` gives the CommonJS build the `import.meta.url` that locates it.
export const entry = {
  index: 'src/index.ts',
  'datasets/index': 'src/datasets/index.ts',
  'formats/index': 'src/formats/index.ts',
  'training/index': 'src/training/index.ts',
  'serving/index': 'src/serving/index.ts',
  'testing/index': 'src/testing/index.ts',
  types: 'src/public-types.ts',
  'training/forest-worker': 'src/training/native/forest-worker.ts',
  'training/train-worker': 'src/registry/train-worker.ts',
};

export default defineConfig(buildConfig(entry, { shims: true }));
