import type { Principal } from '../domain/identity.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import type { RunLeases } from './leases.js';

/** What every registry module gets: the guarded stores and the settings fixed at `open`. */
export interface RegistryContext {
  readonly metadata: MetadataStore;
  readonly artifacts: ArtifactStore;
  /** Ordered stages; the first is where new versions start, the last is where `archiveExisting` moves others. */
  readonly stages: readonly string[];
  /** Recorded in the history when a call names no actor; the principal's name when one is bound. */
  readonly actor: string;
  /**
   * Who the registry acts as (`registry.as(principal)`), or `null` for the host itself (unchecked).
   * With one, `metadata` and `artifacts` are scoped: each method checks the principal's permission.
   */
  readonly principal: Principal | null;
  readonly now: () => number;
  /** Called after this process changed something, so event listeners hear about it promptly. */
  readonly changed: () => void;
  /** Where built-in trainers run (`RegistryOptions.trainIsolation`). */
  readonly trainIsolation: 'thread' | 'process';
  /** Heartbeats of the runs this process has open, and expiry of the runs of dead processes. */
  readonly leases: RunLeases;
}
