import type { MessagePort } from 'node:worker_threads';
import * as kernel from './hist-kernel.js';
import { growTree, treeFunctions } from './hist-tree.js';
import { createWorkspace, workspaceFunctions } from './tree-workspace.js';
import type { TreeConfig, TreeData } from './tree-workspace.js';
import { deriveSeed, randBelow, rngNext } from './rng.js';

/** What a worker receives once; the typed arrays of `data` live on SharedArrayBuffers. */
export interface WorkerInit {
  data: TreeData;
  config: TreeConfig;
  seed: number;
}

/** Runs in the worker: grows tree `t` for every `t` it is sent and posts it back (buffers transferred). */
function nativeTreeWorkerMain(port: MessagePort, init: WorkerInit): void {
  const ws = createWorkspace(init.data);
  port.on('message', (t: number) => {
    const tree = growTree(init.data, init.config, ws, deriveSeed(init.seed, t));
    const buffers = [tree.feature, tree.threshold, tree.left, tree.right, tree.value].map((a) => a.buffer);
    port.postMessage({ t, tree }, buffers as ArrayBuffer[]);
  });
}

let cached: string | undefined;

/**
 * The worker's code, built from the kernel functions' own source text (`Function.prototype.toString`),
 * so it runs the same from TypeScript under vitest and from the bundled dist without a separate entry
 * file. Calls across kernel modules may appear rewritten as `<namespace>.fn` (vite's SSR transform);
 * every such namespace is bound to a table of all kernel functions.
 */
export function nativeTreeWorkerSource(): string {
  if (cached !== undefined) return cached;
  const fns: ((...args: never[]) => unknown)[] = [
    rngNext,
    randBelow,
    deriveSeed,
    ...Object.values(kernel).filter((v) => typeof v === 'function'),
    ...workspaceFunctions,
    ...treeFunctions,
    nativeTreeWorkerMain,
  ];
  const body = fns.map((f) => f.toString()).join('\n\n');
  const namespaces = [...new Set(body.match(/\b__vite_ssr_import_\d+__\b/g) ?? [])];
  cached = [
    "'use strict';",
    body,
    `const __kernel = { ${fns.map((f) => f.name).join(', ')} };`,
    ...namespaces.map((ns) => `const ${ns} = __kernel;`),
    "const __wt = require('node:worker_threads');",
    `${nativeTreeWorkerMain.name}(__wt.parentPort, __wt.workerData);`,
  ].join('\n');
  return cached;
}
