// What the conformance suite's `inspect` hook returns: the stored values a store must keep exactly.
// Declared with the stores (type-only) so that stores below `testing` can implement it.

/**
 * A backdoor into what a store really keeps, independent of its read methods (Auth.js's `db`).
 * Tests that use it run only when `inspect` is given.
 */
export interface MetadataInspector {
  /** How many events are physically stored. */
  countEvents(): Promise<number>;
  /** How many stage/alias history entries are physically stored, over all models. */
  countHistory(): Promise<number>;
  /**
   * What is stored for a version, deleted or not, read from storage without the store's read
   * methods (the row, the document); `null` when nothing is stored.
   */
  rawVersion(name: string, version: number): Promise<StoredVersion | null>;
  /** What is stored for a model, deleted or not; `null` when nothing is stored. */
  rawModel(name: string): Promise<StoredModel | null>;
  /** The version an alias points at as stored, or `null` when no alias is stored. */
  rawAlias(name: string, alias: string): Promise<number | null>;
  /** The artifact records stored for a run, sorted by path. */
  rawRunArtifacts(runId: string): Promise<StoredFile[]>;
}

/** A file record as stored: the sha256 and size that load verifies. */
export interface StoredFile {
  path: string;
  key: string;
  sha256: string;
  size: number;
}

/** The stored values of a version that the store must keep exactly. */
export interface StoredVersion {
  stage: string;
  /** The soft-delete mark: when it was deleted, `null` while live. */
  deletedAt: number | null;
  tags: Record<string, string>;
  /** In the order they were given. */
  files: StoredFile[];
}

/** The stored values of a model that the store must keep exactly. */
export interface StoredModel {
  /** The soft-delete mark: when it was deleted, `null` while live. */
  deletedAt: number | null;
  /** The version counter; it survives delete so that numbers are never reused. */
  lastVersion: number;
  tags: Record<string, string>;
}
