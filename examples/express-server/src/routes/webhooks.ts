import { Router } from 'express';
import type { RegistryEvent } from '@modelreg/core';
import { matchesEventPatterns } from '@modelreg/core';
import { principalOf, registryOf } from '../auth.js';
import type { AppContext } from '../context.js';
import { loggerOf } from '../context.js';
import { HttpError, parseRequest, requireContentType } from '../errors.js';
import {
  createWebhookRequestSchema,
  deliveriesQuery,
  eventsQuery,
  updateWebhookRequestSchema,
  webhookParams,
} from '../schemas.js';
import { openEventStream } from '../sse.js';

/**
 * Webhooks (admin): `POST /webhooks` (201, the secret in this answer only), `GET /webhooks`,
 * `PATCH /webhooks/:id`, `DELETE /webhooks/:id`, `GET /webhooks/:id/deliveries` and
 * `POST /webhooks/:id/test`. Core checks the role: every call goes through the request's registry.
 */
export function webhookRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/webhooks', requireContentType('application/json'), async (req, res) => {
    const body = parseRequest(createWebhookRequestSchema, req.body, 'body');
    const created = await registryOf(res).webhooks.create(body);
    loggerOf(res, ctx.logger).info({ webhookId: created.id, url: created.url }, 'webhook created');
    res.status(201).location(`/webhooks/${created.id}`).json(created);
  });

  router.get('/webhooks', async (_req, res) => {
    res.json({ webhooks: await registryOf(res).webhooks.list() });
  });

  router.patch('/webhooks/:id', requireContentType('application/json'), async (req, res) => {
    const { id } = parseRequest(webhookParams, req.params, 'path');
    const body = parseRequest(updateWebhookRequestSchema, req.body, 'body');
    res.json(await registryOf(res).webhooks.update(id, body));
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const { id } = parseRequest(webhookParams, req.params, 'path');
    await registryOf(res).webhooks.delete(id);
    res.status(204).end();
  });

  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const { id } = parseRequest(webhookParams, req.params, 'path');
    const { limit } = parseRequest(deliveriesQuery, req.query, 'query');
    res.json({
      deliveries: await registryOf(res).webhooks.deliveries(id, limit === undefined ? {} : { limit }),
    });
  });

  router.post('/webhooks/:id/test', async (req, res) => {
    const { id } = parseRequest(webhookParams, req.params, 'path');
    res.json(await registryOf(res).webhooks.test(id));
  });

  return router;
}

const PAGE = 500;

/**
 * `GET /events?types=version.*,alias.*`: the registry's event log as server-sent events (reader role),
 * `id: <seq>`, `event: <type>`, `data: <the event as JSON>`. It starts after the `Last-Event-ID`
 * header (what `EventSource` sends when it reconnects), else after `?after=`, else at the log's end.
 * Events come from the store in `seq` order, so a reconnecting client misses none and gets none twice.
 * Token events are shown to admins only.
 */
export function eventStreamRoutes(ctx: AppContext, streams: Set<() => void>): Router {
  const router = Router();

  router.get('/events', async (req, res) => {
    const query = parseRequest(eventsQuery, req.query, 'query');
    const header = req.get('last-event-id');
    if (header !== undefined && !/^\d{1,15}$/.test(header.trim())) {
      throw new HttpError(
        400,
        'INVALID_ARGUMENT',
        `Last-Event-ID ${JSON.stringify(header.slice(0, 40))} is not an event seq`,
        {
          field: 'Last-Event-ID',
        },
      );
    }
    const registry = registryOf(res);
    const { metadata } = registry.stores;
    const patterns = query.types ?? ['*'];
    const principal = principalOf(res);
    const admin = principal === null || principal.role === 'admin';
    const visible = (e: RegistryEvent): boolean =>
      matchesEventPatterns(patterns, e.type) && (admin || !e.type.startsWith('token.'));
    let seq = header !== undefined ? Number(header.trim()) : (query.after ?? (await metadata.lastEventSeq()));

    const stream = openEventStream(res, ctx.sseHeartbeatMs, streams);
    let pumping: Promise<void> | undefined;
    let again = false;
    const pump = (): void => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = (async () => {
        try {
          do {
            again = false;
            for (;;) {
              const events = await metadata.readEvents(seq, PAGE);
              for (const event of events) {
                if (stream.ended) return;
                seq = event.seq;
                if (visible(event)) stream.send(event.type, event, event.seq);
              }
              if (events.length < PAGE) break;
            }
          } while (again && !stream.ended);
        } catch (e) {
          loggerOf(res, ctx.logger).warn({ err: e }, 'event stream failed');
          stream.end();
        } finally {
          pumping = undefined;
        }
      })();
    };
    stream.onEnd(registry.on('*', pump));
    await registry.eventsReady();
    pump();
  });

  return router;
}
