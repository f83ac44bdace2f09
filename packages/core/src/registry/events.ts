import type { EventType, RegistryEvent } from '../domain/types.js';
import type { MetadataStore } from '../stores/metadata-store.js';

import type { EventHandler } from '../serving/ports.js';

export type { EventHandler };

/**
 * Delivers the store's event log to in-process listeners, in order and exactly once per feed:
 * changes made by this process (told through `poke`) and by others (store wake-ups through
 * `subscribe`, or polling when the store cannot push). Starts with the first listener, from the
 * log's end at that moment; stops with the last.
 */
export class EventFeed {
  private readonly handlers = new Map<EventType | '*', Set<EventHandler>>();
  private lastSeq = 0;
  private started: Promise<void> | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly store: MetadataStore,
    private readonly pollIntervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  on(type: EventType | '*', handler: EventHandler): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    void this.start();
    return () => {
      set.delete(handler);
      if ([...this.handlers.values()].every((s) => s.size === 0)) void this.stop();
    };
  }

  /** Resolves once the feed is listening (the first `on` starts it). */
  ready(): Promise<void> {
    return this.started ?? Promise.resolve();
  }

  /** Something changed: read the log soon. */
  poke(): void {
    if (this.started) void this.pump();
  }

  private start(): Promise<void> {
    if (this.started || this.closed) return this.started ?? Promise.resolve();
    this.started = (async () => {
      this.lastSeq = await this.store.lastEventSeq();
      if (this.store.subscribe) {
        this.unsubscribe = await this.store.subscribe(() => void this.pump());
      } else {
        this.timer = setInterval(() => void this.pump(), this.pollIntervalMs);
        this.timer.unref();
      }
    })().catch((e: unknown) => {
      this.started = undefined;
      this.onError(e);
    });
    return this.started;
  }

  private async stop(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    await started;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    if (unsubscribe) await unsubscribe();
  }

  private pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        await this.started;
        do {
          this.again = false;
          for (;;) {
            const events = await this.store.readEvents(this.lastSeq, 500);
            for (const event of events) {
              this.lastSeq = event.seq;
              this.dispatch(event);
            }
            if (events.length < 500) break;
          }
        } while (this.again && !this.closed);
      } catch (e) {
        this.onError(e);
      } finally {
        this.pumping = undefined;
      }
    })();
    return this.pumping;
  }

  private dispatch(event: RegistryEvent): void {
    for (const key of [event.type, '*'] as const) {
      for (const handler of this.handlers.get(key) ?? []) {
        try {
          handler(event);
        } catch (e) {
          this.onError(e);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pumping;
    await this.stop();
  }
}
