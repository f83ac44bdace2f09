import type { JetStreamClient } from 'nats';
import { isRegistryError, parseStoreOptions } from '@modelreg/core';
import type { RegistryEvent } from '@modelreg/core';
import { relayEventsOptionsSchema } from './options.js';
import type { RelayEventsOptions } from './options.js';
import { WHERE, ensureStream, messageOf, natsFailure, openConnection, streamNameFor } from './streams.js';

/** A running relay. */
export interface EventRelay {
  /** The JetStream stream that holds the events. */
  readonly stream: string;
  /** `<prefix>.events.`: an event of type `version.created` is published to `<prefix>.events.version.created`. */
  readonly subjectPrefix: string;
  /**
   * Publishes every event written so far (when this relay holds the cursor) and resolves with the
   * cursor's position; rejects with the failure of that round.
   */
  flush(): Promise<number>;
  /** Counts since start: events published, and those JetStream dropped as duplicates (a re-publish). */
  stats(): { published: number; duplicates: number; standby: boolean };
  /** Stops publishing (the round in hand finishes), releases the cursor, closes an owned connection. */
  stop(): Promise<void>;
}

/**
 * Publishes every registry event, in log order, to `<prefix>.events.<type>` on JetStream with
 * `Nats-Msg-Id` = the event's sequence number, and advances the cursor only after JetStream acked
 * the publish. A crash between the ack and the advance re-publishes a few events on restart; the
 * stream's duplicate window drops them, so a consumer of `<prefix>.events.>` sees each sequence
 * number once. With several relays on one cursor, the lease holder publishes and the others wait.
 *
 * Resolves once the stream exists and the first round has started.
 */
export async function relayEvents(options: RelayEventsOptions): Promise<EventRelay> {
  const o = parseStoreOptions(relayEventsOptionsSchema, options, WHERE);
  const { registry } = o;
  const cursor = o.cursor ?? registry.eventCursor(`nats-relay:${o.prefix}`);
  const log = o.log ?? (() => undefined);
  const stream = o.stream ?? `${streamNameFor(o.prefix)}_EVENTS`;
  const subjectPrefix = `${o.prefix}.events.`;
  const { nc, release } = await openConnection(o.nats, o.servers, `modelreg-relay-${o.prefix}`);
  let js: JetStreamClient;
  try {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, {
      name: stream,
      subjects: [`${subjectPrefix}>`],
      duplicateWindowMs: o.duplicateWindowMs,
    });
    js = nc.jetstream();
  } catch (e) {
    await release();
    throw isRegistryError(e) ? e : natsFailure('setting up JetStream for the relay failed', e);
  }

  const stats = { published: 0, duplicates: 0, standby: false };
  let stopped = false;
  let round: Promise<number> | undefined;
  let again = false;
  let retry: NodeJS.Timeout | undefined;

  const publish = async (event: RegistryEvent): Promise<void> => {
    const ack = await js.publish(`${subjectPrefix}${event.type}`, JSON.stringify(event), {
      msgID: String(event.seq),
      timeout: o.publishTimeoutMs,
    });
    if (ack.duplicate) stats.duplicates++;
    else stats.published++;
  };

  /** One pass: claim, then publish from the cursor to the log's end. */
  const pass = async (): Promise<number> => {
    if (!(await cursor.claim())) {
      if (!stats.standby) log({ event: 'relay.standby', cursor: cursor.name });
      stats.standby = true;
      return cursor.position();
    }
    if (stats.standby) log({ event: 'relay.active', cursor: cursor.name });
    stats.standby = false;
    let position = await cursor.position();
    while (!stopped) {
      const events = await registry.stores.metadata.readEvents(position, o.batchSize);
      if (events.length === 0) break;
      for (const event of events) await publish(event);
      position = events[events.length - 1]!.seq;
      await cursor.advance(position);
      if (events.length < o.batchSize || !(await cursor.claim())) break;
    }
    return position;
  };

  const pump = (): Promise<number> => {
    if (round) {
      again = true;
      return round;
    }
    const current = (async () => {
      try {
        let position: number;
        do {
          again = false;
          position = await pass();
        } while (again && !stopped);
        return position;
      } finally {
        round = undefined;
      }
    })();
    round = current;
    current.catch((e: unknown) => {
      log({ event: 'relay.error', error: messageOf(e) });
      if (!stopped && !retry) {
        retry = setTimeout(() => {
          retry = undefined;
          void pump().catch(() => undefined);
        }, o.retryDelayMs);
        retry.unref();
      }
    });
    return current;
  };

  const unsubscribe = registry.on('*', () => void pump().catch(() => undefined));
  const timer = setInterval(() => void pump().catch(() => undefined), o.pollIntervalMs);
  timer.unref();
  void pump().catch(() => undefined);

  return {
    stream,
    subjectPrefix,
    flush: async () => {
      // A round already running may have read the log before the caller's last write: run one more.
      await round?.catch(() => undefined);
      return pump();
    },
    stats: () => ({ ...stats }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      if (retry) clearTimeout(retry);
      await round?.catch(() => undefined);
      await cursor.release().catch((e: unknown) => log({ event: 'relay.error', error: messageOf(e) }));
      await release();
    },
  };
}
