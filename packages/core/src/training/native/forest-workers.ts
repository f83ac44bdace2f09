import { Worker } from 'node:worker_threads';
import { abortedError } from '../../errors.js';
import type { FlatTree } from '../../formats/tree-ensemble.js';
import type { WorkerInit } from './forest-worker.js';

let override: string | undefined;

/**
 * Makes {@link forestWorkerUrl} return `url`: the train worker sets the URL its parent computed,
 * because its own `import.meta.url` is not next to the package's files when it runs bundled from
 * source (vitest).
 */
export function setForestWorkerUrl(url: string): void {
  override = url;
}

/**
 * The worker module next to this code. Built, this code sits in `dist/` (ESM `.js` or CJS `.cjs`,
 * where tsup's shim supplies `import.meta.url`) and the worker is the `training/forest-worker` entry
 * of the same format. From the TypeScript source (vitest), a worker cannot load `.ts`:
 * `forest-worker.dev.mjs` bundles `forest-worker.ts` with esbuild and runs it.
 */
export function forestWorkerUrl(here: string = import.meta.url): URL {
  if (override !== undefined) return new URL(override);
  const path = new URL(here).pathname;
  if (path.endsWith('.ts')) return new URL('./forest-worker.dev.mjs', here);
  return new URL(`./training/forest-worker${path.endsWith('.cjs') ? '.cjs' : '.js'}`, here);
}

interface TreeMessage {
  t: number;
  tree: FlatTree;
}

/**
 * Grows trees `0..nTrees-1` on `nWorkers` worker threads that share `init.data` (SharedArrayBuffers).
 * Tree `t` depends only on `init.seed` and `t`, so the forest is the same for any worker count.
 * `onTree(done)` runs as each tree arrives; an abort terminates the workers at once (a tree half
 * grown is dropped) and rejects with `ABORTED`.
 */
export function growTreesInWorkers(
  init: WorkerInit,
  nTrees: number,
  nWorkers: number,
  signal: AbortSignal | undefined,
  onTree: (done: number) => void,
): Promise<FlatTree[]> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, 'train'));
      return;
    }
    const trees = new Array<FlatTree>(nTrees);
    const workers: Worker[] = [];
    let next = 0;
    let done = 0;
    let settled = false;
    const onAbort = (): void => finish(true, abortedError(signal, 'train'));
    function finish(failed: boolean, error?: unknown): void {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      if (failed) reject(error);
      else resolve(trees);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const url = forestWorkerUrl();
    const count = Math.max(1, Math.min(nWorkers, nTrees));
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url, { workerData: init });
      workers.push(worker);
      worker.on('message', (msg: TreeMessage) => {
        if (settled) return;
        trees[msg.t] = msg.tree;
        done++;
        try {
          onTree(done);
        } catch (e) {
          finish(true, e);
          return;
        }
        if (signal?.aborted) finish(true, abortedError(signal, 'train'));
        else if (done === nTrees) finish(false);
        else if (next < nTrees) worker.postMessage(next++);
      });
      worker.on('error', (e) => finish(true, e));
      worker.on('exit', (code) => {
        if (!settled) finish(true, new Error(`native tree worker exited with code ${code}`));
      });
      worker.postMessage(next++);
    }
  });
}
