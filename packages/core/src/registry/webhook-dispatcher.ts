import type { RegistryEvent } from '../domain/types.js';
import type { StoredWebhook } from '../domain/webhooks.js';
import { matchesEventPatterns } from '../domain/webhooks.js';
import { isRegistryError } from '../errors.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import type { AttemptResult, WebhookTransport } from './webhook-target.js';
import { attemptDelivery } from './webhook-target.js';

/** How deliveries are made; `registry.open({ webhooks })` sets them (see `webhookSettingsSchema`). */
export interface WebhookSettings {
  allowPrivate: boolean;
  timeoutMs: number;
  leaseMs: number;
  pollIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
  maxFailures: number;
  batchSize: number;
  transport: WebhookTransport;
}

/** The cursor of a webhook in the metadata store. */
export const webhookCursorName = (id: string): string => `webhook:${id}`;

/** The message of an event: the same `webhook-id` on every attempt, so receivers can drop repeats. */
export const eventMessage = (event: RegistryEvent): { id: string; body: string } => ({
  id: `msg_${event.seq}`,
  body: JSON.stringify({
    type: event.type,
    timestamp: new Date(event.time).toISOString(),
    seq: event.seq,
    data: event.payload,
  }),
});

/** The delay before attempt `failures + 1`: `initialMs * 2^(failures-1)`, at most `maxMs`. */
export const backoffMs = (settings: WebhookSettings, failures: number): number =>
  Math.min(settings.backoff.maxMs, settings.backoff.initialMs * 2 ** Math.max(0, failures - 1));

/**
 * Delivers the event log to every active webhook, in order, at least once: each webhook has a cursor
 * in the metadata store, leased by one process at a time, advanced only after the receiver answered
 * 2xx. A failed attempt stops that webhook's delivery until its `nextAttemptAt` (exponential
 * backoff; every process respects it, since it is stored on the webhook) and counts toward the run
 * of failures that disables it.
 */
export class WebhookDispatcher {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly busy = new Map<string, Promise<void>>();
  private readonly held = new Set<string>();
  private ticking: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly settings: WebhookSettings,
    private readonly owner: string,
    private readonly now: () => number,
    private readonly listen: (wake: () => void) => () => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.listen(() => this.kick());
    this.timer = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops taking work, waits for attempts in flight (each bounded by the timeout) and gives the leases up. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.ticking;
    await Promise.allSettled([...this.busy.values()]);
    await Promise.allSettled([...this.held].map((name) => this.metadata.releaseCursor(name, this.owner)));
    this.held.clear();
  }

  /** Something may be due: look soon. */
  kick(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = (async () => {
      try {
        do {
          this.again = false;
          await this.tick();
        } while (this.again && this.running);
      } catch (e) {
        this.onError(e);
      } finally {
        this.ticking = undefined;
      }
    })();
  }

  private async tick(): Promise<void> {
    const now = this.now();
    const last = await this.metadata.lastEventSeq();
    for (const hook of await this.metadata.listWebhooks()) {
      if (!this.running) return;
      if (hook.status !== 'active' || this.busy.has(hook.id)) continue;
      if (hook.nextAttemptAt !== null && hook.nextAttemptAt > now) continue;
      const work = this.serve(hook.id, last, hook.startSeq)
        .catch((e: unknown) => {
          if (!isRegistryError(e, 'NOT_FOUND')) this.onError(e); // deleted meanwhile: nothing to do
        })
        .finally(() => this.busy.delete(hook.id));
      this.busy.set(hook.id, work);
    }
  }

  /** Delivers what is due for one webhook while this process holds its cursor. */
  private async serve(id: string, last: number, startSeq: number): Promise<void> {
    const name = webhookCursorName(id);
    const { leaseMs, batchSize } = this.settings;
    // Caught up: a read, so idle polling writes nothing.
    const cursor = await this.metadata.getCursor(name);
    if (last <= Math.max(cursor?.seq ?? 0, startSeq)) return;
    if (!(await this.metadata.claimCursor(name, this.owner, leaseMs))) {
      this.held.delete(name);
      return;
    }
    this.held.add(name);
    let hook = await this.metadata.getWebhook(id);
    if (!hook) return;
    const start = Math.max((await this.metadata.getCursor(name))?.seq ?? 0, hook.startSeq);
    let stored = start;
    let seq = start;
    while (this.running) {
      const events = await this.metadata.readEvents(seq, batchSize);
      for (const event of events) {
        if (!this.running) break;
        if (!matchesEventPatterns(hook.events, event.type)) {
          seq = event.seq;
          continue;
        }
        // Renew the lease and re-read the webhook (an admin may have changed or disabled it).
        if (!(await this.metadata.claimCursor(name, this.owner, leaseMs))) return;
        hook = await this.metadata.getWebhook(id);
        if (!hook || hook.status !== 'active') return;
        if (!matchesEventPatterns(hook.events, event.type)) {
          seq = event.seq;
          continue;
        }
        if (seq > stored) await this.metadata.advanceCursor(name, this.owner, (stored = seq));
        const delivered = await this.deliver(hook, event);
        if (!delivered) return;
        await this.metadata.advanceCursor(name, this.owner, (stored = seq = event.seq));
      }
      if (events.length < batchSize) break;
    }
    if (seq > stored && this.running) await this.metadata.advanceCursor(name, this.owner, seq);
  }

  /** One attempt for one event: logs it and updates the webhook's run of failures. */
  private async deliver(hook: StoredWebhook, event: RegistryEvent): Promise<boolean> {
    const message = eventMessage(event);
    const prior = await this.metadata.getWebhookDelivery(hook.id, message.id);
    const result: AttemptResult = await attemptDelivery(this.settings.transport, hook, message, {
      timeoutMs: this.settings.timeoutMs,
      allowPrivate: this.settings.allowPrivate,
      now: this.now,
    });
    const time = this.now();
    const failures = result.ok ? 0 : hook.failureCount + 1;
    const disable = !result.ok && failures >= this.settings.maxFailures;
    await this.metadata.saveWebhookDelivery({
      id: message.id,
      webhookId: hook.id,
      seq: event.seq,
      eventType: event.type,
      status: result.ok ? 'succeeded' : disable ? 'failed' : 'pending',
      attempts: (prior?.attempts ?? 0) + 1,
      responseStatus: result.status,
      lastError: result.error,
      latencyMs: result.latencyMs,
      createdAt: prior?.createdAt ?? time,
      updatedAt: time,
    });
    if (result.ok) {
      if (hook.failureCount > 0 || hook.nextAttemptAt !== null) {
        await this.metadata.updateWebhook(hook.id, { failureCount: 0, nextAttemptAt: null, time });
      }
      return true;
    }
    await this.metadata.updateWebhook(
      hook.id,
      disable
        ? {
            failureCount: failures,
            nextAttemptAt: null,
            status: 'disabled',
            disabledReason: `disabled after ${failures} failed attempts in a row (last: ${result.error ?? 'unknown'})`,
            time,
          }
        : { failureCount: failures, nextAttemptAt: time + backoffMs(this.settings, failures), time },
    );
    if (!disable) {
      // Wake up for the retry (the poll would find it too, later).
      setTimeout(() => this.kick(), backoffMs(this.settings, failures) + 1).unref();
    }
    return false;
  }
}
