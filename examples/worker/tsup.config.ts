import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

export default defineConfig(buildConfig({ worker: 'src/worker.ts' }, { format: ['esm'], dts: false }));
