// The train worker's module: tsup builds it as its own entry (dist/training/train-worker.{js,cjs});
// train-in-worker.ts runs each `train` call of a built-in trainer on one, one training at a time, and
// keeps it for the next. It runs every CPU-heavy phase (parse, binning, fit, metrics, ONNX export,
// parity check) and posts the result's bytes back.
import { rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { setForestWorkerUrl } from '../training/native/forest-workers.js';
import { lowerThreadPriority, lowerTrainProcessPriority } from '../training/native/thread-priority.js';
import { builtinTrainers } from '../training/trainers/index.js';
import { endOnnxHelper, OnnxHelper, serveOnnxHelper, startOnnxHelper } from './onnx-helper.js';
import { BytesAssembler, PARTS, restoreBytes, sendResultBytes, TRAIN_PROCESS_ENV } from './train-process.js';
import type { TrainProcessData } from './train-process.js';
import { computeTraining, LastTable } from './train-compute.js';
import type { ResultBytes, TrainComputeInput, TrainComputed } from './train-compute.js';
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
export type FromTrainWorker<B extends ResultBytes = Uint8Array> =
  | { type: 'progress'; phase: TrainPhase; fraction: number; message?: string }
  | { type: 'done'; result: TrainComputed<B> }
  | { type: 'error'; error: WorkerError };

/** How the train worker talks to the host: a worker's parent port, or a train process's IPC channel. */
interface TrainChannel {
  post(message: FromTrainWorker, transfer: ArrayBuffer[]): void;
  onMessage(listener: (message: ToTrainWorker) => void): void;
}

/** Runs one training per `start` message, one at a time, and posts its progress and result. */
function serveTrainings(channel: TrainChannel, forestWorkerUrl: string, onnxHelper?: OnnxHelper): void {
  // Every phase of this worker yields the cores to the host's event loop (see thread-priority.ts).
  lowerThreadPriority();
  setForestWorkerUrl(forestWorkerUrl);
  let rows: Record<string, unknown>[] = [];
  const kept = new LastTable();
  const post = (message: FromTrainWorker, transfer: ArrayBuffer[] = []): void =>
    channel.post(message, transfer);
  channel.onMessage((message: ToTrainWorker) => {
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

/**
 * A train process (see train-process.ts): this module as a forked process's main thread. It starts
 * its own ONNX helper thread, receives large bytes as parts, sends its result's bytes as parts or as
 * files, and exits when the host goes (its channel closes).
 */
function serveAsProcess(data: TrainProcessData): void {
  // First, so that every thread it starts inherits the priority.
  lowerTrainProcessPriority();
  const send = (message: unknown): void => {
    process.send!(message);
  };
  const { helper, port, gate } = startOnnxHelper(new URL(data.trainWorkerUrl), data.forestWorkerUrl);
  helper.on('error', () => process.exit(1));
  process.once('disconnect', () => {
    // The host removes the directory when this process exits, unless the host itself is gone.
    if (data.bytesDir) rmSync(data.bytesDir, { recursive: true, force: true });
    helper.once('exit', () => process.exit(0));
    endOnnxHelper(helper, gate);
  });
  const received = new BytesAssembler();
  serveTrainings(
    {
      post(message) {
        if (message.type !== 'done') {
          send(message);
          return;
        }
        const { result } = message;
        sendResultBytes(send, result.nativeBytes, data.bytesDir);
        if (result.onnx) sendResultBytes(send, result.onnx.bytes, data.bytesDir);
        send({
          type: 'done',
          result: {
            ...result,
            nativeBytes: PARTS,
            onnx: result.onnx ? { ...result.onnx, bytes: PARTS } : null,
          },
        });
      },
      onMessage(listener) {
        process.on('message', (message: { type: string }) => {
          if (received.accept(message)) return;
          listener(restoreBytes(message as ToTrainWorker, received));
        });
      },
    },
    data.forestWorkerUrl,
    new OnnxHelper(port),
  );
}

function main(): void {
  const port = parentPort;
  const asProcess = process.env[TRAIN_PROCESS_ENV];
  if (port === null) {
    if (asProcess !== undefined && process.send) serveAsProcess(JSON.parse(asProcess) as TrainProcessData);
    return; // else imported on the main thread (for its types): nothing to run
  }
  const init = workerData as TrainWorkerData;
  if (init.role === 'onnx') {
    if (init.onnxPort && init.onnxGate) serveOnnxHelper(init.onnxPort, init.onnxGate);
    return;
  }
  // The ONNX export and the parity check's onnxruntime side run on it while this thread scores the
  // test rows (see computeTraining).
  const onnxHelper = init.onnxPort ? new OnnxHelper(init.onnxPort) : undefined;
  serveTrainings(
    {
      post: (message, transfer) => port.postMessage(message, transfer),
      onMessage: (listener) => port.on('message', listener),
    },
    init.forestWorkerUrl,
    onnxHelper,
  );
}

main();
