import type { CursorMethods, StoredWebhook, WebhookDelivery, WebhookMethods } from '@modelreg/core';
import { LIMIT, type StoreContext } from './context.js';
import { errors } from './transactions.js';

interface CursorRow {
  name: string;
  seq: number;
  lease_owner: string | null;
  lease_until: number | null;
}
interface WebhookRow {
  id: string;
  url: string;
  events: string;
  secret: string;
  status: StoredWebhook['status'];
  description: string;
  disabled_reason: string | null;
  failure_count: number;
  next_attempt_at: number | null;
  start_seq: number;
  created_at: number;
  updated_at: number;
  created_by: string;
}
interface DeliveryRow {
  webhook_id: string;
  id: string;
  seq: number | null;
  event_type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
  created_at: number;
  updated_at: number;
}

const toWebhook = (r: WebhookRow): StoredWebhook => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  status: r.status,
  description: r.description,
  disabledReason: r.disabled_reason,
  failureCount: r.failure_count,
  nextAttemptAt: r.next_attempt_at,
  startSeq: r.start_seq,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  createdBy: r.created_by,
  secret: r.secret,
});
const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  seq: r.seq,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  responseStatus: r.response_status,
  lastError: r.last_error,
  latencyMs: r.latency_ms,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Webhook columns that `updateWebhook` may set, by `WebhookChange` field. */
const columns = {
  url: 'url',
  events: 'events',
  status: 'status',
  description: 'description',
  disabledReason: 'disabled_reason',
  failureCount: 'failure_count',
  nextAttemptAt: 'next_attempt_at',
} as const;

const CURSOR = 'SELECT * FROM event_cursors WHERE name = ?';
const WEBHOOK = 'SELECT * FROM webhooks WHERE id = ?';

/** Event cursors and webhooks with their delivery log (migration 7). */
export function createWebhookMethods(ctx: StoreContext): CursorMethods & WebhookMethods {
  return {
    getCursor: (name) =>
      ctx.read('getCursor', () => {
        const row = ctx.get<CursorRow>(CURSOR, name);
        return row
          ? {
              name: row.name,
              seq: row.seq,
              leaseOwner: row.lease_owner,
              leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
            }
          : null;
      }),
    claimCursor: (name, owner, leaseMs) =>
      ctx.write('claimCursor', () => {
        const now = Date.now();
        const result = ctx.run(
          `INSERT INTO event_cursors (name, seq, lease_owner, lease_until) VALUES (?, 0, ?, ?)
           ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
           WHERE event_cursors.lease_owner IS NULL OR event_cursors.lease_owner = excluded.lease_owner
             OR event_cursors.lease_until IS NULL OR event_cursors.lease_until <= ?`,
          name,
          owner,
          now + leaseMs,
          now,
        );
        return result.changes === 1;
      }),
    advanceCursor: (name, owner, seq) =>
      ctx.write('advanceCursor', () => {
        const row = ctx.get<CursorRow>(CURSOR, name);
        if (!row) throw errors.cursorNotFound(name);
        const now = Date.now();
        const live = row.lease_until !== null && row.lease_until > now;
        if (row.lease_owner !== owner || !live)
          throw errors.cursorNotHeld(name, owner, live ? row.lease_owner : null);
        if (seq > row.seq) ctx.run('UPDATE event_cursors SET seq = ? WHERE name = ?', seq, name);
      }),
    releaseCursor: (name, owner) =>
      ctx.write('releaseCursor', () => {
        ctx.run(
          'UPDATE event_cursors SET lease_owner = NULL, lease_until = NULL WHERE name = ? AND lease_owner = ?',
          name,
          owner,
        );
      }),

    createWebhook: (w) =>
      ctx.write('createWebhook', () => {
        if (ctx.get(WEBHOOK, w.id)) throw errors.webhookExists(w.id);
        ctx.run(
          `INSERT INTO webhooks (id, url, events, secret, status, description, disabled_reason, failure_count,
             next_attempt_at, start_seq, created_at, updated_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          w.id,
          w.url,
          JSON.stringify(w.events),
          w.secret,
          w.status,
          w.description,
          w.disabledReason,
          w.failureCount,
          w.nextAttemptAt,
          w.startSeq,
          w.createdAt,
          w.updatedAt,
          w.createdBy,
        );
        return toWebhook(ctx.get<WebhookRow>(WEBHOOK, w.id)!);
      }),
    getWebhook: (id) =>
      ctx.read('getWebhook', () => {
        const row = ctx.get<WebhookRow>(WEBHOOK, id);
        return row ? toWebhook(row) : null;
      }),
    listWebhooks: (): Promise<StoredWebhook[]> =>
      ctx.read('listWebhooks', () =>
        ctx.all<WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id').map(toWebhook),
      ),
    updateWebhook: (id, change) =>
      ctx.write('updateWebhook', () => {
        if (!ctx.get(WEBHOOK, id)) throw errors.webhookNotFound(id);
        const sets: string[] = ['updated_at = ?'];
        const values: (string | number | null)[] = [change.time];
        for (const [field, column] of Object.entries(columns)) {
          const value = change[field as keyof typeof columns];
          if (value === undefined) continue;
          sets.push(`${column} = ?`);
          values.push(Array.isArray(value) ? JSON.stringify(value) : value);
        }
        ctx.run(`UPDATE webhooks SET ${sets.join(', ')} WHERE id = ?`, ...values, id);
        return toWebhook(ctx.get<WebhookRow>(WEBHOOK, id)!);
      }),
    deleteWebhook: (id) =>
      ctx.write('deleteWebhook', () => {
        ctx.run('DELETE FROM webhook_deliveries WHERE webhook_id = ?', id);
        if (ctx.run('DELETE FROM webhooks WHERE id = ?', id).changes === 0) throw errors.webhookNotFound(id);
      }),
    saveWebhookDelivery: (d) =>
      ctx.write('saveWebhookDelivery', () => {
        if (!ctx.get(WEBHOOK, d.webhookId)) throw errors.webhookNotFound(d.webhookId);
        ctx.run(
          `INSERT OR REPLACE INTO webhook_deliveries (webhook_id, id, seq, event_type, status, attempts,
             response_status, last_error, latency_ms, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          d.webhookId,
          d.id,
          d.seq,
          d.eventType,
          d.status,
          d.attempts,
          d.responseStatus,
          d.lastError,
          d.latencyMs,
          d.createdAt,
          d.updatedAt,
        );
      }),
    getWebhookDelivery: (webhookId, id) =>
      ctx.read('getWebhookDelivery', () => {
        const row = ctx.get<DeliveryRow>(
          'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id = ?',
          webhookId,
          id,
        );
        return row ? toDelivery(row) : null;
      }),
    listWebhookDeliveries: (webhookId, limit) =>
      ctx.read('listWebhookDeliveries', () =>
        ctx
          .all<DeliveryRow>(
            `SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, seq DESC ${LIMIT}`,
            webhookId,
            limit,
          )
          .map(toDelivery),
      ),
  };
}
