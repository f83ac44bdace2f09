import { spawn } from 'node:child_process';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';

export interface Child {
  /** Resolves with the child's last stdout line parsed as JSON. */
  result: Promise<unknown>;
  /** Writes a line to the child's stdin (a start signal). */
  go(): void;
}

const bundles = new Map<string, Promise<string>>();

export function startChild(script: string, args: string[]): Child {
  const file = new URL(`./children/${script}.ts`, import.meta.url).pathname;
  let bundled = bundles.get(file);
  if (!bundled) bundles.set(file, (bundled = bundleForChildProcess(file)));
  let goNow = false;
  let goFn: (() => void) | undefined;
  const result = bundled.then(
    (path) =>
      new Promise<unknown>((resolve, reject) => {
        const child = spawn(process.execPath, [path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        goFn = () => child.stdin.end('go\n');
        if (goNow) goFn();
        child.on('close', (code) => {
          if (code !== 0) reject(new Error(`child ${script} exited with ${code}: ${err}`));
          else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
        });
      }),
  );
  return {
    result,
    go: () => {
      goNow = true;
      goFn?.();
    },
  };
}
