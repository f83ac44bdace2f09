import type { NatsConnection } from 'nats';
import { z } from 'zod';
import type { ModelRegistry, WatchOptions } from '@modelreg/core';
import { hasMethods } from '@modelreg/core';
import type { EventCursor } from './cursor.js';

/** One or more subject tokens, no wildcards: `modelreg`, `acme.prod`. */
const subject = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    'must be dot-separated tokens of letters, digits, "_" and "-" (no wildcards, no spaces)',
  );

const name = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'must contain only letters, digits, "_" and "-"');

const ms = (min: number, max: number) =>
  z.number().int('must be a whole number of milliseconds').min(min).max(max);

const registry = z.custom<ModelRegistry>(
  (v) => hasMethods(v, ['on', 'resolve', 'watch']) && typeof (v as { stores?: unknown }).stores === 'object',
  'must be a ModelRegistry',
);
const connection = z
  .custom<NatsConnection>(
    (v) => hasMethods(v, ['jetstream', 'jetstreamManager', 'close']),
    'must be a NatsConnection',
  )
  .optional();
const servers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional();
const oneConnection = (o: { nats?: unknown; servers?: unknown }): boolean =>
  (o.nats === undefined) !== (o.servers === undefined);
const connectionMessage = {
  message: 'give exactly one of "nats" (a connection you own) and "servers" (a URL to connect to)',
  path: ['nats'],
};
const callback = <F>() => z.custom<F>((v) => typeof v === 'function', 'must be a function').optional();

/** A structured log entry; the worker example prints them as JSON lines on stderr. */
export type LogEntry = { event: string } & Record<string, unknown>;

/**
 * Options of {@link relayEvents}, parsed once; a bad option throws `RegistryError('INVALID_CONFIG')`.
 */
export const relayEventsOptionsSchema = z
  .strictObject({
    registry,
    /** A connection the caller owns (kept open by `stop`). */
    nats: connection,
    /** Or where to connect (`nats://127.0.0.1:4222`); the relay closes that connection on `stop`. */
    servers,
    /** Events go to `<prefix>.events.<type>`. Default `modelreg`. */
    prefix: subject.default('modelreg'),
    /**
     * Where publishing stopped. Default: `registry.eventCursor('nats-relay:<prefix>')`, kept in the
     * registry's metadata store (the registry must act as an admin).
     */
    cursor: z
      .custom<EventCursor>(
        (v) => hasMethods(v, ['claim', 'position', 'advance', 'release']),
        'must be an EventCursor (claim, position, advance, release)',
      )
      .optional(),
    /** The JetStream stream (created or extended to capture `<prefix>.events.>`). Default `<PREFIX>_EVENTS`. */
    stream: name.optional(),
    /**
     * JetStream drops a re-published event (same `Nats-Msg-Id`) within this window: it must cover a
     * crashed relay's restart. Default 10 minutes.
     */
    duplicateWindowMs: ms(1000, 7 * 86_400_000).default(600_000),
    /** Events read and published between two cursor advances. Default 100. */
    batchSize: z.number().int().min(1).max(10_000).default(100),
    /** Safety poll (the registry's wake-ups are the fast path); also how often a standby re-claims. Default 1000. */
    pollIntervalMs: ms(10, 3_600_000).default(1000),
    /** Wait after a failed round (NATS or the store down) before trying again. Default 1000. */
    retryDelayMs: ms(1, 3_600_000).default(1000),
    /** How long to wait for each publish ack. Default 5000. */
    publishTimeoutMs: ms(10, 600_000).default(5000),
    log: callback<(entry: LogEntry) => void>(),
  })
  .refine(oneConnection, connectionMessage);
export type RelayEventsOptions = z.input<typeof relayEventsOptionsSchema>;

/**
 * Options of {@link createPredictionConsumer}, parsed once; a bad option throws
 * `RegistryError('INVALID_CONFIG')`.
 */
export const predictionConsumerOptionsSchema = z
  .strictObject({
    registry,
    nats: connection,
    servers,
    /** Jobs are read from this subject (one job in the worker's NDJSON job format per message). */
    inputSubject: subject,
    /** Results are published here, with `Nats-Msg-Id` = the job id. */
    outputSubject: subject,
    /** What to serve: any model URI (`models:/iris@champion`)… */
    uri: z.string().min(1).optional(),
    /** …or a model name, served at `stage`. */
    model: z.string().min(1).optional(),
    /** The stage served with `model`. Default `production`. */
    stage: z.string().min(1).default('production'),
    /** The input stream. Default: the stream that captures `inputSubject`, else one created as its name in capitals. */
    stream: name.optional(),
    /** The output stream, found or created the same way. */
    outputStream: name.optional(),
    /** The durable consumer's name: replicas with the same name share the work. Default `modelreg-predict-<INPUT>`. */
    consumer: name.optional(),
    /** A message that fails this many deliveries goes to `deadLetterSubject`. Default 5. */
    maxDeliver: z.number().int().min(1).max(1000).default(5),
    /** Default `<inputSubject>.dead`. Its stream is found or created as for the output. */
    deadLetterSubject: subject.optional(),
    /** Messages delivered and not yet acknowledged, at most (the consumer's `max_ack_pending` too). Default 64. */
    maxInFlight: z.number().int().min(1).max(10_000).default(64),
    /** Unacknowledged messages are redelivered after this (a killed worker's, too). Default 30000. */
    ackWaitMs: ms(100, 3_600_000).default(30_000),
    /** Redelivery delay after a failed attempt. Default 1000. */
    retryDelayMs: ms(0, 3_600_000).default(1000),
    /** While no version serves, how often to re-check (and extend held messages' ack deadline). Default 1000, at most half of `ackWaitMs`. */
    waitRetryMs: ms(10, 3_600_000).optional(),
    /** Duplicate window of streams this consumer creates; must exceed `ackWaitMs` plus a restart. Default 10 minutes. */
    duplicateWindowMs: ms(1000, 7 * 86_400_000).default(600_000),
    /** How long to wait for each publish ack. Default 5000. */
    publishTimeoutMs: ms(10, 600_000).default(5000),
    /** Passed to `registry.watch` (`onSwap`, `onError`, `format`, …). */
    watch: z.custom<WatchOptions>((v) => typeof v === 'object' && v !== null).optional(),
    log: callback<(entry: LogEntry) => void>(),
  })
  .refine(oneConnection, connectionMessage)
  .refine((o) => (o.uri === undefined) !== (o.model === undefined), {
    message: 'give exactly one of "uri" and "model"',
    path: ['uri'],
  })
  .refine((o) => o.waitRetryMs === undefined || o.waitRetryMs < o.ackWaitMs, {
    message: 'must be less than "ackWaitMs": a held message would be redelivered while it waits',
    path: ['waitRetryMs'],
  })
  .refine((o) => o.duplicateWindowMs > o.ackWaitMs, {
    message: 'must exceed "ackWaitMs": a redelivered message must fall in the window of its first result',
    path: ['duplicateWindowMs'],
  });
export type PredictionConsumerOptions = z.input<typeof predictionConsumerOptionsSchema>;
