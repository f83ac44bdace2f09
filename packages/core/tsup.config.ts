import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

// One entry per documented subpath (package.json `exports`). `/testing` is ESM-only (vitest is):
// package.json neither exports nor ships its CommonJS files.
export default defineConfig(
  buildConfig({
    index: 'src/index.ts',
    'datasets/index': 'src/datasets/index.ts',
    'formats/index': 'src/formats/index.ts',
    'training/index': 'src/training/index.ts',
    'serving/index': 'src/serving/index.ts',
    'testing/index': 'src/testing/index.ts',
  }),
);
