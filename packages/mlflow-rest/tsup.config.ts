import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

export default defineConfig(buildConfig({ index: 'src/index.ts' }));
