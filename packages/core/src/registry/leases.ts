import type { MetadataStore } from '../stores/metadata-store.js';

/**
 * The runs this process started or opened and has not ended: one timer sends a heartbeat for all of
 * them every third of the lease (one store call, whatever their number). A run whose heartbeat is
 * older than the lease belongs to a dead process; `open` and `gc` end it as `failed`.
 */
export class RunLeases {
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly now: () => number,
    readonly leaseMs: number,
  ) {}

  /** Starts sending heartbeats for a running run. */
  hold(runId: string): void {
    if (this.closed) return;
    this.held.add(runId);
    if (!this.timer) {
      this.timer = setInterval(() => void this.beat(), Math.max(1, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
  }

  /** Stops sending heartbeats for a run (it ended). */
  release(runId: string): void {
    this.held.delete(runId);
    if (this.held.size === 0) this.stop();
  }

  /** Sends one heartbeat for every held run now; runs that ended elsewhere are let go. */
  async beat(): Promise<void> {
    const ids = [...this.held];
    if (ids.length === 0) return;
    try {
      const alive = new Set(await this.metadata.heartbeatRuns(ids, this.now()));
      for (const id of ids) if (!alive.has(id)) this.release(id);
    } catch {
      // The next beat retries; a run is only expired after a whole lease without one.
    }
  }

  /** Ends runs of dead processes: `running` with no heartbeat for a whole lease. */
  expire(dryRun = false): Promise<string[]> {
    const now = this.now();
    return this.metadata.expireRuns({ heartbeatBefore: now - this.leaseMs, endTime: now, dryRun });
  }

  close(): void {
    this.closed = true;
    this.held.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
