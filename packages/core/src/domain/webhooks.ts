import { z } from 'zod';
import { eventTypes } from './types.js';

/** A webhook is `active` (events are delivered) or `disabled` (by an admin, or after a run of failures). */
export const webhookStatusSchema = z.enum(['active', 'disabled']);
export type WebhookStatus = z.infer<typeof webhookStatusSchema>;

const families = [...new Set(eventTypes.map((t) => t.slice(0, t.indexOf('.'))))];

/**
 * An event pattern: `*` (every event), `<family>.*` (`version.*`, `alias.*`, `job.*`, …) or one event
 * type (`version.stage_changed`).
 */
export const eventPatternSchema = z
  .string()
  .max(64)
  .refine(
    (p) =>
      p === '*' ||
      (eventTypes as readonly string[]).includes(p) ||
      (p.endsWith('.*') && families.includes(p.slice(0, -2))),
    {
      message: `must be "*", "<family>.*" (families: ${families.join(', ')}) or an event type (${eventTypes.join(', ')})`,
    },
  );

/** Whether an event type matches any of the patterns (see {@link eventPatternSchema}). */
export function matchesEventPatterns(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))),
  );
}

/** A registered webhook, as reads return it: never its secret. */
export interface Webhook {
  id: string;
  url: string;
  /** Event patterns (see {@link eventPatternSchema}); an event is delivered when one matches. */
  events: string[];
  status: WebhookStatus;
  description: string;
  /** Why the webhook is disabled (`null` while active, or when an admin disabled it without one). */
  disabledReason: string | null;
  /** Failed delivery attempts in a row (0 after a success); the webhook is disabled when it reaches the limit. */
  failureCount: number;
  /** When the head-of-line event may be tried again (ms since epoch), or `null`: now. */
  nextAttemptAt: number | null;
  /** Events with `seq` up to this one were written before the webhook existed and are never delivered. */
  startSeq: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

/** A webhook as a store keeps it: with its signing secret (`whsec_<base64>`). */
export type StoredWebhook = Webhook & { secret: string };

/** What `updateWebhook` may change; omitted fields stay. */
export interface WebhookChange {
  url?: string;
  events?: string[];
  status?: WebhookStatus;
  description?: string;
  disabledReason?: string | null;
  failureCount?: number;
  nextAttemptAt?: number | null;
  time: number;
}

export const deliveryStatusSchema = z.enum(['pending', 'succeeded', 'failed']);
/**
 * `succeeded`: the receiver answered 2xx. `pending`: the last attempt failed and another will follow.
 * `failed`: the last attempt failed and none will follow (a test delivery, or the webhook was disabled).
 */
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/** One entry of a webhook's delivery log: one message (an event, or a test) and its attempts so far. */
export interface WebhookDelivery {
  /** The message id sent as `webhook-id`: `msg_<seq>` for an event (the same on every attempt), `msg_test_<uuid>` for a test. */
  id: string;
  webhookId: string;
  /** The event's sequence number; `null` for a test delivery. */
  seq: number | null;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  /** The last attempt's HTTP status, or `null` when it got no answer. */
  responseStatus: number | null;
  /** Why the last attempt failed, or `null` after a success. */
  lastError: string | null;
  /** How long the last attempt took, in ms. */
  latencyMs: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A named position in the event log with an optional lease (see `MetadataStore.claimCursor`). */
export interface EventCursorState {
  name: string;
  /** The last event handled: the next one to handle is the first with a higher `seq`. */
  seq: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
}

/** Cursor names: 1–200 of `[A-Za-z0-9._:@-]` (`webhook:<id>`, `nats-relay:prod`). */
export const cursorNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -');
