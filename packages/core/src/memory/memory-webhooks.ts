import type { EventCursorState, StoredWebhook, WebhookDelivery } from '../domain/webhooks.js';
import type { CursorMethods, WebhookMethods } from '../stores/metadata-store.js';
import { compareText } from '../stores/rules.js';
import { errors } from './memory-state.js';

interface CursorRecord {
  seq: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

/** Event cursors and webhooks with their delivery log, over the memory store's state. */
export function memoryWebhookMethods(): CursorMethods & WebhookMethods {
  const cursors = new Map<string, CursorRecord>();
  const webhooks = new Map<string, StoredWebhook>();
  const deliveries = new Map<string, Map<string, WebhookDelivery>>();

  const holds = (c: CursorRecord, owner: string, now: number): boolean =>
    c.leaseOwner === owner && c.leaseUntil !== null && c.leaseUntil > now;
  const hookOf = (id: string): StoredWebhook => {
    const found = webhooks.get(id);
    if (!found) throw errors.webhookNotFound(id);
    return found;
  };

  return {
    async getCursor(name) {
      const c = cursors.get(name);
      if (!c) return null;
      const state: EventCursorState = {
        name,
        seq: c.seq,
        leaseOwner: c.leaseOwner,
        leaseUntil: c.leaseUntil === null ? null : new Date(c.leaseUntil),
      };
      return state;
    },
    async claimCursor(name, owner, leaseMs) {
      const now = Date.now();
      const c = cursors.get(name) ?? { seq: 0, leaseOwner: null, leaseUntil: null };
      const free = c.leaseOwner === null || c.leaseUntil === null || c.leaseUntil <= now;
      if (!free && c.leaseOwner !== owner) return false;
      cursors.set(name, { seq: c.seq, leaseOwner: owner, leaseUntil: now + leaseMs });
      return true;
    },
    async advanceCursor(name, owner, seq) {
      const c = cursors.get(name);
      if (!c) throw errors.cursorNotFound(name);
      const now = Date.now();
      if (!holds(c, owner, now)) {
        throw errors.cursorNotHeld(
          name,
          owner,
          c.leaseUntil !== null && c.leaseUntil > now ? c.leaseOwner : null,
        );
      }
      c.seq = Math.max(c.seq, seq);
    },
    async releaseCursor(name, owner) {
      const c = cursors.get(name);
      if (c?.leaseOwner === owner) {
        c.leaseOwner = null;
        c.leaseUntil = null;
      }
    },

    async createWebhook(webhook) {
      if (webhooks.has(webhook.id)) throw errors.webhookExists(webhook.id);
      webhooks.set(webhook.id, structuredClone(webhook));
      deliveries.set(webhook.id, new Map());
      return structuredClone(webhook);
    },
    async getWebhook(id) {
      const found = webhooks.get(id);
      return found ? structuredClone(found) : null;
    },
    async listWebhooks() {
      return [...webhooks.values()]
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
        .map((w) => structuredClone(w));
    },
    async updateWebhook(id, change) {
      const hook = hookOf(id);
      const { time, ...fields } = change;
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) (hook as unknown as Record<string, unknown>)[key] = structuredClone(value);
      }
      hook.updatedAt = time;
      return structuredClone(hook);
    },
    async deleteWebhook(id) {
      hookOf(id);
      webhooks.delete(id);
      deliveries.delete(id);
    },
    async saveWebhookDelivery(delivery) {
      hookOf(delivery.webhookId);
      deliveries.get(delivery.webhookId)!.set(delivery.id, structuredClone(delivery));
    },
    async getWebhookDelivery(webhookId, id) {
      const found = deliveries.get(webhookId)?.get(id);
      return found ? structuredClone(found) : null;
    },
    async listWebhookDeliveries(webhookId, limit) {
      return [...(deliveries.get(webhookId)?.values() ?? [])]
        .sort((a, b) => b.createdAt - a.createdAt || (b.seq ?? 0) - (a.seq ?? 0))
        .slice(0, limit)
        .map((d) => structuredClone(d));
    },
  };
}
