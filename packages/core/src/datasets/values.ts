import type { ColumnType } from '../domain/types.js';
import type { Cell } from '../domain/table.js';

/**
 * The one place where a value gets its meaning: schema inference, table loading (training,
 * evaluate) and every predict input form (records, CSV, the canary) read cells and JSON values
 * with the functions of this module. Text is trimmed before it is read.
 */

/** Cell texts (compared trimmed and case-insensitively) that count as a missing value, besides the empty cell. */
export const MISSING_MARKERS: readonly string[] = ['na', 'n/a', 'nan', 'null', 'none'];

/**
 * The version of the rules of this module. MODEL.json records it with the missing markers
 * (`values`), and prediction refuses a model whose rules are newer than the code (`UNSUPPORTED`).
 *
 * Version 1: missing = empty/whitespace or a marker (any case); booleans `true`/`false`/`yes`/`no`
 * (any case); integers and numbers in decimal or exponent notation; ISO 8601 datetimes, UTC when
 * they carry no offset; categories compared as trimmed text.
 */
export const VALUE_RULES_VERSION = 1;

/** What prediction needs to read values as training did (stored as `MODEL.json#values`). */
export interface ValueRules {
  readonly version: number;
  /** Lowercase texts that mean "missing" besides the empty cell. */
  readonly missing: readonly string[];
}

/** The rules training applies today; also used for manifests written before `values` existed. */
export const DEFAULT_VALUE_RULES: ValueRules = Object.freeze({
  version: VALUE_RULES_VERSION,
  missing: MISSING_MARKERS,
});

const MISSING = new Set(MISSING_MARKERS);

/** True when the cell is missing: empty or whitespace, or one of {@link MISSING_MARKERS} in any case. */
export function isMissingCsvCell(cell: string): boolean {
  return isMissingText(cell.trim());
}

/** {@link isMissingCsvCell} for text that is already trimmed. */
export function isMissingText(text: string): boolean {
  if (text.length === 0) return true;
  if (text.length > 4) return false;
  return MISSING.has(text.toLowerCase());
}

/** A missing-text test (trimmed text in) for the markers of `rules`; the default rules share {@link isMissingText}. */
export function missingTextTest(rules: ValueRules): (text: string) => boolean {
  const markers = rules.missing;
  if (
    markers === MISSING_MARKERS ||
    (markers.length === MISSING_MARKERS.length && markers.every((m, i) => m === MISSING_MARKERS[i]))
  ) {
    return isMissingText;
  }
  const set = new Set(markers.map((m) => m.toLowerCase()));
  const longest = markers.reduce((n, m) => Math.max(n, m.length), 0);
  return (text) => text.length === 0 || (text.length <= longest && set.has(text.toLowerCase()));
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * An integer cell: optional sign and digits only (`42`, `-7`, `007`), within ±2^53−1.
 * `1.0` and `1e3` are numbers, not integers: the writer chose a decimal notation.
 */
export function parseInteger(cell: string): number | undefined {
  return integerOf(cell.trim());
}

/** {@link parseInteger} for text that is already trimmed. */
export function integerOf(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A number cell in plain decimal or exponent notation (`3.14`, `-.5`, `1e-3`, `42`). `Infinity`,
 * hex, thousands separators and values that overflow to infinity are not numbers.
 */
export function parseNumber(cell: string): number | undefined {
  return numberOf(cell.trim());
}

/** {@link parseNumber} for text that is already trimmed. */
export function numberOf(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A boolean cell: `true`/`false`/`yes`/`no` in any case. `0`/`1` are integers, not booleans. */
export function parseBoolean(cell: string): boolean | undefined {
  return booleanOf(cell.trim());
}

/** {@link parseBoolean} for text that is already trimmed. */
export function booleanOf(trimmed: string): boolean | undefined {
  if (trimmed.length < 2 || trimmed.length > 5) return undefined;
  const text = trimmed.toLowerCase();
  if (text === 'true' || text === 'yes') return true;
  if (text === 'false' || text === 'no') return false;
  return undefined;
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const daysInMonth = (year: number, month: number): number =>
  month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);

/**
 * An ISO 8601 date or date-time cell, as epoch milliseconds: `2024-01-05`, `2024-01-05T10:00`,
 * `2024-01-05 10:00:30.250`, `2024-01-05T10:00:00Z`, `2024-01-05T10:00:00+02:00` (also `+0200`, `+02`).
 * A value without an offset is read as UTC, so the result does not depend on the machine's time
 * zone. Fractions beyond milliseconds are truncated; impossible dates (`2023-02-30`) are rejected.
 */
export function parseDateTime(cell: string): number | undefined {
  return dateTimeOf(cell.trim());
}

/** {@link parseDateTime} for text that is already trimmed. */
export function dateTimeOf(text: string): number | undefined {
  if (text.length < 10) return undefined;
  const match = DATETIME.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  if (zone !== undefined && h === undefined) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMinutes * 60_000;
}

/** Converts a cell of a known type, given trimmed and as written; `undefined` when it does not fit. */
export type CellConverter = (text: string, cell: string) => Cell | undefined;

const strictConverters: Readonly<Record<ColumnType, CellConverter>> = Object.freeze({
  integer: integerOf,
  number: numberOf,
  boolean: booleanOf,
  datetime: dateTimeOf,
  categorical: (text: string) => text,
  string: (_: string, cell: string) => cell,
});

/**
 * The strict reading of a non-missing cell of a typed column, as a dataset is loaded: the column's
 * type was inferred from these very cells, so every cell fits (`integer` = sign and digits only).
 * `categorical` cells are their trimmed text, `string` cells their text as written.
 */
export function cellConverter(type: ColumnType): CellConverter {
  return strictConverters[type];
}

/** Marks a value that does not fit the type it is read as. */
export const INVALID: unique symbol = Symbol('invalid value');
export type Invalid = typeof INVALID;

/** Reads one input value of a feature: the typed value, `null` when missing, {@link INVALID} when it does not fit. */
export type ValueReader = (value: unknown) => Cell | Invalid;

/**
 * How prediction reads a value of a feature of `type` — from cell text (CSV, string records) and
 * from JSON values — under `rules`. Text is trimmed; missing text (see `rules.missing`) is `null`.
 *
 * - Everywhere: `null`, `undefined` and `NaN` are missing.
 * - `number` / `integer`: numbers; text in decimal or exponent notation (`integer` features
 *   accept any number, as the model does).
 * - `boolean`: `true`/`false`; text `true`/`false`/`yes`/`no` in any case; also `0`/`1` as
 *   numbers or text.
 * - `datetime`: epoch milliseconds as numbers or text; `Date`s; ISO 8601 text, read as UTC when it
 *   carries no offset (`2024-01-05 10:00` is the same instant under every `TZ`).
 * - `categorical` / `string`: the trimmed text; numbers and booleans as `String(value)`.
 *
 * Anything else is {@link INVALID}.
 */
export function valueReader(type: ColumnType, rules: ValueRules = DEFAULT_VALUE_RULES): ValueReader {
  const missing = missingTextTest(rules);
  const text = textReader(type);
  const fromText = (value: string): Cell | Invalid => {
    const trimmed = value.trim();
    if (missing(trimmed)) return null;
    return text(trimmed);
  };
  switch (type) {
    case 'number':
    case 'integer':
      return (v) => {
        if (typeof v === 'number') return v === v ? v : null;
        if (typeof v === 'string') return fromText(v);
        return v === null || v === undefined ? null : INVALID;
      };
    case 'datetime':
      return (v) => {
        if (typeof v === 'number') return v === v ? v : null;
        if (typeof v === 'string') return fromText(v);
        if (v === null || v === undefined) return null;
        if (v instanceof Date) {
          const t = v.getTime();
          return t === t ? t : INVALID;
        }
        return INVALID;
      };
    case 'boolean':
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string') return fromText(v);
        if (v === 1) return true;
        if (v === 0) return false;
        return v === null || v === undefined || Number.isNaN(v) ? null : INVALID;
      };
    case 'categorical':
    case 'string':
      return (v) => {
        if (typeof v === 'string') return fromText(v);
        if (typeof v === 'number') return v === v ? String(v) : null;
        if (typeof v === 'boolean') return String(v);
        return v === null || v === undefined ? null : INVALID;
      };
  }
}

/** Reads non-missing, trimmed text as a feature of `type` (see {@link valueReader}). */
function textReader(type: ColumnType): (text: string) => Cell | Invalid {
  switch (type) {
    case 'number':
    case 'integer':
      return (text) => numberOf(text) ?? INVALID;
    case 'datetime':
      return (text) => dateTimeOf(text) ?? numberOf(text) ?? INVALID;
    case 'boolean':
      return (text) => booleanOf(text) ?? (text === '1' ? true : text === '0' ? false : INVALID);
    case 'categorical':
    case 'string':
      return (text) => text;
  }
}
