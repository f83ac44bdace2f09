import type { RegistryEvent } from '../domain/types.js';
import type { LoadedModel } from '../serving/load.js';
import { relevantEvents } from '../serving/live-model.js';
import type { EventFeed } from './events.js';

/** Event types after which a `models:/` URI may resolve to another version (as `watch` re-checks). */
const moves = relevantEvents;

/** A cached resolution is re-checked after this long even without an event (a missed event, a dropped feed). */
const RECHECK_MS = 30_000;

interface Entry {
  model: LoadedModel;
  /** `epoch` when the resolution started; any move since makes it stale. */
  epoch: number;
  at: number;
}

/**
 * The models `registry.predict(uri)` serves, by URI: a URI is resolved and loaded once, then served
 * from here until something may have moved it. Every change this process makes (`changed`) and every
 * event that can move a URI (from any process, through the event feed, as `watch` follows them) bumps
 * one epoch; an entry made in an older epoch is resolved again, so a promotion is seen by the next
 * call. A resolution that overlapped a move is served but not kept. Shared by a registry and its
 * views: resolution does not depend on the principal (views check their permission on every call).
 */
export class ResolvedModels {
  private readonly entries = new Map<string, Entry>();
  private epoch = 0;
  private unsubscribe: (() => void) | undefined;
  /** True once the feed is listening: before that, a move could be missed, so nothing is kept. */
  private listening = false;
  private closed = false;

  constructor(
    private readonly feed: Pick<EventFeed, 'on' | 'ready'>,
    private readonly capacity: number,
  ) {}

  /** This process changed something (the registry's `changed` hook). */
  changed(): void {
    this.epoch++;
  }

  private onEvent = (event: RegistryEvent): void => {
    if (moves.has(event.type)) this.epoch++;
  };

  private listen(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.feed.on('*', this.onEvent);
    void this.feed.ready().then(() => {
      if (this.unsubscribe) this.listening = true;
    });
  }

  /** The cached model of `uri`, or `load()`'s, kept when nothing moved while it ran. */
  get(uri: string, load: () => Promise<LoadedModel>): Promise<LoadedModel> {
    const entry = this.entries.get(uri);
    if (entry !== undefined && entry.epoch === this.epoch && Date.now() - entry.at < RECHECK_MS) {
      return Promise.resolve(entry.model);
    }
    return this.fill(uri, load);
  }

  private async fill(uri: string, load: () => Promise<LoadedModel>): Promise<LoadedModel> {
    this.listen();
    const epoch = this.epoch;
    const at = Date.now();
    const listening = this.listening;
    this.entries.delete(uri);
    const model = await load();
    if (listening && !this.closed && epoch === this.epoch && model.version !== null) {
      this.entries.set(uri, { model, epoch, at });
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return model;
  }

  /** Forgets every model and stops listening (the registry is closing). */
  close(): void {
    this.closed = true;
    this.entries.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.listening = false;
  }
}
