import { defineConfig } from 'vitest/config';
import { coreAlias } from '../../vitest.shared.js';

export default defineConfig({
  resolve: { alias: coreAlias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
