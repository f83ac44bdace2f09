// How long does writing a large model file stall the event loop of the thread that writes it?
// (issue 13, acceptance 1: the one ~1.3 s stall of the server while it trained 100 trees was the
// model files reaching the file store as one chunk: sha256 and copy of the whole file in one step.)
//
//   node bench/store-write-stall.mjs [--mb 150]
//
// Puts `--mb` MB of bytes into a file artifact store (a temp folder) twice: as one Uint8Array (the
// body train passed before) and as 256 KiB views with a setImmediate between them (what train passes
// now: core's sliceBody), while a 1 ms timer measures the event loop. Prints the worst stall and the
// put time of each.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { printTable } from './lib/table.mjs';

const { values: args } = parseArgs({ options: { mb: { type: 'string', default: '150' } } });
const size = Number(args.mb) * 1024 * 1024;
const SLICE = 256 * 1024;

/** The body as train passes it now (core's sliceBody). */
async function* slices(bytes) {
  for (let at = 0; at < bytes.byteLength; at += SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    yield bytes.subarray(at, Math.min(at + SLICE, bytes.byteLength));
  }
}

const dir = await mkdtemp(join(tmpdir(), 'modelreg-bench-stall-'));
const store = createFsArtifactStore({ root: dir });
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i += 4096) bytes[i] = i & 0xff;
const results = [];
try {
  for (const [label, body] of [
    ['one chunk (before)', () => bytes],
    ['256 KiB slices (train now)', () => slices(bytes)],
  ]) {
    const runs = [];
    for (let r = 0; r < 3; r++) {
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      const t = performance.now();
      const put = await store.put(`runs/r${r}/model-${results.length}.bin`, body());
      const ms = performance.now() - t;
      histogram.disable();
      if (put.size !== size) throw new Error(`stored ${put.size} bytes, not ${size}`);
      runs.push({ worst: histogram.max / 1e6, ms });
    }
    runs.sort((a, b) => a.worst - b.worst);
    results.push([label, `${runs[1].worst.toFixed(0)}ms`, `${runs[1].ms.toFixed(0)}ms`]);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
printTable(
  `Event-loop stall while a ${args.mb} MB model file is put into the file store (median of 3)`,
  ['body', 'worst stall', 'put time'],
  results,
);
console.log(`load average: ${loadavg()[0].toFixed(1)}`);
