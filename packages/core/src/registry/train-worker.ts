// The train worker's module: tsup builds it as its own entry (dist/training/train-worker.{js,cjs});
// train-in-worker.ts runs each `train` call of a built-in trainer on one, one training at a time, and
// keeps it for the next. It runs every CPU-heavy phase (parse, binning, fit, metrics, ONNX export,
// parity check) and posts the result's bytes back.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { setForestWorkerUrl } from '../training/native/forest-workers.js';
import { lowerThreadPriority } from '../training/native/thread-priority.js';
import { builtinTrainers } from '../training/trainers/index.js';
import { OnnxHelper, serveOnnxHelper } from './onnx-helper.js';
import { computeTraining, LastTable } from './train-compute.js';
import type { TrainComputeInput, TrainComputed } from './train-compute.js';
import type { TrainPhase } from '../training/trainer.js';
import { toWorkerError } from './worker-errors.js';
import type { WorkerError } from './worker-errors.js';

/** What the worker receives once, at start. */
export interface TrainWorkerData {
  /** Where the forest worker module is (`forestWorkerUrl()` of the parent). */
  forestWorkerUrl: string;
  /**
   * The port between a train worker and its ONNX helper, a second thread of this module that the
   * parent starts beside it (see onnx-helper.ts): given to both, with `role` telling them apart.
   */
  onnxPort?: MessagePort;
  role?: 'train' | 'onnx';
  /** The helper's [busy, stop] flags, shared with the parent (see `onnxCallGate`). */
  onnxGate?: Int32Array;
}

/**
 * Parent → worker, per training: inline records in chunks, then `start` with the trainer (a
 * built-in one, by name). The next training starts after this one's `done` or `error`.
 */
export type ToTrainWorker =
  | { type: 'rows'; rows: Record<string, unknown>[] }
  | { type: 'start'; trainer: string; input: TrainComputeInput };

/** Worker → parent. */
export type FromTrainWorker =
  | { type: 'progress'; phase: TrainPhase; fraction: number; message?: string }
  | { type: 'done'; result: TrainComputed }
  | { type: 'error'; error: WorkerError };

function main(): void {
  const port = parentPort;
  if (port === null) return; // imported on the main thread (for its types): nothing to run
  const init = workerData as TrainWorkerData;
  if (init.role === 'onnx') {
    if (init.onnxPort && init.onnxGate) serveOnnxHelper(init.onnxPort, init.onnxGate);
    return;
  }
  // Every phase of this worker yields the cores to the host's event loop (see thread-priority.ts).
  lowerThreadPriority();
  setForestWorkerUrl(init.forestWorkerUrl);
  let rows: Record<string, unknown>[] = [];
  const kept = new LastTable();
  // The ONNX export and the parity check's onnxruntime side run on it while this thread scores the
  // test rows (see computeTraining).
  const onnxHelper = init.onnxPort ? new OnnxHelper(init.onnxPort) : undefined;
  const post = (message: FromTrainWorker, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  port.on('message', (message: ToTrainWorker) => {
    if (message.type === 'rows') {
      for (const row of message.rows) rows.push(row);
      return;
    }
    const input =
      message.input.source.kind === 'rows'
        ? { ...message.input, source: { kind: 'rows' as const, rows } }
        : message.input;
    rows = [];
    const trainer = builtinTrainers.find((t) => t.name === message.trainer);
    if (!trainer) {
      post({
        type: 'error',
        error: { registry: false, message: `no built-in trainer "${message.trainer}"` },
      });
      return;
    }
    const onnx = input.onnxRuntime && input.formats?.includes('onnx') !== false;
    computeTraining(input, trainer, {
      kept,
      ...(onnxHelper ? { onnxHelper } : {}),
      report: (phase, fraction, text) => {
        // Once the trees grow (reading and binning on this thread are not delayed), the helper loads
        // onnxruntime and builds its first session, which the parity check would otherwise wait for.
        if (onnx && phase === 'fitting' && fraction > 0) onnxHelper?.warm();
        post({ type: 'progress', phase, fraction, ...(text !== undefined ? { message: text } : {}) });
      },
    }).then(
      (result) => {
        const transfer = [result.nativeBytes.buffer, ...(result.onnx ? [result.onnx.bytes.buffer] : [])];
        post({ type: 'done', result }, transfer as ArrayBuffer[]);
      },
      (e: unknown) => post({ type: 'error', error: toWorkerError(e) }),
    );
  });
}

main();
