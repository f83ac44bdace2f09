/**
 * An LRU cache of loaded models keyed by content digest, with single flight: concurrent `get`s of a
 * key that is loading share one load. Failed loads are not cached. Evicted values are disposed
 * (e.g. an ONNX session released) once no caller is still being handed them.
 */
export class ModelCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

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

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh recency: Map keeps insertion order, so re-insert at the end.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const pending = load();
    this.entries.set(key, pending);
    pending.catch(() => {
      if (this.entries.get(key) === pending) this.entries.delete(key);
    });
    this.evict();
    return pending;
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Promise<V>];
      this.entries.delete(oldestKey);
      oldest.then(
        (value) => this.dispose(value),
        () => undefined,
      );
    }
  }

  /** Removes every entry and disposes what had loaded. */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (value) => this.dispose(value),
          () => undefined,
        ),
      ),
    );
  }
}
