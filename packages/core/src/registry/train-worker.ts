// The train worker's module: tsup builds it as its own entry (dist/training/train-worker.{js,cjs});
// train-in-worker.ts runs each `train` call of a built-in trainer on one, one training at a time, and
// keeps it for the next. It runs every CPU-heavy phase (parse, binning, fit, metrics, ONNX export,
// parity check) and posts the result's bytes back.
import { parentPort, workerData } from 'node:worker_threads';
import { isRegistryError } from '../errors.js';
import {
  exportTreeEnsembleToOnnx,
  treeEnsembleExportVersions,
} from '../formats/onnx/export-tree-ensemble.js';
import type { OnnxModelInfo } from '../formats/onnx/inspect.js';
import type { TreeEnsemble } from '../formats/tree-ensemble.js';
import { createOnnxPredictorWithInfo } from '../formats/onnx/session.js';
import { setForestWorkerUrl } from '../training/native/forest-workers.js';
import { lowerThreadPriority } from '../training/native/thread-priority.js';
import { builtinTrainers } from '../training/trainers/index.js';
import { computeTraining, LastTable } from './train-compute.js';
import type { TrainComputeInput, TrainComputed } from './train-compute.js';
import type { TrainPhase } from '../training/trainer.js';

/** What the worker receives once, at start. */
export interface TrainWorkerData {
  /** Where the forest worker module is (`forestWorkerUrl()` of the parent). */
  forestWorkerUrl: string;
}

/**
 * Parent → worker, per training: inline records in chunks, then `start` with the trainer (a
 * built-in one, by name). The next training starts after this one's `done` or `error`.
 */
export type ToTrainWorker =
  | { type: 'rows'; rows: Record<string, unknown>[] }
  | { type: 'start'; trainer: string; input: TrainComputeInput };

/** An error as it crosses the thread boundary (RegistryError fields, or a plain error's). */
export interface WorkerError {
  registry: boolean;
  code?: string;
  message: string;
  where?: string;
  details?: Record<string, unknown>;
  name?: string;
  stack?: string;
}

/** Worker → parent. */
export type FromTrainWorker =
  | { type: 'progress'; phase: TrainPhase; fraction: number; message?: string }
  | { type: 'done'; result: TrainComputed }
  | { type: 'error'; error: WorkerError };

function toWorkerError(e: unknown): WorkerError {
  if (isRegistryError(e)) {
    return {
      registry: true,
      code: e.code,
      message: e.message,
      ...(e.where !== undefined ? { where: e.where } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    };
  }
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    registry: false,
    message: error.message,
    name: error.name,
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

/**
 * Loads onnxruntime-node and builds a one-leaf session (with the parity check's options) while the
 * trees grow: the first session of a process pays for the runtime's setup, which the parity check
 * would otherwise wait for after the fit. Called once the forest workers have started (the first
 * fitting progress past 0), so it does not delay reading and binning on this thread. Most of the
 * first big session's cost remains: glibc's malloc and page faults while onnxruntime parses the model
 * (measured with perf), which a one-leaf model does not pay ahead, and a model the size of the real
 * one would cost the fit more than it saves.
 */
function warmOnnxRuntime(): void {
  const model: TreeEnsemble = {
    task: 'regression',
    nFeatures: 1,
    nOutputs: 1,
    mode: 'leq',
    trees: [
      {
        feature: new Int32Array([-1]),
        threshold: new Float64Array([0]),
        left: new Int32Array([0]),
        right: new Int32Array([0]),
        value: new Float64Array([0]),
      },
    ],
  };
  const bytes = exportTreeEnsembleToOnnx(model);
  const info: OnnxModelInfo = {
    ...treeEnsembleExportVersions(model),
    producer: 'modelreg',
    producerVersion: '',
    inputs: [{ name: 'input', kind: 'tensor', elemType: 'float', shape: ['N', 1] }],
    outputs: [{ name: 'variable', kind: 'tensor', elemType: 'float', shape: ['N', 1] }],
    metadata: {},
    nodeCount: 1,
  };
  createOnnxPredictorWithInfo(bytes, info, {}, 'disabled').then(
    (p) => p.release(),
    () => undefined,
  );
}

function main(): void {
  const port = parentPort;
  if (port === null) return; // imported on the main thread (for its types): nothing to run
  // Every phase of this worker yields the cores to the host's event loop (see thread-priority.ts).
  lowerThreadPriority();
  const init = workerData as TrainWorkerData;
  setForestWorkerUrl(init.forestWorkerUrl);
  let rows: Record<string, unknown>[] = [];
  let warmed = false;
  const kept = new LastTable();
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
    let warm = !warmed && input.onnxRuntime && input.formats?.includes('onnx') !== false;
    computeTraining(input, trainer, {
      kept,
      report: (phase, fraction, text) => {
        if (warm && phase === 'fitting' && fraction > 0) {
          warm = false;
          warmed = true;
          warmOnnxRuntime();
        }
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
