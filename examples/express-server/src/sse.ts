import type { Response } from 'express';

/** An open server-sent event stream (see {@link openEventStream}). */
export interface EventStream {
  /** Writes one event: `id:` (when given), `event:` and one `data:` line of JSON. */
  send(name: string, data: unknown, id?: number): void;
  /** Ends the stream (idempotent); also called when the client goes away or the server shuts down. */
  end(): void;
  readonly ended: boolean;
  /** Runs `cleanup` when the stream ends. */
  onEnd(cleanup: () => void): void;
}

/**
 * Answers `200 text/event-stream` and keeps the connection open: comment heartbeats every
 * `heartbeatMs` keep proxies from closing an idle stream, and the stream is registered in `streams`
 * so a shutting-down server can end it (an open stream would hold `server.close()` forever).
 */
export function openEventStream(res: Response, heartbeatMs: number, streams: Set<() => void>): EventStream {
  const cleanups: (() => void)[] = [];
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    streams.delete(end);
    for (const cleanup of cleanups.splice(0)) cleanup();
    if (!res.writableEnded) res.end();
  };
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.on('close', end);
  streams.add(end);
  const heartbeat = setInterval(() => res.write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
  heartbeat.unref();
  cleanups.push(() => clearInterval(heartbeat));
  return {
    send(name, data, id) {
      if (ended) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end,
    get ended() {
      return ended;
    },
    onEnd(cleanup) {
      if (ended) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
