import type { JetStreamManager, NatsConnection, StreamInfo } from 'nats';
import { connect, nanos } from 'nats';
import { RegistryError } from '@modelreg/core';

export const WHERE = 'bus-nats';

/** JetStream's API error codes that mean "not there" (see nats-server's errors.json). */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

const apiCode = (e: unknown): number | undefined =>
  (e as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;

export const isStreamNotFound = (e: unknown): boolean => apiCode(e) === STREAM_NOT_FOUND;
export const isConsumerNotFound = (e: unknown): boolean => apiCode(e) === CONSUMER_NOT_FOUND;

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A NATS or JetStream failure as the registry's error shape. */
export const natsFailure = (what: string, cause: unknown): RegistryError =>
  new RegistryError('STORE_FAILURE', `${what}: ${messageOf(cause)}`, { where: WHERE, cause });

/** A stream name made from a subject: `treasury.data` -> `TREASURY_DATA` (`.`, `*`, `>` are not allowed in names). */
export const streamNameFor = (subject: string): string =>
  subject
    .replace(/\.?>$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .toUpperCase() || 'MODELREG';

export interface EnsureStreamOptions {
  name: string;
  /** Subjects of a created stream (an existing stream's subjects are left as they are). */
  subjects: string[];
  /** JetStream drops a message whose `Nats-Msg-Id` it stored within this window. */
  duplicateWindowMs: number;
}

/**
 * Creates the stream when missing; on an existing stream only widens a shorter duplicate window
 * (never changes subjects or narrows anything an operator configured).
 */
export async function ensureStream(jsm: JetStreamManager, options: EnsureStreamOptions): Promise<StreamInfo> {
  const window = nanos(options.duplicateWindowMs);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(options.name);
  } catch (e) {
    if (!isStreamNotFound(e)) throw natsFailure(`reading stream "${options.name}" failed`, e);
    try {
      return await jsm.streams.add({
        name: options.name,
        subjects: options.subjects,
        duplicate_window: window,
      });
    } catch (e2) {
      throw natsFailure(
        `creating stream "${options.name}" for ${options.subjects.map((s) => `"${s}"`).join(', ')} failed`,
        e2,
      );
    }
  }
  if ((info.config.duplicate_window ?? 0) >= window) return info;
  try {
    return await jsm.streams.update(options.name, { ...info.config, duplicate_window: window });
  } catch (e) {
    throw natsFailure(`updating stream "${options.name}" failed`, e);
  }
}

/**
 * The stream that captures `subject`: the existing one when a stream already does (whatever its
 * name), else `fallbackName`, created for it.
 */
export async function streamForSubject(
  jsm: JetStreamManager,
  subject: string,
  fallbackName: string,
  duplicateWindowMs: number,
): Promise<string> {
  try {
    const name = await jsm.streams.find(subject);
    await ensureStream(jsm, { name, subjects: [], duplicateWindowMs });
    return name;
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    // No stream captures the subject yet.
  }
  await ensureStream(jsm, { name: fallbackName, subjects: [subject], duplicateWindowMs });
  return fallbackName;
}

/** A connection given by the caller (kept open) or opened from `servers` (closed by `release`). */
export async function openConnection(
  given: NatsConnection | undefined,
  servers: string | string[] | undefined,
  name: string,
): Promise<{ nc: NatsConnection; release: () => Promise<void> }> {
  if (given) return { nc: given, release: async () => undefined };
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name, maxReconnectAttempts: -1 });
  } catch (e) {
    throw natsFailure(`connecting to NATS at ${String(servers)} failed`, e);
  }
  return {
    nc,
    release: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}
