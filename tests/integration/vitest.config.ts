import { defineConfig } from 'vitest/config';
import { sourceAlias } from '../../vitest.shared.js';

export default defineConfig({
  resolve: { alias: sourceAlias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
