import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const core = (p: string): string => fileURLToPath(new URL(`./packages/core/src/${p}`, import.meta.url));

/** Tests run against core's TypeScript source, so no build is needed between a core change and a test. */
export const coreAlias = [
  ...['testing', 'datasets', 'formats', 'training', 'serving'].map((entry) => ({
    find: new RegExp(`^@modelreg/core/${entry}$`),
    replacement: core(`${entry}/index.ts`),
  })),
  { find: /^@modelreg\/core$/, replacement: core('index.ts') },
];

const pkg = (name: string): string =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

/** Every workspace package resolved to its source: for cross-package tests that need no build. */
export const sourceAlias = [
  ...coreAlias,
  ...['meta-sqlite', 'meta-postgres', 'queue-pgboss', 'bus-nats', 'storage-fs', 'storage-s3'].map((name) => ({
    find: new RegExp(`^@modelreg/${name}$`),
    replacement: pkg(name),
  })),
];

/**
 * The one vitest configuration of the repository: tests in `test/**`, core (or every package, with
 * `alias: sourceAlias`) resolved to its source, generous timeouts for database and child-process tests.
 */
export function testConfig(options: { alias?: typeof coreAlias; timeoutMs?: number } = {}): ViteUserConfig {
  const timeout = options.timeoutMs ?? 60_000;
  return defineConfig({
    resolve: { alias: options.alias ?? coreAlias },
    test: {
      include: ['test/**/*.test.ts'],
      setupFiles: [fileURLToPath(new URL('./test-utils/isolated-tmpdir.ts', import.meta.url))],
      testTimeout: timeout,
      hookTimeout: Math.max(timeout, 60_000),
    },
  });
}
