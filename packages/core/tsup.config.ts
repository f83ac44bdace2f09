import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

// `/testing` is ESM-only (vitest is): package.json neither exports nor ships its CommonJS files.
export default defineConfig(buildConfig({ index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' }));
