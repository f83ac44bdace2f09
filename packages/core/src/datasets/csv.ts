import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { RegistryError, isRegistryError } from '../errors.js';
import type { ArtifactBody } from '../stores/artifact-store.js';
import { toAsyncChunks } from '../stores/body.js';

/** What a CSV can be read from: bytes, a string, a Node `Readable` or any async iterable of byte chunks. */
export type CsvSource = ArtifactBody;

const WHERE = 'datasets';
/** Bytes decoded and handed to the parser at a time. */
const SLICE_BYTES = 1 << 20;
/** Text gathered before the parser runs; grows while one row spans many chunks, so reparsing stays linear. */
const MIN_PARSE_CHARS = 1 << 16;
/** A row (quoted newlines included) longer than this is refused; it is almost always an unclosed quote. */
export const MAX_ROW_CHARS = 8 << 20;

export interface CsvReadOptions {
  /** Called once with the column names after the header passed its checks. */
  onHeader?(columns: string[]): void;
  /**
   * Called for every data row in file order with exactly one field per column (raw text, not trimmed)
   * and the 1-based line where the row starts. Throwing stops the read and rejects it.
   */
  onRow?(fields: string[], line: number): void;
  /**
   * Receives every raw byte chunk, in order, before it is parsed (a tee, e.g. into a temporary file);
   * it is awaited, so a slow sink slows the read instead of buffering. Errors pass through unchanged.
   */
  sink?(chunk: Uint8Array): Promise<void> | void;
  /**
   * The sha256 and size the bytes must have. A mismatch throws `INTEGRITY`, and it wins over a parse
   * error: after a parse error the rest of the source is still read and hashed to tell which it is.
   */
  expected?: { sha256: string; size: number };
  /** Names the input in error messages, e.g. `dataset "iris"`. Default `CSV`. */
  label?: string;
}

export interface CsvReadResult {
  /** Column names from the header, trimmed, in file order. */
  columns: string[];
  /** Number of data rows (blank lines not counted). */
  rows: number;
  /** Bytes read (a byte-order mark included). */
  size: number;
  /** Lowercase hex sha256 of the raw bytes. */
  sha256: string;
}

interface RawParseResult {
  data: string[][];
  errors: { code: string; row: number }[];
  meta: { cursor: number };
}

const fail = (label: string, message: string, details?: Record<string, unknown>): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', `${label}: ${message}`, { where: WHERE, details });

/** Splits text into rows with papaparse, one slice at a time, keeping an unfinished last row for the next slice. */
class RowSplitter {
  private parser: Papa.Parser | undefined;
  private newlineChar = '\n';
  private stripCr = false;
  private buffer = '';
  private line = 1;
  private minParse = MIN_PARSE_CHARS;

  constructor(
    private readonly label: string,
    private readonly emit: (fields: string[], line: number) => void,
  ) {}

  push(text: string): void {
    this.buffer += text;
    if (!this.parser && !this.detectNewline(false)) {
      if (this.buffer.length > MAX_ROW_CHARS) {
        throw fail(this.label, `line 1: no line break in the first ${MAX_ROW_CHARS} characters`, { line: 1 });
      }
      return;
    }
    if (this.buffer.length >= this.minParse) this.parse(false);
  }

  end(): void {
    if (!this.parser) this.detectNewline(true);
    this.parse(true);
  }

  private detectNewline(final: boolean): boolean {
    const text = this.buffer;
    const cr = text.indexOf('\r');
    const lf = text.indexOf('\n');
    let newline: '\n' | '\r' | '\r\n';
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      if (cr === text.length - 1 && !final) return false;
      newline = lf === cr + 1 ? '\r\n' : '\r';
    } else if (lf !== -1 || final) {
      newline = '\n';
    } else {
      return false;
    }
    this.newlineChar = newline === '\r' ? '\r' : '\n';
    this.stripCr = newline === '\n';
    this.parser = new Papa.Parser({ delimiter: ',', newline, quoteChar: '"' });
    return true;
  }

  private parse(final: boolean): void {
    const input = this.buffer;
    const result = (this.parser as Papa.Parser).parse(input, 0, !final) as RawParseResult;
    const rows = result.data;
    const badRows = new Map<number, string>();
    for (const error of result.errors) {
      if (error.row < rows.length && !badRows.has(error.row)) badRows.set(error.row, error.code);
    }
    let line = this.line;
    // Only a quoted field can hold a line break.
    const quoted = input.indexOf('"') !== -1;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as string[];
      const code = badRows.get(i);
      if (code !== undefined) {
        const what =
          code === 'MissingQuotes' ? 'a quoted field is never closed' : 'a quoted field is malformed';
        throw fail(this.label, `line ${line}: ${what}`, { line, reason: code });
      }
      const last = row.length - 1;
      if (this.stripCr && (row[last] as string).endsWith('\r'))
        row[last] = (row[last] as string).slice(0, -1);
      this.emit(row, line);
      line += 1;
      if (!quoted) continue;
      for (const field of row) {
        let at = field.indexOf(this.newlineChar);
        while (at !== -1) {
          line += 1;
          at = field.indexOf(this.newlineChar, at + 1);
        }
      }
    }
    this.line = line;
    this.buffer = final ? '' : input.slice(result.meta.cursor);
    if (this.buffer.length > MAX_ROW_CHARS) {
      throw fail(
        this.label,
        `line ${line}: a row is longer than ${MAX_ROW_CHARS} characters (is a quote left open?)`,
        { line },
      );
    }
    this.minParse = Math.max(MIN_PARSE_CHARS, this.buffer.length * 2);
  }
}

/** Validates the header and the shape of each row, and hands data rows on. */
class RowChecker {
  columns: string[] | undefined;
  headerLine = 0;
  rows = 0;

  constructor(
    private readonly label: string,
    private readonly options: CsvReadOptions,
  ) {}

  accept = (fields: string[], line: number): void => {
    if (fields.length === 1 && fields[0] === '') return;
    if (!this.columns) {
      this.columns = this.checkHeader(fields, line);
      this.headerLine = line;
      this.options.onHeader?.(this.columns);
      return;
    }
    if (fields.length !== this.columns.length) {
      throw fail(
        this.label,
        `line ${line}: row has ${fields.length} field${fields.length === 1 ? '' : 's'} but the header has ${this.columns.length} columns`,
        { line, fields: fields.length, columns: this.columns.length },
      );
    }
    this.rows += 1;
    this.options.onRow?.(fields, line);
  };

  private checkHeader(fields: string[], line: number): string[] {
    // An empty header cell (pandas writes one for its index column) is named like pandas reads it back.
    const names = fields.map((f, i) => f.trim() || `unnamed_${i}`);
    const seen = new Map<string, number>();
    const duplicates: string[] = [];
    names.forEach((name, i) => {
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i + 1);
      else duplicates.push(`${JSON.stringify(name)} (columns ${first} and ${i + 1})`);
    });
    if (duplicates.length > 0) {
      throw fail(this.label, `line ${line}: duplicate column names: ${duplicates.join(', ')}`, { line });
    }
    return names;
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Reads a CSV in one streaming pass: hashes and counts the raw bytes, tees them to `sink`, and
 * parses them with papaparse slice by slice, so memory holds a slice and one row, never the file.
 *
 * Format: UTF-8 (a byte-order mark is dropped), `,` delimiter, `"` quotes (`""` escapes a quote;
 * quoted fields may hold delimiters and newlines), `\n`, `\r\n` or `\r` line ends (taken from the
 * first line). The first non-blank row is the header; names are trimmed. Blank lines are skipped
 * everywhere — in a one-column file, an empty line is skipped too, not read as a missing value.
 *
 * Throws `INVALID_ARGUMENT` (where `datasets`, with the line in message and `details`) for: bytes
 * that are not UTF-8, an empty file, a header with a duplicate column name (an empty one is named `unnamed_<index>`), a header
 * without data rows, a row with another number of fields than the header, a malformed or
 * unclosed quoted field, a row longer than {@link MAX_ROW_CHARS}. An error while reading `source`
 * is `INVALID_ARGUMENT` with the error as `cause`. See `expected` for `INTEGRITY`.
 */
export async function readCsv(source: CsvSource, options: CsvReadOptions = {}): Promise<CsvReadResult> {
  const label = options.label ?? 'CSV';
  const hash = createHash('sha256');
  let size = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const checker = new RowChecker(label, options);
  const splitter = new RowSplitter(label, checker.accept);
  let failure: { error: unknown } | undefined;

  // ASCII slices are read as Latin-1 (a byte per character, a copy) until the first other byte:
  // from then on the streaming decoder may hold part of a character, so it reads everything.
  // Validating UTF-8 as the fatal decoder does costs ~7 ms per MB; this costs ~0.3.
  let ascii = true;
  let first = true;
  const decode = (bytes: Uint8Array | undefined, offset: number): string => {
    if (bytes && first && bytes.byteLength > 0) {
      first = false;
      // The decoder drops a leading byte-order mark, and so does this path; one split across the
      // first slices is left to the decoder.
      if (bytes.byteLength < 3) ascii = false;
      else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    if (bytes && ascii && isAscii(bytes)) {
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    }
    ascii = false;
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch (error) {
      throw new RegistryError('INVALID_ARGUMENT', `${label}: not valid UTF-8 text (near byte ${offset})`, {
        where: WHERE,
        cause: error,
        details: { byte: offset },
      });
    }
  };

  const consume = async (chunk: Uint8Array): Promise<void> => {
    if (options.sink) await options.sink(chunk);
    for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) {
      splitter.push(decode(chunk.subarray(at, at + SLICE_BYTES), size - chunk.byteLength + at));
    }
  };

  // True while waiting on the source for the next chunk: an error then is the body's, not ours.
  let readingBody = true;
  try {
    for await (const chunk of toAsyncChunks(source, WHERE)) {
      readingBody = false;
      hash.update(chunk);
      size += chunk.byteLength;
      if (!failure) {
        try {
          await consume(chunk);
        } catch (error) {
          if (!options.expected) throw error;
          failure = { error };
        }
      }
      readingBody = true;
    }
    readingBody = false;
    if (!failure) {
      try {
        splitter.push(decode(undefined, size));
        splitter.end();
        if (!checker.columns) throw fail(label, 'the file is empty (no header row)');
        if (checker.rows === 0) {
          const line = checker.headerLine;
          throw fail(label, `the file has a header (line ${line}) but no data rows`, { line });
        }
      } catch (error) {
        if (!options.expected) throw error;
        failure = { error };
      }
    }
  } catch (error) {
    if (!readingBody || isRegistryError(error)) throw error;
    throw new RegistryError('INVALID_ARGUMENT', `${label}: reading the body failed: ${message(error)}`, {
      where: WHERE,
      cause: error,
    });
  }

  const sha256 = hash.digest('hex');
  const { expected } = options;
  if (expected && (expected.sha256 !== sha256 || expected.size !== size)) {
    throw new RegistryError(
      'INTEGRITY',
      `${label}: stored bytes do not match the record (sha256 ${sha256}, ${size} bytes; expected ${expected.sha256}, ${expected.size} bytes)`,
      { where: WHERE, cause: failure?.error },
    );
  }
  if (failure) throw failure.error;
  return { columns: checker.columns ?? [], rows: checker.rows, size, sha256 };
}

/**
 * {@link readCsv} for text already in memory, synchronously: the same format, header checks and
 * errors (it is the same splitter and checker), without hashing. A leading byte-order mark is
 * dropped. With `allowNoRows`, a header without data rows is accepted (0 rows) instead of refused.
 */
export function readCsvText(
  text: string,
  options: Pick<CsvReadOptions, 'onHeader' | 'onRow' | 'label'> & { allowNoRows?: boolean } = {},
): { columns: string[]; rows: number } {
  const label = options.label ?? 'CSV';
  const checker = new RowChecker(label, options);
  const splitter = new RowSplitter(label, checker.accept);
  splitter.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  splitter.end();
  if (!checker.columns) throw fail(label, 'the file is empty (no header row)');
  if (checker.rows === 0 && !options.allowNoRows) {
    const line = checker.headerLine;
    throw fail(label, `the file has a header (line ${line}) but no data rows`, { line });
  }
  return { columns: checker.columns, rows: checker.rows };
}

/**
 * Reads CSV text into records of cell text, one per data row, keyed by the (trimmed) header names.
 * The records have no prototype, so any column name — `__proto__` and `constructor` included — is
 * an ordinary key.
 */
export function readCsvRecords(
  text: string,
  options: { label?: string; allowNoRows?: boolean } = {},
): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  let names: string[] = [];
  readCsvText(text, {
    ...options,
    onHeader: (columns) => {
      names = columns;
    },
    onRow: (fields) => {
      const record = Object.create(null) as Record<string, string>;
      for (let i = 0; i < names.length; i++) record[names[i] as string] = fields[i] as string;
      records.push(record);
    },
  });
  return records;
}
