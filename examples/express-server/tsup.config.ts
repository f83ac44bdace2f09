import { defineConfig } from 'tsup';
import { buildConfig } from '../../tsup.shared.js';

export default defineConfig(
  buildConfig({ server: 'src/server.ts', app: 'src/app.ts' }, { format: ['esm'], dts: false }),
);
