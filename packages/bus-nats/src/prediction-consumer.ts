import type { ConsumerMessages, JetStreamClient, JsMsg, MsgHdrs } from 'nats';
import { AckPolicy, DeliverPolicy, headers as natsHeaders, nanos } from 'nats';
import type { LiveModel } from '@modelreg/core';
import { formatModelUri, isRegistryError, parseModelUri, parseStoreOptions } from '@modelreg/core';
import { RowBatcher } from './batcher.js';
import type { JobId } from './jobs.js';
import { parseJobLine } from './jobs.js';
import { predictionConsumerOptionsSchema } from './options.js';
import type { PredictionConsumerOptions } from './options.js';
import { predictWhenServing } from './serving.js';
import {
  WHERE,
  ensureStream,
  isConsumerNotFound,
  messageOf,
  natsFailure,
  openConnection,
  streamForSubject,
  streamNameFor,
} from './streams.js';

/** A result message: the worker's result line without `line` (a message is its own line). */
export type PredictionResult = {
  id: JobId;
  model: string;
  version: number | null;
  latencyMs: number;
} & ({ prediction: unknown } | { predictions: unknown[] });

/** Headers of a dead-lettered message (its body is the input's body, unchanged). */
export const deadLetterHeaders = {
  code: 'Modelreg-Error-Code',
  error: 'Modelreg-Error',
  deliveries: 'Modelreg-Deliveries',
  subject: 'Modelreg-Source-Subject',
  sequence: 'Modelreg-Source-Sequence',
} as const;

export interface PredictionConsumerStats {
  /** Results published (JetStream stored them, or already had them: `duplicates`). */
  results: number;
  /** Results JetStream dropped as duplicates: a redelivered input whose result was stored before. */
  duplicates: number;
  /** Attempts that failed and were put back for redelivery. */
  retried: number;
  /** Inputs sent to the dead-letter subject. */
  deadLettered: number;
  /** Messages held now because no version serves. */
  waiting: number;
  /** Messages being handled now. */
  inFlight: number;
}

/** A running streaming prediction worker. */
export interface PredictionConsumer {
  /** The streams and durable consumer in use. */
  readonly streams: { input: string; output: string; deadLetter: string };
  readonly consumer: string;
  readonly deadLetterSubject: string;
  /** The live model predictions go through (hot-swaps on promotion). */
  readonly live: LiveModel;
  stats(): PredictionConsumerStats;
  /** Resolves when consuming ended (after `stop`); rejects if the message stream failed. */
  readonly done: Promise<void>;
  /**
   * Stops taking messages, lets the ones in hand finish (held ones are given back for redelivery),
   * closes the live model and an owned connection.
   */
  stop(): Promise<void>;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The job id of a message: the job's `id`, else its `Nats-Msg-Id`, else `<stream>:<sequence>`. */
function idOf(jobId: JobId | undefined, msg: JsMsg): JobId {
  return jobId ?? msg.headers?.get('Nats-Msg-Id') ?? `${msg.info.stream}:${msg.seq}`;
}

/** Ids from a message body that is not a valid job, when one can be read. */
function looseId(text: string): JobId | undefined {
  try {
    const value = JSON.parse(text) as { id?: unknown };
    return typeof value.id === 'string' || typeof value.id === 'number' ? value.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads jobs from a durable JetStream pull consumer on `inputSubject`, predicts each through
 * `registry.watch(uri)` (so a promotion swaps the model without a restart), publishes the result to
 * `outputSubject` with `Nats-Msg-Id` = the job id, and acknowledges the input only after JetStream
 * acked the result. A worker killed anywhere in between gets its inputs redelivered after
 * `ackWaitMs`; the re-published results fall in the output stream's duplicate window and are
 * dropped, so each input id has one result.
 *
 * - At most `maxInFlight` messages are delivered and unacknowledged (the consumer's `max_ack_pending`).
 * - While no version serves the URI (e.g. nothing in production yet), messages are held (their ack
 *   deadline extended) and retried; consuming pauses, nothing fails.
 * - A body that is not a job, or rows the model refuses (`INVALID_ARGUMENT`), goes to the dead-letter
 *   subject at once; other failures are redelivered after `retryDelayMs` and dead-lettered at the
 *   `maxDeliver`-th delivery. A dead-lettered input is then terminated (never redelivered).
 */
export async function createPredictionConsumer(
  options: PredictionConsumerOptions,
): Promise<PredictionConsumer> {
  const o = parseStoreOptions(predictionConsumerOptionsSchema, options, WHERE);
  const { registry } = o;
  const log = o.log ?? (() => undefined);
  const uri = o.uri ?? formatModelUri(o.model!, o.stage);
  const parsedUri = parseModelUri(uri);
  const modelName = parsedUri.kind === 'model' ? parsedUri.name : uri;
  const deadLetterSubject = o.deadLetterSubject ?? `${o.inputSubject}.dead`;
  const durable = o.consumer ?? `modelreg-predict-${streamNameFor(o.inputSubject)}`;
  const waitRetryMs = o.waitRetryMs ?? Math.min(1000, Math.floor(o.ackWaitMs / 2));

  const { nc, release } = await openConnection(o.nats, o.servers, `modelreg-predict-${o.inputSubject}`);
  let js: JetStreamClient;
  let streams: PredictionConsumer['streams'];
  let messages: ConsumerMessages;
  try {
    const jsm = await nc.jetstreamManager();
    const streamOf = async (subject: string, given: string | undefined): Promise<string> => {
      if (given === undefined) {
        return streamForSubject(jsm, subject, streamNameFor(subject), o.duplicateWindowMs);
      }
      await ensureStream(jsm, { name: given, subjects: [subject], duplicateWindowMs: o.duplicateWindowMs });
      return given;
    };
    const input = await streamOf(o.inputSubject, o.stream);
    const output = await streamOf(o.outputSubject, o.outputStream);
    const deadLetter = await streamOf(deadLetterSubject, undefined);
    streams = { input, output, deadLetter };
    const config = {
      ack_wait: nanos(o.ackWaitMs),
      max_ack_pending: o.maxInFlight,
      // Deliveries are counted here, not by the server: held messages (no version serves) never fail.
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(input, durable);
      await jsm.consumers.update(input, durable, config);
    } catch (e) {
      if (!isConsumerNotFound(e)) throw e;
      await jsm.consumers.add(input, {
        ...config,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: o.inputSubject,
      });
    }
    js = nc.jetstream();
    const consumer = await js.consumers.get(input, durable);
    messages = await consumer.consume({ max_messages: o.maxInFlight });
  } catch (e) {
    await release();
    throw isRegistryError(e) ? e : natsFailure(`setting up the consumer "${durable}" failed`, e);
  }

  const live = registry.watch(uri, {
    // While nothing serves, each re-check fails: a log entry, not a process warning per try.
    onError: (e) =>
      log({
        event: 'model.watch_error',
        uri: e.uri,
        phase: e.phase,
        serving: e.serving?.version ?? null,
        error: messageOf(e.error),
      }),
    ...o.watch,
  });
  const batcher = new RowBatcher(live, o.maxInFlight);
  const stopping = new AbortController();
  const stats: PredictionConsumerStats = {
    results: 0,
    duplicates: 0,
    retried: 0,
    deadLettered: 0,
    waiting: 0,
    inFlight: 0,
  };

  const deadLetter = async (msg: JsMsg, id: JobId, code: string, error: string): Promise<void> => {
    const h: MsgHdrs = natsHeaders();
    h.set(deadLetterHeaders.code, code);
    h.set(deadLetterHeaders.error, error.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set(deadLetterHeaders.deliveries, String(msg.info.redeliveryCount));
    h.set(deadLetterHeaders.subject, msg.subject);
    h.set(deadLetterHeaders.sequence, String(msg.seq));
    await js.publish(deadLetterSubject, msg.data, {
      msgID: String(id),
      headers: h,
      timeout: o.publishTimeoutMs,
    });
    stats.deadLettered++;
    // No reason text: nats-server before 2.10 does not read "+TERM <reason>" as a termination.
    msg.term();
    log({ event: 'message.dead_lettered', id, code, error, deliveries: msg.info.redeliveryCount });
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    const text = msg.string();
    const job = parseJobLine(text, 1);
    if (!job || job.kind === 'invalid') {
      const reason = job ? job.error.replace(/^line 1:? ?/, '') : 'the message body is empty';
      await deadLetter(msg, idOf(looseId(text), msg), 'INVALID_ARGUMENT', `not a job: ${reason}`);
      return;
    }
    const id = idOf(job.id, msg);
    const t0 = performance.now();
    let outcome: { predictions: unknown[]; version: { version: number } | null };
    try {
      const rows = job.kind === 'record' ? [job.row] : job.rows;
      let held = false;
      try {
        outcome = await predictWhenServing(registry, live, rows as Parameters<LiveModel['predict']>[0], {
          // Single-row jobs in hand are predicted together (one model call), batches alone.
          ...(job.kind === 'record'
            ? {
                predict: async () => {
                  const { prediction, version } = await batcher.predict(job.row);
                  return { predictions: [prediction], version };
                },
              }
            : {}),
          retryMs: waitRetryMs,
          signal: stopping.signal,
          onWait: (attempt) => {
            // Keep the message: its ack deadline restarts, and it is not redelivered elsewhere.
            msg.working();
            if (!held) stats.waiting++;
            held = true;
            if (attempt === 1) log({ event: 'model.waiting', uri, id });
          },
        });
      } finally {
        if (held) stats.waiting--;
      }
    } catch (e) {
      if (stopping.signal.aborted) {
        msg.nak();
        return;
      }
      const code = isRegistryError(e) ? e.code : 'INTERNAL';
      if (code === 'INVALID_ARGUMENT' || msg.info.redeliveryCount >= o.maxDeliver) {
        await deadLetter(msg, id, code, messageOf(e));
      } else {
        stats.retried++;
        msg.nak(o.retryDelayMs);
        log({ event: 'message.retry', id, code, error: messageOf(e), deliveries: msg.info.redeliveryCount });
      }
      return;
    }
    const result: PredictionResult =
      job.kind === 'record'
        ? {
            id,
            model: modelName,
            version: outcome.version?.version ?? null,
            prediction: outcome.predictions[0],
            latencyMs: round(performance.now() - t0),
          }
        : {
            id,
            model: modelName,
            version: outcome.version?.version ?? null,
            predictions: outcome.predictions,
            latencyMs: round(performance.now() - t0),
          };
    const ack = await js.publish(o.outputSubject, JSON.stringify(result), {
      msgID: String(id),
      timeout: o.publishTimeoutMs,
    });
    stats.results++;
    if (ack.duplicate) stats.duplicates++;
    // Only now: JetStream has the result, so the input may go.
    msg.ack();
  };

  const slots: Array<() => void> = [];
  const run = (msg: JsMsg): void => {
    stats.inFlight++;
    handle(msg)
      .catch((e: unknown) => {
        // Publishing the result or the dead letter failed (NATS down, stream full): try again later.
        stats.retried++;
        try {
          msg.nak(o.retryDelayMs);
        } catch {
          // the connection is gone; the ack deadline gives the message back
        }
        log({ event: 'message.retry', error: messageOf(e), deliveries: msg.info.redeliveryCount });
      })
      .finally(() => {
        stats.inFlight--;
        slots.shift()?.();
      });
  };

  const done = (async () => {
    for await (const msg of messages) {
      if (stopping.signal.aborted) {
        msg.nak();
        continue;
      }
      if (stats.inFlight >= o.maxInFlight) await new Promise<void>((resolve) => slots.push(resolve));
      run(msg);
    }
    while (stats.inFlight > 0) await new Promise<void>((resolve) => slots.push(resolve));
  })();
  done.catch(() => undefined);

  let stopped: Promise<void> | undefined;
  return {
    streams,
    consumer: durable,
    deadLetterSubject,
    live,
    done,
    stats: () => ({ ...stats }),
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await messages.close().catch(() => undefined);
        await done.catch((e: unknown) => log({ event: 'consumer.error', error: messageOf(e) }));
        await live.close();
        await release();
      })()),
  };
}
