// The forest worker's module: tsup builds it as its own entry (dist/training/forest-worker.{js,cjs});
// forest-workers.ts starts it. It grows tree `t` for every `t` it is sent and posts it back.
import { parentPort, workerData } from 'node:worker_threads';
import { growTree } from './hist-tree.js';
import { deriveSeed } from './rng.js';
import { lowerThreadPriority } from './thread-priority.js';
import { createWorkspace } from './tree-workspace.js';
import type { TreeConfig, TreeData } from './tree-workspace.js';

/** What a worker receives once; the typed arrays of `data` live on SharedArrayBuffers. */
export interface WorkerInit {
  data: TreeData;
  config: TreeConfig;
  seed: number;
}

function main(): void {
  const port = parentPort;
  if (port === null) return; // imported on the main thread (for its types): nothing to run
  // Trees grow at a lower priority than the host's threads (see thread-priority.ts).
  lowerThreadPriority();
  const init = workerData as WorkerInit;
  const ws = createWorkspace(init.data);
  port.on('message', (t: number) => {
    const tree = growTree(init.data, init.config, ws, deriveSeed(init.seed, t));
    const buffers = [tree.feature, tree.threshold, tree.left, tree.right, tree.value].map((a) => a.buffer);
    port.postMessage({ t, tree }, buffers as ArrayBuffer[]);
  });
}

main();
