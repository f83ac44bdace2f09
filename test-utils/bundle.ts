import { build } from 'esbuild';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const coreSrc = fileURLToPath(new URL('../packages/core/src/', import.meta.url));

/**
 * Bundles a TypeScript entry (a child-process script for multi-process tests) into one ESM file,
 * with `@modelreg/*` resolved to their TypeScript sources, so tests need no prior build.
 * Native and driver packages stay external. Returns the path of the bundled `.mjs` file.
 */
export async function bundleForChildProcess(entry: string): Promise<string> {
  // Inside the repo's node_modules, so the bundle's bare imports resolve from there at run time.
  const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  const outdir = mkdtempSync(join(cache, 'modelreg-child-'));
  const outfile = join(outdir, 'child.mjs');
  const pkg = (name: string): string =>
    fileURLToPath(new URL(`../packages/${name}/src/index.ts`, import.meta.url));
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
    external: [
      'better-sqlite3',
      'pg',
      'pg-native',
      'pg-boss',
      'nats',
      'onnxruntime-node',
      '@aws-sdk/*',
      'vitest',
      'papaparse',
      'ml-*',
      'zod',
      'protobufjs',
    ],
    alias: {
      ...Object.fromEntries(
        ['testing', 'datasets', 'formats', 'training', 'serving'].map((entry) => [
          `@modelreg/core/${entry}`,
          join(coreSrc, `${entry}/index.ts`),
        ]),
      ),
      '@modelreg/core': join(coreSrc, 'index.ts'),
      '@modelreg/meta-sqlite': pkg('meta-sqlite'),
      '@modelreg/meta-postgres': pkg('meta-postgres'),
      '@modelreg/queue-pgboss': pkg('queue-pgboss'),
      '@modelreg/bus-nats': pkg('bus-nats'),
      '@modelreg/storage-fs': pkg('storage-fs'),
      '@modelreg/storage-s3': pkg('storage-s3'),
    },
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}
