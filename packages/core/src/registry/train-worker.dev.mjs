// Starts the train worker when core runs from its TypeScript source (vitest resolves core to src/):
// a worker thread cannot load `.ts`, so this bundles ./train-worker.ts with esbuild (a dev dependency
// of the repository), its npm dependencies left as imports, into a file under node_modules/.cache
// (where those imports resolve) named by its content, and imports it. Bundling takes most of a second,
// so a manifest next to the bundle lists the source files it was made from with their sizes and
// times: while none changed, a new worker imports the bundle without running esbuild. The built
// package never uses this file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('./train-worker.ts', import.meta.url));
const dir = fileURLToPath(new URL('../../node_modules/.cache/modelreg-dev/', import.meta.url));
const manifestFile = `${dir}train-worker.manifest.json`;

/** A source file's identity for the cache: size and modification time. */
const stamp = (file) => {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
};

/** Writes `text` to `file` atomically (workers of several test files may start at once). */
const writeAtomic = (file, text) => {
  const tmp = `${file}.${process.pid}.${threadId}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
};

/** The bundle the manifest names, when every source it lists is unchanged and the bundle exists. */
function cachedBundle() {
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    if (!existsSync(manifest.bundle)) return undefined;
    for (const [file, seen] of Object.entries(manifest.inputs)) if (stamp(file) !== seen) return undefined;
    return manifest.bundle;
  } catch {
    return undefined;
  }
}

async function bundle() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    absWorkingDir: fileURLToPath(new URL('../..', import.meta.url)),
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  const file = `${dir}train-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) writeAtomic(file, code);
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs).map((input) => {
      const path = `${root}${input}`;
      return [path, stamp(path)];
    }),
  );
  writeAtomic(manifestFile, JSON.stringify({ bundle: file, inputs }));
  return file;
}

await import(pathToFileURL(cachedBundle() ?? (await bundle())).href);
