import { hash32 } from '../hash.js';
/** Counters and recent latencies of one canary arm. */
export interface CanaryArmStats {
  /** The version the arm serves now (`null` before it loaded). */
  version: number | null;
  /** Rows predicted by this arm (in shadow mode, for `next`: rows predicted in the shadow). */
  rows: number;
  /** Predict calls that sent at least one row to this arm. */
  requests: number;
  /** Predict calls of this arm that failed (load or predict); failed rows are not counted in `rows`. */
  errors: number;
  /** Latency of this arm's predict calls, in ms, over the most recent samples (`null` before any). */
  latencyMs: { p50: number; p95: number; p99: number } | null;
}

/** What `canary.stats()` returns. */
export interface CanaryStats {
  weight: number;
  shadow: boolean;
  current: CanaryArmStats;
  next: CanaryArmStats;
}

/**
 * Counters plus a ring buffer of the most recent latencies (fixed size, so memory stays flat under
 * any load); percentiles are computed from the buffer when asked.
 */
export class ArmMeter {
  rows = 0;
  requests = 0;
  errors = 0;
  private readonly samples: Float64Array;
  private filled = 0;
  private at = 0;

  constructor(size: number) {
    this.samples = new Float64Array(size);
  }

  /** A predict call of this arm that succeeded. */
  record(rows: number, ms: number): void {
    this.requests++;
    this.rows += rows;
    this.samples[this.at] = ms;
    this.at = (this.at + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  /** A predict call of this arm that failed (its latency is not sampled). */
  fail(): void {
    this.requests++;
    this.errors++;
  }

  snapshot(version: number | null): CanaryArmStats {
    return {
      version,
      rows: this.rows,
      requests: this.requests,
      errors: this.errors,
      latencyMs: this.latency(),
    };
  }

  private latency(): CanaryArmStats['latencyMs'] {
    if (this.filled === 0) return null;
    const sorted = this.samples.slice(0, this.filled).sort();
    const at = (q: number): number => {
      const v = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
      return Math.round(v * 1000) / 1000;
    };
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

/**
 * FNV-1a 32-bit over a string's UTF-16 code units, then murmur3's finalizer (so keys that differ in
 * their last character, like `user-1` and `user-2`, land far apart), mapped to [0, 1). The same key
 * gives the same number in every process and release.
 */
export function stableFraction(key: string): number {
  return hash32(key) / 0x1_0000_0000;
}
