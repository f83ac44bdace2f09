import type pg from 'pg';
import { translateError } from './db.js';

export interface Listener {
  subscribe(onWake: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Reconnect delay after a dropped connection: exponential from 100 ms to 5 s, jittered by ±25%. */
const reconnectDelay = (attempt: number): number =>
  Math.min(5000, 100 * 2 ** attempt) * (0.75 + Math.random() / 2);

/**
 * One dedicated connection per store that `LISTEN`s on the store's channel and wakes every
 * subscriber. When the connection drops it is replaced with backoff and every subscriber is woken
 * once: notifications sent while no one listened are lost, and the wake-up tells readers to re-read
 * from their last `seq`.
 */
export function createListener(pool: pg.Pool, channel: string): Listener {
  const subscribers = new Set<() => void>();
  let client: pg.PoolClient | undefined;
  let connecting: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;

  const wakeAll = (): void => {
    for (const onWake of [...subscribers]) {
      try {
        onWake();
      } catch {
        // A subscriber's failure is its own; the others still get their wake-up.
      }
    }
  };

  const wanted = (): boolean => !closed && subscribers.size > 0;

  const drop = (dropped: pg.PoolClient, error?: Error): void => {
    if (client !== dropped) return;
    client = undefined;
    // Destroy rather than return it to the pool: the connection is dead or still LISTENing.
    dropped.release(error ?? true);
  };

  const scheduleReconnect = (): void => {
    if (!wanted() || timer || connecting) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!wanted()) return;
      connect().then(
        () => wakeAll(),
        () => {
          attempt += 1;
          scheduleReconnect();
        },
      );
    }, reconnectDelay(attempt));
  };

  const open = async (): Promise<void> => {
    const next = await pool.connect();
    const onDrop = (error?: Error): void => {
      if (client !== next) return;
      drop(next, error ?? new Error('LISTEN connection ended'));
      scheduleReconnect();
    };
    next.on('notification', (message) => {
      if (message.channel === channel) wakeAll();
    });
    next.on('error', onDrop);
    next.on('end', () => onDrop());
    try {
      await next.query(`LISTEN "${channel}"`);
    } catch (error) {
      next.release(error instanceof Error ? error : true);
      throw error;
    }
    if (!wanted()) {
      next.release(true);
      return;
    }
    client = next;
    attempt = 0;
  };

  const connect = (): Promise<void> => {
    connecting ??= open().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (client) drop(client);
  };

  return {
    async subscribe(onWake) {
      // A distinct function per call, so the same callback can be subscribed twice independently.
      const entry = (): void => onWake();
      subscribers.add(entry);
      if (!client && !timer) {
        try {
          await connect();
        } catch (error) {
          subscribers.delete(entry);
          throw translateError(error);
        }
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        subscribers.delete(entry);
        if (subscribers.size === 0) stop();
      };
    },

    async close() {
      closed = true;
      subscribers.clear();
      stop();
      await connecting?.catch(() => undefined);
    },
  };
}
