import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import type { Webhook, WebhookDelivery, StoredWebhook } from '../domain/webhooks.js';
import { eventPatternSchema, webhookStatusSchema } from '../domain/webhooks.js';
import { RegistryError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { authorize } from './access.js';
import type { WebhookDispatcher, WebhookSettings } from './webhook-dispatcher.js';
import {
  attemptDelivery,
  checkWebhookTarget,
  newWebhookSecret,
  parseWebhookSecret,
  parseWebhookUrl,
} from './webhook-target.js';

const where = 'webhooks';

const urlSchema = z.string().min(1).max(2048);
const eventsSchema = z.array(eventPatternSchema).min(1, 'must name at least one event pattern').max(64);
const descriptionSchema = z.string().max(1000);

export const createWebhookOptionsSchema = z.strictObject({
  /** Where events are POSTed: `http(s)://…`; private addresses need `MODELREG_WEBHOOK_ALLOW_PRIVATE=true`. */
  url: urlSchema,
  /** Event patterns: `*`, `version.*`, `alias.set`, … */
  events: eventsSchema,
  /** `whsec_<base64 of 24–64 bytes>`; default: a new random one. Returned once, by `create` only. */
  secret: z.string().max(200).optional(),
  description: descriptionSchema.default(''),
  /** Default `active`. */
  status: webhookStatusSchema.default('active'),
});
export type CreateWebhookOptions = z.input<typeof createWebhookOptionsSchema>;

export const updateWebhookOptionsSchema = z.strictObject({
  url: urlSchema.optional(),
  events: eventsSchema.optional(),
  description: descriptionSchema.optional(),
  /** `active` re-enables a disabled webhook: its run of failures starts again from 0, and delivery resumes where it stopped. */
  status: webhookStatusSchema.optional(),
});
export type UpdateWebhookOptions = z.input<typeof updateWebhookOptionsSchema>;

const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^wh_[A-Za-z0-9]+$/, 'must be a webhook id (wh_…)');
const limitSchema = z.number().int().min(1).max(1000);

/** A webhook as `create` answers it: the only time its secret is shown. */
export type CreatedWebhook = Webhook & { secret: string };

const publicOf = (w: StoredWebhook): Webhook => {
  const { secret: _secret, ...rest } = w;
  return rest;
};

/**
 * `registry.webhooks`: signed HTTP callbacks for registry events (Standard Webhooks), managed by
 * admins. Delivery runs in the processes that call `start()`: at-least-once, in event order per
 * webhook, each event once per webhook across processes (a leased cursor in the metadata store),
 * retried with exponential backoff, and the webhook is disabled after a run of failures.
 */
export class Webhooks {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly settings: WebhookSettings,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** Registers a webhook; the answer carries its signing secret, which no later read shows. */
  async create(options: CreateWebhookOptions): Promise<CreatedWebhook> {
    this.admin('create a webhook');
    const o = parseArg(createWebhookOptionsSchema, options, 'webhook', where);
    const url = await this.checkUrl(o.url);
    const secret = o.secret === undefined ? newWebhookSecret() : parseWebhookSecret(o.secret);
    const time = this.ctx.now();
    const created = await this.ctx.metadata.createWebhook({
      id: `wh_${randomUUID().replaceAll('-', '')}`,
      url,
      events: [...new Set(o.events)],
      status: o.status,
      description: o.description,
      disabledReason: null,
      failureCount: 0,
      nextAttemptAt: null,
      // Events already in the log are history: a new webhook hears what happens from now on.
      startSeq: await this.ctx.metadata.lastEventSeq(),
      createdAt: time,
      updatedAt: time,
      createdBy: this.ctx.actor,
      secret,
    });
    this.dispatcher.kick();
    return created;
  }

  /** A webhook (never its secret); `NOT_FOUND` when there is none. */
  async get(id: string): Promise<Webhook> {
    return publicOf(await this.stored(id));
  }

  /** Every webhook, oldest first. */
  async list(): Promise<Webhook[]> {
    this.admin('list webhooks');
    return (await this.ctx.metadata.listWebhooks()).map(publicOf);
  }

  /** Changes the URL, events, description or status. */
  async update(id: string, change: UpdateWebhookOptions): Promise<Webhook> {
    const current = await this.stored(id);
    const c = parseArg(updateWebhookOptionsSchema, change, 'webhook change', where);
    const url = c.url === undefined ? undefined : await this.checkUrl(c.url);
    const enable = c.status === 'active' && current.status !== 'active';
    const updated = await this.ctx.metadata.updateWebhook(id, {
      ...(url !== undefined ? { url } : {}),
      ...(c.events !== undefined ? { events: [...new Set(c.events)] } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
      ...(c.status !== undefined ? { status: c.status } : {}),
      ...(enable ? { failureCount: 0, nextAttemptAt: null, disabledReason: null } : {}),
      ...(c.status === 'disabled' && current.status !== 'disabled'
        ? { disabledReason: `disabled by ${this.ctx.actor}` }
        : {}),
      time: this.ctx.now(),
    });
    this.dispatcher.kick();
    return publicOf(updated);
  }

  /** Deletes a webhook and its delivery log. */
  async delete(id: string): Promise<void> {
    await this.stored(id);
    await this.ctx.metadata.deleteWebhook(id);
  }

  /** The webhook's delivery log, newest first (default 50 entries, at most 1000). */
  async deliveries(id: string, options: { limit?: number } = {}): Promise<WebhookDelivery[]> {
    await this.stored(id);
    const limit = parseArg(limitSchema, options.limit ?? 50, 'limit', where);
    return this.ctx.metadata.listWebhookDeliveries(id, limit);
  }

  /**
   * Sends a signed `webhook.test` message now (whatever the webhook's status) and logs it; it does
   * not count toward the run of failures. Answers the delivery log entry.
   */
  async test(id: string): Promise<WebhookDelivery> {
    const hook = await this.stored(id);
    const time = this.ctx.now();
    const message = {
      id: `msg_test_${randomUUID().replaceAll('-', '')}`,
      body: JSON.stringify({
        type: 'webhook.test',
        timestamp: new Date(time).toISOString(),
        data: { webhookId: id },
      }),
    };
    const result = await attemptDelivery(this.settings.transport, hook, message, {
      timeoutMs: this.settings.timeoutMs,
      allowPrivate: this.settings.allowPrivate,
      now: this.ctx.now,
    });
    const delivery: WebhookDelivery = {
      id: message.id,
      webhookId: id,
      seq: null,
      eventType: 'webhook.test',
      status: result.ok ? 'succeeded' : 'failed',
      attempts: 1,
      responseStatus: result.status,
      lastError: result.error,
      latencyMs: result.latencyMs,
      createdAt: time,
      updatedAt: this.ctx.now(),
    };
    await this.ctx.metadata.saveWebhookDelivery(delivery);
    return delivery;
  }

  /** Starts delivering in this process (idempotent). Processes sharing the stores share the work. */
  async start(): Promise<void> {
    this.admin('start webhook delivery');
    this.dispatcher.start();
  }

  /** Stops delivering in this process: waits for attempts in flight and gives up the leases. */
  async stop(): Promise<void> {
    this.admin('stop webhook delivery');
    await this.dispatcher.stop();
  }

  private admin(action: string): void {
    authorize(this.ctx.principal, 'admin', action);
  }

  private async stored(id: string): Promise<StoredWebhook> {
    this.admin('manage webhooks');
    parseArg(idSchema, id, 'webhook id', where);
    const hook = await this.ctx.metadata.getWebhook(id);
    if (!hook) throw new RegistryError('NOT_FOUND', `webhook "${id}" does not exist`, { where });
    return hook;
  }

  private async checkUrl(value: string): Promise<string> {
    const url = parseWebhookUrl(value);
    await checkWebhookTarget(url, this.settings.allowPrivate);
    return url.href;
  }
}
