import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Acceptance 3 of issue 12: core as an npm user gets it. `npm pack` makes the tarball (what `files`
// and `exports` ship, built dist only), which is unpacked into two scratch projects outside the
// repository: one with onnxruntime-node and one without. Core's dependencies are linked from the
// repository's node_modules, so the test runs offline. The apps import only documented entries.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const coreDir = join(repo, 'packages/core');
const apps = fileURLToPath(new URL('./app/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'modelreg-consumer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Where the repository installed a package (hoisted, or nested under core). */
function installed(name: string): string {
  for (const base of [join(coreDir, 'node_modules'), join(repo, 'node_modules')]) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`${name} is not installed in the repository; run npm ci`);
}

function project(name: string, withOnnxRuntime: boolean, tarball: string): string {
  const dir = join(scratch, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@modelreg'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, '@modelreg')]);
  execFileSync('mv', [join(modules, '@modelreg/package'), join(modules, '@modelreg/core')]);
  const pkg = JSON.parse(readFileSync(join(modules, '@modelreg/core/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  const deps = [...Object.keys(pkg.dependencies), 'zod', ...(withOnnxRuntime ? ['onnxruntime-node'] : [])];
  for (const dep of deps) {
    const link = join(modules, dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(installed(dep), link, 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }));
  cpSync(apps, dir, { recursive: true });
  return dir;
}

const node = (dir: string, script: string): Record<string, unknown> =>
  JSON.parse(
    execFileSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 60_000 }),
  ) as Record<string, unknown>;

/** Where Node finds onnxruntime-node from `dir` (a node_modules in any folder above counts too), or null. */
function onnxRuntimeFrom(dir: string): string | null {
  try {
    return createRequire(join(dir, 'package.json')).resolve('onnxruntime-node');
  } catch {
    return null;
  }
}

let withOnnx: string;
let withoutOnnx: string;
let packedFiles: string[] = [];
beforeAll(() => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: coreDir,
      encoding: 'utf8',
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(scratch, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  packedFiles = files;
  expect(files).toEqual(
    expect.arrayContaining(['dist/training/forest-worker.js', 'dist/training/forest-worker.cjs']),
  );
  withOnnx = project('with-onnx', true, tarball);
  withoutOnnx = project('without-onnx', false, tarball);
}, 60_000);

describe('a consumer of the packed @modelreg/core', () => {
  it('the package ships the train worker entry in both formats (train runs its phases there)', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining(['dist/training/train-worker.js', 'dist/training/train-worker.cjs']),
    );
  });

  it.each(['app.mjs', 'app.cjs'])(
    '%s without onnxruntime-node trains, registers, loads and predicts in the native format',
    (app) => {
      expect(
        onnxRuntimeFrom(withoutOnnx),
        `onnxruntime-node must be out of reach of ${withoutOnnx}: is there a node_modules in a folder above it?`,
      ).toBeNull();
      const result = node(withoutOnnx, app);
      expect(result).toMatchObject({
        version: 1,
        formats: 'native',
        loaded: 'native',
        predictions: ['high', 'low'],
      });
      expect(result['onnxRequested']).toMatchObject({ registryError: true, code: 'UNSUPPORTED' });
      expect((result['onnxRequested'] as { message: string }).message).toContain(
        'npm install onnxruntime-node',
      );
    },
  );

  it.each(['app.mjs', 'app.cjs'])(
    '%s with onnxruntime-node trains, registers, loads and predicts in ONNX',
    (app) => {
      const result = node(withOnnx, app);
      expect(result).toMatchObject({
        version: 1,
        formats: 'native,onnx',
        loaded: 'onnx',
        predictions: ['high', 'low'],
        onnxRequested: 'ok',
      });
    },
  );

  it('the ESM and CJS builds in one process share one RegistryError identity', () => {
    expect(node(withoutOnnx, 'identity.mjs')).toEqual({
      twoBuilds: true,
      cjsErrorIsEsmInstance: true,
      esmErrorIsCjsInstance: true,
      esmIsRegistryError: true,
      cjsIsRegistryError: true,
      codes: ['INVALID_ARGUMENT', 'INVALID_ARGUMENT'],
    });
  });
});
