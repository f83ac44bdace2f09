interface Entry<V> {
  value: Promise<V>;
  /** Live handles given out for this value (see `pin`). */
  refs: number;
  /** Left the cache; disposed as soon as `refs` reaches 0. */
  evicted: boolean;
  disposed: boolean;
}

/**
 * An LRU cache of loaded models keyed by content digest, with single flight: concurrent `get`s of a
 * key that is loading share one load. Failed loads are not cached.
 *
 * Values can be pinned by the handles given to callers: an evicted value is disposed (an ONNX
 * session released) only once no pinned handle is alive, so a `LoadedModel` a caller still holds
 * keeps working after its cache entry was evicted. Handles unpin when they are garbage collected.
 */
export class ModelCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly handles = new FinalizationRegistry<Entry<V>>((entry) => this.unpin(entry));

  constructor(
    private readonly capacity: number,
    private readonly dispose: (value: V) => void | Promise<void>,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The value for `key`, loading it once. `pin(handle)` keeps the value alive while `handle` is. */
  async get(key: string, load: () => Promise<V>): Promise<{ value: V; pin: (handle: object) => void }> {
    let entry = this.entries.get(key);
    if (entry) {
      // Refresh recency: Map keeps insertion order, so re-insert at the end.
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      const created: Entry<V> = { value: load(), refs: 0, evicted: false, disposed: false };
      entry = created;
      this.entries.set(key, created);
      created.value.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.evict();
    }
    const pinned = entry;
    const value = await pinned.value;
    return {
      value,
      pin: (handle) => {
        pinned.refs++;
        this.handles.register(handle, pinned);
      },
    };
  }

  private unpin(entry: Entry<V>): void {
    entry.refs--;
    if (entry.evicted && entry.refs <= 0) this.disposeEntry(entry);
  }

  private disposeEntry(entry: Entry<V>): void {
    if (entry.disposed) return;
    entry.disposed = true;
    entry.value.then(
      (value) => this.dispose(value),
      () => undefined,
    );
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry<V>];
      this.entries.delete(oldestKey);
      oldest.evicted = true;
      if (oldest.refs <= 0) this.disposeEntry(oldest);
    }
  }

  /** Removes every entry and disposes every value, pinned or not (the registry is closing). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) entry.evicted = true;
    await Promise.all(
      all.map(async (entry) => {
        if (entry.disposed) return;
        entry.disposed = true;
        await entry.value.then(
          (value) => this.dispose(value),
          () => undefined,
        );
      }),
    );
  }
}
