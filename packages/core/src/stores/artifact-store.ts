import type { Readable } from 'node:stream';

/** The body of a put: bytes, or a stream of bytes (Node Readable or any async iterable of chunks). */
export type ArtifactBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface PutResult {
  size: number;
  /** Lowercase hex sha256 of the stored bytes, computed while writing. */
  sha256: string;
}

export interface ArtifactInfo {
  key: string;
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/**
 * Where modelreg keeps bytes: dataset files, run artifacts and model files.
 *
 * Keys are `/`-separated relative paths (`runs/<id>/artifacts/model/MODEL.json`). A key that could
 * escape the store's root — empty segments, `.`/`..`, an absolute path, a backslash, a NUL or other
 * control character, or percent-encoded dots or slashes — throws `INVALID_ARGUMENT` from every method
 * (use `assertArtifactKey` from `@modelreg/core`). Core writes each key once; stores need not
 * defend against concurrent writers of one key, but a reader must never see a partial object.
 */
export interface ArtifactStore {
  /** A short name used in error messages, e.g. `storage-fs`. */
  readonly name: string;
  /** Prepares the store (creates the root folder, checks the bucket). Called once by core. */
  init(): Promise<void>;
  /** Releases resources. Called once by core. */
  close(): Promise<void>;
  /**
   * Writes the whole body under `key`, replacing any object there, and returns its size and sha256.
   * Atomic for readers: they see the old object or the whole new one, never a part.
   */
  put(key: string, body: ArtifactBody): Promise<PutResult>;
  /**
   * The whole object, or `null` when missing. The bytes are the caller's: a buffer of their own on
   * every call, which the caller may change or transfer to another thread (train does) without
   * touching what the store keeps.
   */
  get(key: string): Promise<Uint8Array | null>;
  /** The object as a stream, or `null` when missing. */
  getStream(key: string): Promise<Readable | null>;
  /** Size and modification time, or `null` when missing. */
  head(key: string): Promise<ArtifactInfo | null>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix; `''` lists everything),
   * sorted by key. Implementations page through their backend and return the complete list.
   */
  list(prefix: string): Promise<ArtifactInfo[]>;
  /** Deletes one object; returns whether it existed. */
  delete(key: string): Promise<boolean>;
  /** Deletes every object whose key starts with `prefix` (which must not be empty); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Optional: the partial writes this store keeps outside its objects (a killed writer's temp files,
   * unfinished multipart uploads), which `list` never shows. `key` names the leftover for
   * {@link deleteTemporary}; `lastModified` is when it was last written. A write in progress is
   * listed too: gc deletes only leftovers older than its grace period.
   */
  listTemporary?(): Promise<ArtifactInfo[]>;
  /** Optional, with `listTemporary`: removes one leftover it listed; returns whether it existed. */
  deleteTemporary?(key: string): Promise<boolean>;
}
