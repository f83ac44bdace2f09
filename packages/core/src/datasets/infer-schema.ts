import type { ColumnInfo, ColumnType } from '../domain/types.js';
import { readCsv } from './csv.js';
import type { CsvReadOptions, CsvSource } from './csv.js';
import { booleanOf, dateTimeOf, integerOf, isMissingText, numberOf } from './values.js';
import { hash32 } from '../hash.js';

/** Distinct values are counted exactly while a column has at most this many… */
export const DISTINCT_EXACT_LIMIT = 10_000;
/** …and while they hold at most this many characters together; beyond either, the count is estimated. */
export const DISTINCT_EXACT_CHARS = 1 << 20;
/** A text column is categorical when its distinct count is at most max(this, 5% of its non-missing values)… */
export const CATEGORICAL_MIN_LIMIT = 50;
export const CATEGORICAL_RATIO = 0.05;
/** …and never when it has more distinct values than this. */
export const MAX_CATEGORIES = 256;

/** The largest number of categories a text column with `nonMissing` values may have and still be categorical. */
export const categoricalLimit = (nonMissing: number): number =>
  Math.min(MAX_CATEGORIES, Math.max(CATEGORICAL_MIN_LIMIT, Math.floor(CATEGORICAL_RATIO * nonMissing)));

const SKETCH_BITS = 14;

/**
 * A copy of `text` that does not share memory with the parsed slice it was cut from: V8 keeps a
 * whole slice alive for any substring kept from it, and the distinct set outlives every slice.
 */
const detach = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

/** HyperLogLog with 2^14 registers (16 KiB, about 1% standard error). */
class DistinctSketch {
  private readonly registers = new Uint8Array(1 << SKETCH_BITS);

  add(text: string): void {
    const h = hash32(text);
    const index = h >>> (32 - SKETCH_BITS);
    const rank = Math.min(Math.clz32((h << SKETCH_BITS) >>> 0), 32 - SKETCH_BITS) + 1;
    if (rank > (this.registers[index] as number)) this.registers[index] = rank;
  }

  estimate(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros += 1;
    }
    const raw = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(raw);
  }
}

class ColumnProfile {
  nulls = 0;
  nonMissing = 0;
  private maybeBoolean = true;
  private maybeInteger = true;
  private maybeNumber = true;
  private maybeDatetime = true;
  private min = Infinity;
  private max = -Infinity;
  private minTime = Infinity;
  private maxTime = -Infinity;
  private distinct: Set<string> | undefined = new Set();
  private distinctChars = 0;
  private exactAtOverflow = 0;
  private sketch: DistinctSketch | undefined;

  constructor(readonly name: string) {}

  add(cell: string): void {
    const text = cell.trim();
    if (isMissingText(text)) {
      this.nulls += 1;
      return;
    }
    this.nonMissing += 1;
    if (this.maybeBoolean && booleanOf(text) === undefined) this.maybeBoolean = false;
    if (this.maybeNumber) this.addNumber(text);
    if (this.maybeDatetime) {
      const t = dateTimeOf(text);
      if (t === undefined) this.maybeDatetime = false;
      else {
        if (t < this.minTime) this.minTime = t;
        if (t > this.maxTime) this.maxTime = t;
      }
    }
    this.count(text);
  }

  private addNumber(text: string): void {
    let n = this.maybeInteger ? integerOf(text) : undefined;
    if (n === undefined) {
      this.maybeInteger = false;
      n = numberOf(text);
      if (n === undefined) {
        this.maybeNumber = false;
        return;
      }
    }
    if (n < this.min) this.min = n;
    if (n > this.max) this.max = n;
  }

  private count(text: string): void {
    const set = this.distinct;
    if (!set) {
      (this.sketch as DistinctSketch).add(text);
      return;
    }
    if (set.has(text)) return;
    set.add(detach(text));
    this.distinctChars += text.length;
    if (set.size > DISTINCT_EXACT_LIMIT || this.distinctChars > DISTINCT_EXACT_CHARS) {
      const sketch = new DistinctSketch();
      for (const value of set) sketch.add(value);
      this.exactAtOverflow = set.size;
      this.sketch = sketch;
      this.distinct = undefined;
    }
  }

  /** Exact distinct count of the values as `key` sees them, or the estimate once the exact set was dropped. */
  private distinctCount(key?: (text: string) => unknown): number {
    if (!this.distinct) return Math.max(this.exactAtOverflow, (this.sketch as DistinctSketch).estimate());
    if (!key) return this.distinct.size;
    return new Set([...this.distinct].map(key)).size;
  }

  info(): ColumnInfo {
    const base = { name: this.name, nullCount: this.nulls };
    if (this.nonMissing === 0) return { ...base, type: 'string', distinctCount: 0 };
    if (this.maybeBoolean) return { ...base, type: 'boolean', distinctCount: this.distinctCount(booleanOf) };
    if (this.maybeNumber) {
      const type: ColumnType = this.maybeInteger ? 'integer' : 'number';
      return { ...base, type, distinctCount: this.distinctCount(numberOf), min: this.min, max: this.max };
    }
    if (this.maybeDatetime) {
      const distinctCount = this.distinctCount(dateTimeOf);
      return { ...base, type: 'datetime', distinctCount, min: this.minTime, max: this.maxTime };
    }
    const set = this.distinct;
    if (set && set.size <= categoricalLimit(this.nonMissing)) {
      const categories = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { ...base, type: 'categorical', distinctCount: set.size, categories };
    }
    return { ...base, type: 'string', distinctCount: this.distinctCount() };
  }
}

/** Profiles columns row by row in bounded memory; see {@link inferColumns} for the rules. */
export interface ColumnProfiler {
  /** Adds one data row: one raw cell per column, in column order. */
  add(fields: readonly string[]): void;
  /** Rows added so far. */
  readonly rows: number;
  /** The columns' metadata, in column order. */
  finish(): ColumnInfo[];
}

/**
 * Creates a streaming column profiler. Memory per column is bounded: at most
 * {@link DISTINCT_EXACT_LIMIT} distinct values (and {@link DISTINCT_EXACT_CHARS} characters of them),
 * then a 16 KiB sketch. Inference rules:
 *
 * - Missing cells (see `isMissingCsvCell`: empty, `NA`, `N/A`, `NaN`, `null`, `None`, any case) count in
 *   `nullCount` and take no part in typing. Other cells are trimmed before they are typed or counted.
 * - The type is the first of these that **every** non-missing value fits:
 *   `boolean` (`true`/`false`/`yes`/`no`, any case; `0`/`1` are integers) → `integer` (sign and
 *   digits only, safe range; `1.0` is a number) → `number` (decimal or exponent notation) →
 *   `datetime` (ISO 8601 date or date-time; see `parseDateTime`) → `categorical` → `string`.
 *   One value that does not fit demotes the column: a numeric-looking column with one `?` or `abc`
 *   is categorical or string.
 * - `categorical`: at most `min(256, max(50, floor(5% of non-missing values)))` distinct values
 *   (exact count); `categories` lists them sorted by UTF-16 code units. Otherwise `string`.
 * - `distinctCount` is exact while the column has ≤ 10,000 distinct values of ≤ 1 Mi characters in
 *   total, counted on typed values for typed columns (`1` and `01` are one integer) and on trimmed
 *   text otherwise; beyond that it is a HyperLogLog estimate of distinct texts (about 1% error).
 * - `min`/`max`: for `integer` and `number` columns; for `datetime` columns, in epoch milliseconds.
 * - A column whose values are all missing is kept as `string` with `nullCount = rows` and
 *   `distinctCount = 0`.
 *
 * Spotting id-like columns (unique integers or strings) is left to feature selection in training.
 */
export function createColumnProfiler(columns: readonly string[]): ColumnProfiler {
  const profiles = columns.map((name) => new ColumnProfile(name));
  let rows = 0;
  return {
    add(fields) {
      for (let i = 0; i < profiles.length; i++) (profiles[i] as ColumnProfile).add(fields[i] ?? '');
      rows += 1;
    },
    get rows() {
      return rows;
    },
    finish: () => profiles.map((p) => p.info()),
  };
}

/** Column metadata inferred from rows already in memory; same rules as {@link createColumnProfiler}. */
export function inferColumns(columns: readonly string[], rows: Iterable<readonly string[]>): ColumnInfo[] {
  const profiler = createColumnProfiler(columns);
  for (const row of rows) profiler.add(row);
  return profiler.finish();
}

/** What one pass over a CSV learns: its columns with inferred types, the row count, size and sha256. */
export interface CsvProfile {
  columns: ColumnInfo[];
  rows: number;
  size: number;
  sha256: string;
}

/**
 * Parses, profiles and hashes a CSV in one streaming pass (see `readCsv` for the format and its
 * errors, {@link createColumnProfiler} for the inference rules). `sink` receives the raw bytes as
 * they pass, e.g. to store them while they are checked.
 */
export async function profileCsv(
  source: CsvSource,
  options: Pick<CsvReadOptions, 'sink' | 'label' | 'expected'> = {},
): Promise<CsvProfile> {
  let profiler: ColumnProfiler | undefined;
  const result = await readCsv(source, {
    ...options,
    onHeader: (columns) => {
      profiler = createColumnProfiler(columns);
    },
    onRow: (fields) => (profiler as ColumnProfiler).add(fields),
  });
  return {
    columns: (profiler as ColumnProfiler).finish(),
    rows: result.rows,
    size: result.size,
    sha256: result.sha256,
  };
}
