import { z } from 'zod';
import { parseInput } from '../domain/parse.js';
import type { Label } from '../training/trainer.js';
import type { LoadedModel, ModelRuntime } from './load.js';
import { runtimeOf } from './load.js';
import type { PredictInput } from './signature.js';

export const predictBatcherOptionsSchema = z
  .object({
    /**
     * Longest a request waits for others to join its batch, in ms. Default 1. The window opens only
     * while requests for the model overlap (see {@link createPredictBatcher}).
     */
    maxWaitMs: z.number().min(0).max(1000).default(1),
    /** Rows per model call; a batch is sent as soon as it holds this many. Default 1024. */
    maxRows: z.number().int().min(1).max(1_000_000).default(1024),
  })
  .strict();
export type PredictBatcherOptions = z.input<typeof predictBatcherOptionsSchema>;

/** Coalesces concurrent `predict` calls on one model into one model call. */
export interface PredictBatcher {
  /**
   * `model.predict(input)`, possibly run in one call with other requests for the same model content
   * and format. `input` is validated and encoded at once, so a bad request fails alone (with the same
   * error as `model.predict`) and never joins a batch; the answer is this request's rows only.
   */
  predict(model: LoadedModel, input: PredictInput): Promise<Label[]>;
  /** Batches waiting and running now (for tests and metrics). */
  readonly pending: number;
}

interface Waiting {
  x: Float64Array | Float32Array;
  nRows: number;
  resolve: (labels: Label[]) => void;
  reject: (error: unknown) => void;
}

interface Queue {
  runtime: ModelRuntime;
  waiting: Waiting[];
  rows: number;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Requests in the last batch sent: more than one means requests overlap, so the next one waits for company. */
  lastBatch: number;
}

function concat(parts: Waiting[], rows: number, width: number): Float64Array | Float32Array {
  const first = parts[0]!.x;
  const out = first instanceof Float32Array ? new Float32Array(rows * width) : new Float64Array(rows * width);
  let offset = 0;
  for (const p of parts) {
    out.set(p.x.subarray(0, p.nRows * width), offset);
    offset += p.nRows * width;
  }
  return out;
}

/**
 * Adaptive batching, one queue per loaded model content and format (what `registry.load` caches).
 * A request that finds its model idle runs at once, so a lone client waits for nothing. Requests that
 * arrive while a call of that model runs are queued and sent together when it returns; and once
 * requests overlap (the last batch held more than one), a new request waits up to `maxWaitMs` for
 * others to join. A batch is sent as soon as it holds `maxRows` rows. The model's answer is split
 * back by request; an error of the model call fails the requests of that batch only.
 */
export function createPredictBatcher(options: PredictBatcherOptions = {}): PredictBatcher {
  const opts = parseInput(predictBatcherOptionsSchema, options, {
    code: 'INVALID_CONFIG',
    what: 'predict batching option',
    where: 'predict',
  });
  const queues = new WeakMap<ModelRuntime, Queue>();
  let pending = 0;

  function send(q: Queue): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    if (q.running || q.waiting.length === 0) return;
    // Take whole requests up to maxRows (at least one).
    let take = 0;
    let rows = 0;
    while (take < q.waiting.length && (take === 0 || rows + q.waiting[take]!.nRows <= opts.maxRows)) {
      rows += q.waiting[take]!.nRows;
      take++;
    }
    const batch = q.waiting.splice(0, take);
    q.rows -= rows;
    q.lastBatch = batch.length;
    q.running = true;
    pending++;
    const width = q.runtime.manifest.features.length;
    const x = batch.length === 1 ? batch[0]!.x : concat(batch, rows, width);
    let call: Promise<Label[]>;
    try {
      call = q.runtime.predictEncoded(x, rows);
    } catch (e) {
      call = Promise.reject(e);
    }
    call
      .then(
        (labels) => {
          let offset = 0;
          for (const w of batch) {
            w.resolve(batch.length === 1 ? labels : labels.slice(offset, offset + w.nRows));
            offset += w.nRows;
          }
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        q.running = false;
        pending--;
        // Whoever queued meanwhile has waited a whole model call already: send them now.
        send(q);
      });
  }

  function enqueue(runtime: ModelRuntime, input: PredictInput): Promise<Label[]> {
    const { x, nRows } = runtime.encode(input);
    if (nRows === 0) return Promise.resolve([]);
    let q = queues.get(runtime);
    if (!q) {
      q = { runtime, waiting: [], rows: 0, running: false, timer: undefined, lastBatch: 0 };
      queues.set(runtime, q);
    }
    const queue = q;
    const answer = new Promise<Label[]>((resolve, reject) => {
      queue.waiting.push({ x, nRows, resolve, reject });
    });
    queue.rows += nRows;
    // While a call runs, the queue is sent when it returns.
    if (queue.running) return answer;
    if (queue.rows >= opts.maxRows || queue.lastBatch <= 1 || opts.maxWaitMs === 0) send(queue);
    else if (!queue.timer) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        // Alone after the window: the next request runs at once again.
        if (queue.waiting.length === 1) queue.lastBatch = 1;
        send(queue);
      }, opts.maxWaitMs);
    }
    return answer;
  }

  return {
    predict(model, input) {
      const runtime = runtimeOf(model);
      if (!runtime) return model.predict(input);
      try {
        return enqueue(runtime, input);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    get pending() {
      return pending;
    },
  };
}
