import type { CursorMethods, StoredWebhook, WebhookDelivery, WebhookMethods } from '@modelreg/core';
import type { Db } from './db.js';
import { errors } from './db.js';

interface CursorRow {
  name: string;
  seq: string;
  lease_owner: string | null;
  lease_until: string | null;
  now: string;
}
interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  secret: string;
  status: StoredWebhook['status'];
  description: string;
  disabled_reason: string | null;
  failure_count: number;
  next_attempt_at: string | null;
  start_seq: string;
  created_at: string;
  updated_at: string;
  created_by: string;
}
interface DeliveryRow {
  webhook_id: string;
  id: string;
  seq: string | null;
  event_type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
  created_at: string;
  updated_at: string;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

const toWebhook = (r: WebhookRow): StoredWebhook => ({
  id: r.id,
  url: r.url,
  events: r.events,
  status: r.status,
  description: r.description,
  disabledReason: r.disabled_reason,
  failureCount: r.failure_count,
  nextAttemptAt: num(r.next_attempt_at),
  startSeq: Number(r.start_seq),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  createdBy: r.created_by,
  secret: r.secret,
});
const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  seq: num(r.seq),
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  responseStatus: r.response_status,
  lastError: r.last_error,
  latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const columns = {
  url: 'url',
  events: 'events',
  status: 'status',
  description: 'description',
  disabledReason: 'disabled_reason',
  failureCount: 'failure_count',
  nextAttemptAt: 'next_attempt_at',
} as const;

/** The database's clock in ms: every process sharing the schema compares leases against one clock. */
const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Event cursors and webhooks with their delivery log (migration 7). */
export function webhookMethods(db: Db): CursorMethods & WebhookMethods {
  const { s } = db;
  return {
    async getCursor(name) {
      const [row] = await db.read<CursorRow>(`SELECT * FROM ${s}.event_cursors WHERE name = $1`, [name]);
      if (!row) return null;
      return {
        name: row.name,
        seq: Number(row.seq),
        leaseOwner: row.lease_owner,
        leaseUntil: row.lease_until === null ? null : new Date(Number(row.lease_until)),
      };
    },
    claimCursor: (name, owner, leaseMs) =>
      db.transaction(async (tx) => {
        const rows = await tx.query(
          `INSERT INTO ${s}.event_cursors AS c (name, seq, lease_owner, lease_until) VALUES ($1, 0, $2, ${NOW} + $3)
           ON CONFLICT (name) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until
           WHERE c.lease_owner IS NULL OR c.lease_owner = EXCLUDED.lease_owner
             OR c.lease_until IS NULL OR c.lease_until <= ${NOW}
           RETURNING name`,
          [name, owner, leaseMs],
        );
        return rows.length === 1;
      }),
    advanceCursor: (name, owner, seq) =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<CursorRow>(
          `SELECT *, ${NOW} AS now FROM ${s}.event_cursors WHERE name = $1 FOR UPDATE`,
          [name],
        );
        if (!row) throw errors.cursorNotFound(name);
        const live = row.lease_until !== null && Number(row.lease_until) > Number(row.now);
        if (row.lease_owner !== owner || !live) {
          throw errors.cursorNotHeld(name, owner, live ? row.lease_owner : null);
        }
        await tx.query(`UPDATE ${s}.event_cursors SET seq = GREATEST(seq, $2) WHERE name = $1`, [name, seq]);
      }),
    releaseCursor: (name, owner) =>
      db.transaction(async (tx) => {
        await tx.query(
          `UPDATE ${s}.event_cursors SET lease_owner = NULL, lease_until = NULL WHERE name = $1 AND lease_owner = $2`,
          [name, owner],
        );
      }),

    createWebhook: (w) =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<WebhookRow>(
          `INSERT INTO ${s}.webhooks (id, url, events, secret, status, description, disabled_reason, failure_count,
             next_attempt_at, start_seq, created_at, updated_at, created_by)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT DO NOTHING RETURNING *`,
          [
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
          ],
        );
        if (!row) throw errors.webhookExists(w.id);
        return toWebhook(row);
      }),
    async getWebhook(id) {
      const [row] = await db.read<WebhookRow>(`SELECT * FROM ${s}.webhooks WHERE id = $1`, [id]);
      return row ? toWebhook(row) : null;
    },
    async listWebhooks() {
      const rows = await db.read<WebhookRow>(
        `SELECT * FROM ${s}.webhooks ORDER BY created_at, id COLLATE "C"`,
      );
      return rows.map(toWebhook);
    },
    updateWebhook: (id, change) =>
      db.transaction(async (tx) => {
        const sets: string[] = ['updated_at = $2'];
        const values: unknown[] = [id, change.time];
        for (const [field, column] of Object.entries(columns)) {
          const value = change[field as keyof typeof columns];
          if (value === undefined) continue;
          values.push(Array.isArray(value) ? JSON.stringify(value) : value);
          sets.push(`${column} = $${values.length}${column === 'events' ? '::jsonb' : ''}`);
        }
        const [row] = await tx.query<WebhookRow>(
          `UPDATE ${s}.webhooks SET ${sets.join(', ')} WHERE id = $1 RETURNING *`,
          values,
        );
        if (!row) throw errors.webhookNotFound(id);
        return toWebhook(row);
      }),
    deleteWebhook: (id) =>
      db.transaction(async (tx) => {
        const rows = await tx.query(`DELETE FROM ${s}.webhooks WHERE id = $1 RETURNING id`, [id]);
        if (rows.length === 0) throw errors.webhookNotFound(id);
      }),
    saveWebhookDelivery: (d) =>
      db.transaction(async (tx) => {
        const [hook] = await tx.query(`SELECT 1 FROM ${s}.webhooks WHERE id = $1 FOR SHARE`, [d.webhookId]);
        if (!hook) throw errors.webhookNotFound(d.webhookId);
        await tx.query(
          `INSERT INTO ${s}.webhook_deliveries (webhook_id, id, seq, event_type, status, attempts, response_status,
             last_error, latency_ms, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (webhook_id, id) DO UPDATE SET seq = EXCLUDED.seq, event_type = EXCLUDED.event_type,
             status = EXCLUDED.status, attempts = EXCLUDED.attempts, response_status = EXCLUDED.response_status,
             last_error = EXCLUDED.last_error, latency_ms = EXCLUDED.latency_ms, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at`,
          [
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
          ],
        );
      }),
    async getWebhookDelivery(webhookId, id) {
      const [row] = await db.read<DeliveryRow>(
        `SELECT * FROM ${s}.webhook_deliveries WHERE webhook_id = $1 AND id = $2`,
        [webhookId, id],
      );
      return row ? toDelivery(row) : null;
    },
    async listWebhookDeliveries(webhookId, limit) {
      const rows = await db.read<DeliveryRow>(
        `SELECT * FROM ${s}.webhook_deliveries WHERE webhook_id = $1
         ORDER BY created_at DESC, seq DESC NULLS LAST LIMIT $2`,
        [webhookId, limit],
      );
      return rows.map(toDelivery);
    },
  };
}
