import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RegistryError, abortedError, invalidArgument } from '../errors.js';
import type { RegistryErrorCode } from '../errors.js';
import { forestWorkerUrl } from '../training/native/forest-workers.js';
import type { PhaseReporter, TrainComputeInput, TrainComputed } from './train-compute.js';
import type { FromTrainWorker, ToTrainWorker, TrainWorkerData, WorkerError } from './train-worker.js';

/** Inline records are posted in chunks of this many, with a turn of the event loop between them. */
const ROWS_PER_MESSAGE = 2000;

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

function fromWorkerError(e: WorkerError): Error {
  if (e.registry) {
    return new RegistryError(e.code as RegistryErrorCode, e.message, {
      ...(e.where !== undefined ? { where: e.where } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    });
  }
  const error = new Error(`[modelreg] [train] the train worker failed: ${e.message}`);
  if (e.stack) error.stack = e.stack;
  return error;
}

/**
 * Runs {@link computeTraining} of a built-in trainer in a worker thread: the calling thread only
 * posts the input (inline records in chunks, so no single step blocks it) and receives the result's
 * bytes (transferred, not copied). An abort terminates the worker (whatever phase it is in, forest
 * workers included) and rejects at once with `ABORTED`.
 */
export function computeInWorker(
  trainer: string,
  input: TrainComputeInput,
  hooks: { signal?: AbortSignal; report?: PhaseReporter } = {},
): Promise<TrainComputed> {
  const { signal, report } = hooks;
  return new Promise<TrainComputed>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, 'train'));
      return;
    }
    const data: TrainWorkerData = { forestWorkerUrl: forestWorkerUrl().href, trainer };
    const worker = new Worker(trainWorkerUrl(), { workerData: data });
    let settled = false;
    const finish = (error: unknown, result?: TrainComputed): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (error !== undefined) reject(error);
      else resolve(result!);
    };
    const onAbort = (): void => finish(abortedError(signal, 'train'));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FromTrainWorker) => {
      if (settled) return;
      if (message.type === 'progress') {
        try {
          report?.(message.phase, message.fraction, message.message);
        } catch (e) {
          finish(e);
        }
      } else if (message.type === 'done') finish(undefined, message.result);
      else finish(fromWorkerError(message.error));
    });
    worker.on('error', (e) => finish(e));
    worker.on('exit', (code) =>
      finish(new Error(`[modelreg] [train] the train worker exited with code ${code}`)),
    );

    const send = (message: ToTrainWorker): boolean => {
      try {
        worker.postMessage(message);
        return true;
      } catch (e) {
        // A value that cannot be cloned (a function in params, say): the input is not data.
        finish(invalidArgument(`train options must be plain data: ${(e as Error).message}`, 'train'));
        return false;
      }
    };
    const { source } = input;
    if (source.kind !== 'rows') {
      send({ type: 'start', input });
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
      send({ type: 'start', input: { ...input, source: { kind: 'rows', rows: [] } } });
    };
    next();
  });
}
