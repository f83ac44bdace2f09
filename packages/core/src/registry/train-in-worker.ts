import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { abortedError, invalidArgument } from '../errors.js';
import { forestWorkerUrl } from '../training/native/forest-workers.js';
import type { PhaseReporter, ResultBytes, TrainComputeInput, TrainComputed } from './train-compute.js';
import type { FromTrainWorker, ToTrainWorker, TrainWorkerData } from './train-worker.js';
import { releaseSpooled, TrainProcess } from './train-process.js';
import { fromWorkerError } from './worker-errors.js';
import { endOnnxHelper, startOnnxHelper } from './onnx-helper.js';

/** Inline records are posted in chunks of this many, with a turn of the event loop between them. */
const ROWS_PER_MESSAGE = 2000;

/** Bytes copied per turn of the event loop when the caller's bytes must be copied to move them. */
const COPY_SLICE_BYTES = 1 << 20;

/** `bytes` as a view of its whole, unshared ArrayBuffer (so transferring it moves only it), else undefined. */
function ownedView(bytes: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? new Uint8Array(buffer)
    : undefined;
}

/**
 * The train worker module next to this code: built, `training/train-worker.{js,cjs}` of the same
 * format (as the forest worker); from the TypeScript source (vitest), `train-worker.dev.mjs`.
 */
export function trainWorkerUrl(here: string = import.meta.url): URL {
  const path = new URL(here).pathname;
  if (path.endsWith('.ts')) return new URL('./train-worker.dev.mjs', here);
  return new URL(`./training/train-worker${path.endsWith('.cjs') ? '.cjs' : '.js'}`, here);
}

let available: boolean | undefined;

/**
 * Whether the train worker's module is where {@link trainWorkerUrl} says: it is in the package as
 * published and in the repository; it is not when an application bundles core's code into its own
 * file, and then `train` runs on the calling thread as a user trainer does.
 */
export function trainWorkerAvailable(): boolean {
  available ??= existsSync(fileURLToPath(trainWorkerUrl()));
  return available;
}

/**
 * Where built-in trainers run: `thread`, a worker thread of this process (the default); `process`,
 * a child process of its own (see train-process.ts).
 */
export type TrainIsolation = 'thread' | 'process';

/** A train worker: a worker thread, or a train process behind the same interface. */
type TrainHost = Worker | TrainProcess;

/** How many idle train workers a process keeps (of each isolation), and for how long. */
const MAX_IDLE_WORKERS = 2;
const IDLE_WORKER_MS = 5 * 60_000;

/**
 * Train workers kept between trainings. A fresh worker pays for loading core's code and, on its
 * first ONNX session, for onnxruntime's per-thread setup (about 0.2 s of CPU for a 3 MB forest,
 * against 0.06 s on a warm thread): a kept one does not. An idle worker is unref'd (it never keeps
 * the process alive) and ends after {@link IDLE_WORKER_MS}. A worker that was aborted, crashed or
 * exited is never reused.
 */
const idleWorkers: { worker: TrainHost; isolation: TrainIsolation; timer: NodeJS.Timeout }[] = [];

function takeWorker(isolation: TrainIsolation): TrainHost {
  const at = idleWorkers.findLastIndex((w) => w.isolation === isolation);
  if (at !== -1) {
    const [kept] = idleWorkers.splice(at, 1);
    clearTimeout(kept!.timer);
    kept!.worker.ref();
    return kept!.worker;
  }
  const worker = isolation === 'process' ? startProcess() : startThread();
  // A kept worker that ends on its own (out of memory, say) leaves the pool.
  worker.on('exit', () => dropIdle(worker));
  // Errors reach the job's own listener; this one keeps an idle worker's error from being unhandled.
  worker.on('error', () => dropIdle(worker));
  return worker;
}

/** A train process: it starts its ONNX helper thread itself, beside its main thread. */
function startProcess(): TrainProcess {
  return new TrainProcess(trainWorkerUrl(), {
    forestWorkerUrl: forestWorkerUrl().href,
    trainWorkerUrl: trainWorkerUrl().href,
  });
}

function startThread(): Worker {
  // The ONNX helper: a second thread of the same module, joined to this one by a channel (see
  // onnx-helper.ts). It ends when the train worker ends, for whatever reason (an abort included);
  // if it ends first, the train worker is ended too (its training could not finish).
  const forest = forestWorkerUrl().href;
  const { helper, port, gate: onnxGate } = startOnnxHelper(trainWorkerUrl(), forest);
  const data: TrainWorkerData = { forestWorkerUrl: forest, onnxPort: port };
  const worker = new Worker(trainWorkerUrl(), { workerData: data, transferList: [port] });
  worker.once('exit', () => endOnnxHelper(helper, onnxGate));
  helper.once('exit', () => void worker.terminate());
  helper.on('error', () => undefined); // seen by the train worker as its exit
  return worker;
}

function dropIdle(worker: TrainHost): void {
  const at = idleWorkers.findIndex((w) => w.worker === worker);
  if (at === -1) return;
  clearTimeout(idleWorkers[at]!.timer);
  idleWorkers.splice(at, 1);
}

function keepWorker(worker: TrainHost, isolation: TrainIsolation): void {
  if (idleWorkers.filter((w) => w.isolation === isolation).length >= MAX_IDLE_WORKERS) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    dropIdle(worker);
    void worker.terminate();
  }, IDLE_WORKER_MS);
  timer.unref();
  idleWorkers.push({ worker, isolation, timer });
}

/**
 * Runs {@link computeTraining} of a built-in trainer in a worker thread: the calling thread only
 * posts the input (a catalog dataset's bytes transferred, a caller's bytes copied in slices and
 * transferred, inline records in chunks: no single step blocks it)
 * and receives the result's bytes (transferred, not copied). An abort terminates the worker
 * (whatever phase it is in, forest workers included) and rejects at once with `ABORTED`. A worker
 * that finished its training (with a result or a refusal) is kept for the next one.
 */
export function computeInWorker(
  trainer: string,
  input: TrainComputeInput,
  hooks: { signal?: AbortSignal; report?: PhaseReporter; isolation?: TrainIsolation } = {},
): Promise<TrainComputed<ResultBytes>> {
  const { signal, report, isolation = 'thread' } = hooks;
  return new Promise<TrainComputed<ResultBytes>>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, 'train'));
      return;
    }
    const worker = takeWorker(isolation);
    let settled = false;
    const finish = (error: unknown, result?: TrainComputed<ResultBytes>, reusable = false): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reusable) keepWorker(worker, isolation);
      else void worker.terminate();
      if (error !== undefined) reject(error);
      else resolve(result!);
    };
    const onAbort = (): void => finish(abortedError(signal, 'train'));
    const onMessage = (message: FromTrainWorker<ResultBytes>): void => {
      if (settled) {
        // A result that came after an abort: its spooled bytes have no reader.
        if (message.type === 'done')
          void releaseSpooled(message.result.nativeBytes, message.result.onnx?.bytes);
        return;
      }
      if (message.type === 'progress') {
        try {
          report?.(message.phase, message.fraction, message.message);
        } catch (e) {
          finish(e);
        }
      } else if (message.type === 'done') finish(undefined, message.result, true);
      else finish(fromWorkerError(message.error, 'train worker'), undefined, message.error.registry);
    };
    const onError = (e: Error): void => finish(e);
    const onExit = (code: number): void =>
      finish(new Error(`[modelreg] [train] the train worker exited with code ${code}`));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);

    const send = (message: ToTrainWorker, transfer: ArrayBuffer[] = []): boolean => {
      try {
        worker.postMessage(message, transfer);
        return true;
      } catch (e) {
        // A value that cannot be cloned (a function in params, say): the input is not data.
        finish(invalidArgument(`train options must be plain data: ${(e as Error).message}`, 'train'));
        return false;
      }
    };
    const { source } = input;
    // A train process's channel copies what it sends (large bytes in parts, see train-process.ts).
    if (worker instanceof TrainProcess && source.kind !== 'rows') {
      send({ type: 'start', trainer, input });
      return;
    }
    // Bytes move to the worker, never as a structured clone: cloning a 10 MB dataset holds this
    // thread for 100 ms or more. A catalog dataset's bytes are this call's own (ArtifactStore.get
    // returns a buffer of the caller's): they are transferred as they are. Bytes the caller passed
    // stay theirs: a copy is transferred, made in slices with a turn of the event loop between them
    // (a fresh 10 MB buffer costs 30 ms of page faults on a small VM).
    if (source.kind === 'catalog') {
      const bytes = ownedView(source.bytes);
      if (bytes) {
        send({ type: 'start', trainer, input: { ...input, source: { ...source, bytes } } }, [bytes.buffer]);
        return;
      }
    }
    if (source.kind === 'catalog' || (source.kind === 'csv' && typeof source.csv !== 'string')) {
      const original = source.kind === 'catalog' ? source.bytes : (source.csv as Uint8Array);
      const copy = new Uint8Array(original.byteLength);
      let at = 0;
      const copySlice = (): void => {
        if (settled) return;
        const end = Math.min(at + COPY_SLICE_BYTES, original.byteLength);
        copy.set(original.subarray(at, end), at);
        at = end;
        if (at < original.byteLength) {
          setImmediate(copySlice);
          return;
        }
        const moved =
          source.kind === 'catalog' ? { ...source, bytes: copy } : { kind: 'csv' as const, csv: copy };
        send({ type: 'start', trainer, input: { ...input, source: moved } }, [copy.buffer]);
      };
      copySlice();
      return;
    }
    if (source.kind !== 'rows') {
      send({ type: 'start', trainer, input });
      return;
    }
    const rows = source.rows as Record<string, unknown>[];
    let at = 0;
    const next = (): void => {
      if (settled) return;
      if (at < rows.length) {
        if (!send({ type: 'rows', rows: rows.slice(at, at + ROWS_PER_MESSAGE) })) return;
        at += ROWS_PER_MESSAGE;
        setImmediate(next);
        return;
      }
      send({ type: 'start', trainer, input: { ...input, source: { kind: 'rows', rows: [] } } });
    };
    next();
  });
}
