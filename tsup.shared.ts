import type { Options } from 'tsup';

/**
 * The one tsup configuration of the repository. Libraries ship ESM + CJS with declarations;
 * example apps ship ESM only (`format: ['esm']`).
 */
export function buildConfig(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    splitting: true,
    ...overrides,
  };
}
