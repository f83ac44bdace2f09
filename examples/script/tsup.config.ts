import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

export default defineConfig(buildConfig({ cli: 'src/cli.ts' }, { format: ['esm'], dts: false }));
