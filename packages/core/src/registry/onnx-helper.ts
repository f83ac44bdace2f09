// The train worker's ONNX helper: a second thread running the train worker's module, started beside
// each train worker and talking to it over a MessageChannel. It exports a fitted tree ensemble to ONNX
// and runs the parity check's onnxruntime side while the train worker scores the test rows, measures
// importance and serializes the native model.
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { exportTreeEnsembleToOnnx } from '../formats/onnx/export-tree-ensemble.js';
import { classLabels, exportedInfo, runOnnxForParity, runTreeParity } from '../formats/onnx/parity.js';
import type { TreeParityOutput } from '../formats/onnx/parity.js';
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

type ToHelper =
  | ({ type: 'job'; id: number } & OnnxJob)
  /** Load onnxruntime and build a one-leaf session now (once). */
  | { type: 'warm' }
  /** Answer `idle` once everything posted before is done. */
  | { type: 'ping'; id: number };
type FromHelper =
  | { id: number; type: 'exported' }
  | { id: number; type: 'ran'; output: TreeParityOutput; bytes: Uint8Array }
  | { id: number; type: 'error'; error: WorkerError }
  | { id: number; type: 'idle' };

/** What a job on the helper gives: the ONNX bytes and the ONNX side of their parity check. */
export interface OnnxDone {
  bytes: Uint8Array;
  output: TreeParityOutput;
}

/**
 * A job on the helper: `exported` settles once its ONNX bytes exist, `ran` with them and the parity
 * check's ONNX side. The bytes come once, transferred with the check's output: copying them to post
 * them earlier doubled a large forest's file in memory (two copies of 100 MB, fresh pages for each).
 */
export interface PendingOnnx {
  exported: Promise<void>;
  ran: Promise<OnnxDone>;
}

interface Settlers {
  exported: [() => void, (e: unknown) => void];
  ran: [(done: OnnxDone) => void, (e: unknown) => void];
}

/**
 * The helper thread as the train worker sees it: a port to it. The calling thread starts the helper
 * with the train worker and ends it with that worker (an abort terminates both: a thread terminated
 * as a worker's nested worker, inside an onnxruntime call, took the whole process down).
 */
export class OnnxHelper {
  private nextId = 0;
  private readonly jobs = new Map<number, Settlers>();
  private readonly pings = new Map<number, () => void>();
  private warmed = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: FromHelper) => {
      if (message.type === 'idle') {
        this.pings.get(message.id)?.();
        this.pings.delete(message.id);
        return;
      }
      const job = this.jobs.get(message.id);
      if (!job) return;
      if (message.type === 'exported') job.exported[0]();
      else if (message.type === 'ran') {
        this.jobs.delete(message.id);
        job.ran[0]({ bytes: message.bytes, output: message.output });
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

  /**
   * Has the helper load onnxruntime and build a one-leaf session (the first session of a thread pays
   * for the runtime's setup), once: call it when the fit is under way.
   */
  warm(): void {
    if (this.warmed) return;
    this.warmed = true;
    this.port.postMessage({ type: 'warm' } satisfies ToHelper);
  }

  /**
   * Resolves once the helper has finished everything posted to it. A training that fails waits for
   * it before it reports the failure: a process that exits while a thread is inside an onnxruntime
   * call is aborted (onnxruntime-node throws from its teardown), where it should exit with its code.
   */
  idle(): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pings.set(id, resolve);
      this.port.postMessage({ type: 'ping', id } satisfies ToHelper);
    });
  }

  /** Posts `job` (its rows are transferred): the bytes come first, then the predictions. */
  submit(job: OnnxJob): PendingOnnx {
    const id = this.nextId++;
    let onExported!: Settlers['exported'];
    let onRan!: Settlers['ran'];
    const exported = new Promise<void>((resolve, reject) => (onExported = [resolve, reject]));
    const ran = new Promise<OnnxDone>((resolve, reject) => (onRan = [resolve, reject]));
    // Awaited later or not at all (a fit that fails after the job was posted): never unhandled.
    exported.catch(() => undefined);
    ran.catch(() => undefined);
    const settlers: Settlers = { exported: onExported, ran: onRan };
    this.jobs.set(id, settlers);
    const message: ToHelper = { type: 'job', id, ...job };
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

/** Index of the helper's busy flag (1 while it may be inside onnxruntime) in its gate. */
const BUSY = 0;
/** Index of the parent's stop flag (1 once the helper is to end) in the gate. */
const STOP = 1;

/** A new gate: the [busy, stop] flags the parent and its helper share. */
export const onnxHelperGate = (): Int32Array => new Int32Array(new SharedArrayBuffer(8));

/**
 * Starts an ONNX helper: a thread of the train worker's module (`moduleUrl`) in its `onnx` role,
 * unref'd. Returns it, the port its train worker talks to it on, and its gate (see
 * {@link endOnnxHelper}).
 */
export function startOnnxHelper(
  moduleUrl: URL,
  forestWorkerUrl: string,
): { helper: Worker; port: MessagePort; gate: Int32Array } {
  const { port1, port2 } = new MessageChannel();
  const gate = onnxHelperGate();
  // The train worker's workerData (TrainWorkerData) in the helper's role.
  const workerData = { forestWorkerUrl, onnxPort: port2, role: 'onnx', onnxGate: gate };
  const helper = new Worker(moduleUrl, { workerData, transferList: [port2] });
  helper.unref();
  return { helper, port: port1, gate };
}

/**
 * Ends the helper once it is not inside onnxruntime: a thread terminated there takes the whole
 * process down (onnxruntime-node throws from its teardown). The stop flag is set before the busy
 * flag is read, and the helper sets busy before it reads stop, so one of them always sees the other.
 */
export function endOnnxHelper(helper: { terminate(): Promise<number>; ref(): void }, gate: Int32Array): void {
  Atomics.store(gate, STOP, 1);
  // Until it ends, the helper keeps the process alive: a process that ends on its own (its event
  // loop empty) waits for it instead of tearing it down inside onnxruntime.
  helper.ref();
  const tryEnd = (): void => {
    if (Atomics.load(gate, BUSY) === 0) void helper.terminate();
    else setTimeout(tryEnd, 5);
  };
  tryEnd();
}

/**
 * The helper thread's side: one message at a time, in the order they come. Each piece of onnxruntime
 * work runs inside `gated`: marked busy, and skipped once the parent asked the helper to end.
 */
export function serveOnnxHelper(port: MessagePort, gate: Int32Array): void {
  lowerThreadPriority();
  const gated = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    Atomics.store(gate, BUSY, 1);
    try {
      if (Atomics.load(gate, STOP) === 1) return undefined;
      return await work();
    } finally {
      Atomics.store(gate, BUSY, 0);
    }
  };
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (message: ToHelper) => {
    queue = queue.then(async () => {
      if (message.type === 'warm') {
        // A missing runtime is the job's to report.
        await gated(() => warmOnnxRuntime()).catch(() => undefined);
        return;
      }
      if (message.type === 'ping') {
        port.postMessage({ id: message.id, type: 'idle' } satisfies FromHelper);
        return;
      }
      const { id, ensemble } = message;
      try {
        const labels = message.classes ? classLabels(message.classes) : undefined;
        const bytes = exportTreeEnsembleToOnnx(ensemble, labels ? { classes: labels } : {});
        port.postMessage({ id, type: 'exported' } satisfies FromHelper);
        const { x32, nRows } = message;
        const output = await gated(() => runTreeParity(ensemble, labels, bytes, x32, nRows));
        if (output) {
          port.postMessage({ id, type: 'ran', output, bytes } satisfies FromHelper, [
            bytes.buffer as ArrayBuffer,
          ]);
        }
      } catch (e) {
        port.postMessage({ id, type: 'error', error: toWorkerError(e) } satisfies FromHelper);
      }
    });
  });
}
