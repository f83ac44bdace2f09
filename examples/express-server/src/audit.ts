import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One prediction request, as the audit log records it. */
export interface AuditEntry {
  /** ISO 8601 time the request was answered. */
  time: string;
  requestId: string;
  model: string;
  /** The version that served every row, or `null` when a canary split the rows over versions. */
  version: number | null;
  /** With a canary: the version that served each row. */
  versions?: number[];
  /** `canary` when a canary routed the request, else the selector used (`version`, `stage`, `alias`). */
  via: 'version' | 'stage' | 'alias' | 'canary';
  /** sha256 (hex) of the canonical JSON of the input: `{"rows":[...]}` or `{"csv":"..."}`. */
  inputSha256: string;
  rows: number;
  /** The first `limits.auditOutputRows` rows of the answer (and of `versions`). */
  output: { predictions: unknown[]; probabilities?: unknown[] };
  /** Set when the answer had more rows than the entry keeps. */
  outputTruncated?: true;
  latencyMs: number;
}

/**
 * Where audit entries go. `write` may be synchronous or return a promise; the server does not wait
 * for it before answering and logs its failures. `close` flushes and releases the sink.
 */
export interface AuditSink {
  write(entry: AuditEntry): void | Promise<void>;
  close(): void | Promise<void>;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal inputs hash equally
 * whatever order the client sent the keys in. `undefined` members are dropped, as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of {@link canonicalJson}. */
export const inputSha256 = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('hex');

/** Appends one JSON object per line to `path` (created with its folder when missing). */
export function createNdjsonAuditSink(path: string): AuditSink {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'a', encoding: 'utf8' });
  let failure: Error | undefined;
  stream.on('error', (e) => {
    failure = e;
  });
  let closed = false;
  return {
    write(entry) {
      if (failure) throw failure;
      if (closed) throw new Error('the audit log is closed');
      stream.write(`${JSON.stringify(entry)}\n`);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (failure) return;
      const finished = once(stream, 'finish');
      stream.end();
      await finished;
    },
  };
}

/** Keeps entries in memory (tests, or a host that ships them elsewhere). */
export function createMemoryAuditSink(): AuditSink & { readonly entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return {
    entries,
    write: (entry) => {
      entries.push(entry);
    },
    close: () => undefined,
  };
}
