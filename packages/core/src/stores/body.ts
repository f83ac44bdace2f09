import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.js';
import type { ArtifactBody, PutResult } from './artifact-store.js';

/** Chunks of a body that are hashed as they pass; `result()` is valid once every chunk was consumed. */
export interface HashedChunks {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Size and lowercase hex sha256 of everything that passed; throws if the chunks were not fully consumed. */
  result(): PutResult;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function'
  );
}

function toBytes(chunk: unknown, where: string): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new RegistryError('INVALID_ARGUMENT', `artifact body chunks must be bytes, got ${typeof chunk}`, {
    where,
  });
}

/**
 * Turns any {@link ArtifactBody} into an async iterable of byte chunks without buffering it: bytes
 * pass as one chunk, a string as its UTF-8 bytes, a stream chunk by chunk (string chunks are taken
 * as UTF-8). Anything else throws `INVALID_ARGUMENT`. Chunks may alias the caller's memory; copy
 * them if you keep them.
 */
export function toAsyncChunks(body: ArtifactBody, where = 'artifacts'): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array || typeof body === 'string') {
    const bytes = toBytes(body, where);
    return (async function* single() {
      yield bytes;
    })();
  }
  if (isAsyncIterable(body)) {
    const source: AsyncIterable<unknown> = body;
    // A stream that fails before the store starts reading it (while it creates folders, say) would
    // emit 'error' with no listener: an uncaught exception. The error stays on the stream, and the
    // iteration below throws it, so the caller still sees the failure as a rejection.
    const emitter = body as { on?: unknown };
    if (typeof emitter.on === 'function')
      (body as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    return (async function* stream() {
      for await (const chunk of source) yield toBytes(chunk, where);
    })();
  }
  const got = body === null ? 'null' : typeof body;
  throw new RegistryError(
    'INVALID_ARGUMENT',
    `artifact body must be a Uint8Array, a string, a Readable or an async iterable of bytes, got ${got}`,
    { where },
  );
}

/** Slices of {@link sliceBody}: small enough that hashing and copying one takes about a millisecond. */
export const BODY_SLICE_BYTES = 256 * 1024;

/**
 * `bytes` as an async iterable of `size`-byte views (no copy), with a turn of the event loop
 * (`setImmediate`) before each slice after the first. A store hashes and copies a body chunk by chunk
 * on the calling thread: given a model of hundreds of megabytes as one chunk, its sha256 and copy are
 * one synchronous step of a second or more, which stalls every request of the host; in slices, the
 * host answers between them.
 */
export function sliceBody(bytes: Uint8Array, size = BODY_SLICE_BYTES): AsyncIterable<Uint8Array> {
  return (async function* slices() {
    for (let at = 0; at < bytes.byteLength; at += size) {
      if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      yield bytes.subarray(at, Math.min(at + size, bytes.byteLength));
    }
  })();
}

/** Passes `source` through while computing its size and sha256. */
export function hashChunks(source: AsyncIterable<Uint8Array>): HashedChunks {
  const hash = createHash('sha256');
  let size = 0;
  let finished: PutResult | undefined;
  const chunks = (async function* hashed() {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.byteLength;
      yield chunk;
    }
    finished = { size, sha256: hash.digest('hex') };
  })();
  return {
    chunks,
    result() {
      if (!finished) throw new Error('hashChunks: result() called before the body was fully read');
      return finished;
    },
  };
}

/** Reads a whole body into one new buffer (never aliasing the caller's memory) with its size and sha256. */
export async function readBody(
  body: ArtifactBody,
  where = 'artifacts',
): Promise<PutResult & { bytes: Uint8Array }> {
  const hashed = hashChunks(toAsyncChunks(body, where));
  const parts: Uint8Array[] = [];
  for await (const chunk of hashed.chunks) parts.push(chunk);
  const result = hashed.result();
  const bytes = new Uint8Array(result.size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return { ...result, bytes };
}

/** Orders keys by UTF-16 code units, the order every store's `list` returns. */
export function compareArtifactKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What a body must be: its recorded size and lowercase hex sha256. */
export interface ExpectedBody {
  size: number;
  sha256: string;
}

/**
 * Passes `source` through while checking it against `expected`, and throws `INTEGRITY` (naming
 * `label`) as soon as it is known to differ: when more bytes than `expected.size` arrive, or at the
 * end when the size or sha256 differ. The last chunk is held back until the check passed, so a
 * consumer streaming the chunks onwards (an HTTP download) never delivers a complete wrong body.
 */
export function verifyChunks(
  source: AsyncIterable<Uint8Array>,
  expected: ExpectedBody,
  label: string,
  where = 'artifacts',
): AsyncIterable<Uint8Array> {
  return (async function* verified() {
    const hash = createHash('sha256');
    let size = 0;
    let held: Uint8Array | undefined;
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > expected.size) {
        throw new RegistryError(
          'INTEGRITY',
          `${label} has more than the ${expected.size} bytes the registry recorded`,
          { where, details: { expectedSize: expected.size } },
        );
      }
      hash.update(chunk);
      if (held) yield held;
      held = chunk;
    }
    const sha256 = hash.digest('hex');
    if (size !== expected.size || sha256 !== expected.sha256) {
      throw new RegistryError(
        'INTEGRITY',
        `${label} has sha256 ${sha256.slice(0, 16)}… and ${size} bytes, but the registry recorded ${expected.sha256.slice(0, 16)}… and ${expected.size} bytes`,
        { where, details: { expected: expected.sha256, actual: sha256, expectedSize: expected.size, size } },
      );
    }
    if (held) yield held;
  })();
}
