// The train worker's ONNX helper: a second thread running the train worker's module, started beside
// each train worker and talking to it over a MessageChannel. It exports a fitted tree ensemble to ONNX
// and runs the parity check's onnxruntime side while the train worker scores the test rows, measures
// importance and serializes the native model.
import type { MessagePort } from 'node:worker_threads';
import { exportTreeEnsembleToOnnx } from '../formats/onnx/export-tree-ensemble.js';
import { classLabels, exportedInfo, runOnnxForParity } from '../formats/onnx/parity.js';
import type { OnnxParityOutput } from '../formats/onnx/parity.js';
import type { Label } from '../formats/model.js';
import type { TreeEnsemble } from '../formats/tree-ensemble.js';
import { lowerThreadPriority } from '../training/native/thread-priority.js';
import { fromWorkerError, toWorkerError } from './worker-errors.js';
import type { WorkerError } from './worker-errors.js';

/** One export and parity run: the ensemble, its classes, and the (float32) rows to predict. */
export interface OnnxJob {
  ensemble: TreeEnsemble;
  classes?: readonly Label[];
  x32: Float32Array;
  nRows: number;
}

type ToHelper = { id: number } & OnnxJob;
type FromHelper =
  | { id: number; type: 'exported'; bytes: Uint8Array }
  | { id: number; type: 'ran'; output: OnnxParityOutput }
  | { id: number; type: 'error'; error: WorkerError };

/** A job on the helper: its ONNX bytes, then onnxruntime's predictions on the job's rows. */
export interface PendingOnnx {
  exported: Promise<Uint8Array>;
  ran: Promise<OnnxParityOutput>;
}

interface Settlers {
  exported: [(bytes: Uint8Array) => void, (e: unknown) => void];
  ran: [(output: OnnxParityOutput) => void, (e: unknown) => void];
}

/**
 * The helper thread as the train worker sees it: a port to it. The calling thread starts the helper
 * with the train worker and ends it with that worker (an abort terminates both: a thread terminated
 * as a worker's nested worker, inside an onnxruntime call, took the whole process down).
 */
export class OnnxHelper {
  private nextId = 0;
  private readonly jobs = new Map<number, Settlers>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: FromHelper) => {
      const job = this.jobs.get(message.id);
      if (!job) return;
      if (message.type === 'exported') job.exported[0](message.bytes);
      else if (message.type === 'ran') {
        this.jobs.delete(message.id);
        job.ran[0](message.output);
      } else {
        this.jobs.delete(message.id);
        const error = fromWorkerError(message.error, 'ONNX helper thread');
        job.exported[1](error);
        job.ran[1](error);
      }
    });
    // The port must not keep the train worker alive on its own.
    port.unref();
  }

  /** Posts `job` (its rows are transferred): the bytes come first, then the predictions. */
  submit(job: OnnxJob): PendingOnnx {
    const id = this.nextId++;
    let onExported!: Settlers['exported'];
    let onRan!: Settlers['ran'];
    const exported = new Promise<Uint8Array>((resolve, reject) => (onExported = [resolve, reject]));
    const ran = new Promise<OnnxParityOutput>((resolve, reject) => (onRan = [resolve, reject]));
    // Awaited later or not at all (a fit that fails after the job was posted): never unhandled.
    exported.catch(() => undefined);
    ran.catch(() => undefined);
    const settlers: Settlers = { exported: onExported, ran: onRan };
    this.jobs.set(id, settlers);
    const message: ToHelper = { id, ...job };
    this.port.postMessage(message, [job.x32.buffer as ArrayBuffer]);
    return { exported, ran };
  }
}

/**
 * Loads onnxruntime-node and builds a one-leaf session (with the parity check's options): the first
 * session of a thread pays for the runtime's setup, which the parity check would otherwise wait for.
 * Most of the first big session's cost remains: glibc's malloc and page faults while onnxruntime
 * parses the model (measured with perf), which a one-leaf model does not pay ahead.
 */
async function warmOnnxRuntime(): Promise<void> {
  const leaf: TreeEnsemble = {
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
  const bytes = exportTreeEnsembleToOnnx(leaf);
  await runOnnxForParity(bytes, exportedInfo(leaf, undefined), 'regression', new Float32Array(1), 1, 1);
}

/** The helper thread's side: one job at a time, in the order they come. */
export function serveOnnxHelper(port: MessagePort): void {
  lowerThreadPriority();
  let queue: Promise<unknown> = warmOnnxRuntime().catch(() => undefined);
  port.on('message', (job: ToHelper) => {
    queue = queue.then(async () => {
      try {
        const labels = job.classes ? classLabels(job.classes) : undefined;
        const bytes = exportTreeEnsembleToOnnx(job.ensemble, labels ? { classes: labels } : {});
        port.postMessage({ id: job.id, type: 'exported', bytes: bytes.slice() } satisfies FromHelper);
        const { ensemble } = job;
        const output = await runOnnxForParity(
          bytes,
          exportedInfo(ensemble, labels),
          ensemble.task,
          job.x32,
          job.nRows,
          ensemble.nFeatures,
        );
        port.postMessage({ id: job.id, type: 'ran', output } satisfies FromHelper);
      } catch (e) {
        port.postMessage({ id: job.id, type: 'error', error: toWorkerError(e) } satisfies FromHelper);
      }
    });
  });
}
