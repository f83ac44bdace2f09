import { Router } from 'express';
import type { RegistryEvent } from '@modelreg/core';
import { eventTypes } from '@modelreg/core';
import { z } from 'zod';
import { registryOf } from '../auth.js';
import type { AppContext } from '../context.js';
import { HttpError, parseRequest } from '../errors.js';

// MINIMAL stand-in for issue 19's browser test of live updates. Another helper owns `GET /events`
// (issue "Events beyond Node processes") with the same contract; on merge keep that version.

export const eventsQuery = z
  .object({
    types: z
      .string()
      .max(2000)
      .optional()
      .meta({ description: 'Comma-separated event types (default: all)' }),
  })
  .strict();

/** The types of `?types=`, or 400 naming the first unknown one. */
function typesOf(text: string | undefined): Set<string> | undefined {
  if (text === undefined || text === '') return undefined;
  const list = text.split(',').map((x) => x.trim());
  const bad = list.find((x) => !(eventTypes as readonly string[]).includes(x));
  if (bad !== undefined)
    throw new HttpError(400, 'INVALID_REQUEST', `query.types: unknown event type "${bad}"`);
  return new Set(list);
}

const LastEventId = z.coerce.number().int().min(0);

/**
 * `GET /events?types=a,b`: the registry's events as server-sent events (`id: <seq>`, `event: <type>`,
 * `data: <event JSON>`); a reconnect with `Last-Event-ID` first replays what it missed.
 */
export function eventRoutes(ctx: AppContext, streams: Set<() => void>): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    const types = typesOf(parseRequest(eventsQuery, req.query, 'query').types);
    registryOf(res);
    const header = req.get('last-event-id');
    const after = header !== undefined ? LastEventId.safeParse(header) : undefined;
    const wanted = (e: RegistryEvent) => !types || types.has(e.type);
    let lastSeq = after?.success ? after.data : 0;
    let ended = false;
    const pending: RegistryEvent[] = [];
    let live = false;
    const write = (e: RegistryEvent) => {
      if (ended || e.seq <= lastSeq) return;
      lastSeq = e.seq;
      if (wanted(e)) res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const off = ctx.registry.on('*', (e) => (live ? write(e) : pending.push(e)));
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), ctx.sseHeartbeatMs);
    const finish = () => {
      if (ended) return;
      ended = true;
      off();
      clearInterval(heartbeat);
      streams.delete(finish);
      if (!res.writableEnded) res.end();
    };
    streams.add(finish);
    res.on('close', finish);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(': connected\n\n');
    if (after?.success) {
      for (let batch = await ctx.registry.stores.metadata.readEvents(lastSeq, 500); batch.length;) {
        for (const e of batch) write(e);
        if (batch.length < 500 || ended) break;
        batch = await ctx.registry.stores.metadata.readEvents(lastSeq, 500);
      }
    }
    live = true;
    for (const e of pending.splice(0)) write(e);
  });
  return router;
}
