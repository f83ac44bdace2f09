/**
 * A named position in the registry's event log, kept in the metadata store so a restarted relay
 * (or another replica) resumes where publishing stopped. Core provides it as
 * `registry.eventCursor(name, { owner?, leaseMs? })`; the relay takes it as an option.
 */
export interface EventCursor {
  /** The cursor's name, unique per metadata store (e.g. `nats-relay:<prefix>`). */
  readonly name: string;
  /**
   * Takes or renews the cursor's lease for this owner. `false` when another owner holds a live
   * lease: that owner is publishing, so this one must not (it stays on standby and claims again).
   */
  claim(): Promise<boolean>;
  /** The sequence number of the last event handled (`0` before the first). */
  position(): Promise<number>;
  /** Records that every event up to `seq` was handled. Only the lease holder may advance. */
  advance(seq: number): Promise<void>;
  /** Gives the lease up, so another owner can claim at once. */
  release(): Promise<void>;
}
