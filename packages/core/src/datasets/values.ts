/**
 * Cell-level rules shared by schema inference and table loading. Every function takes the cell
 * text as the CSV holds it; surrounding whitespace is ignored.
 */

/** Cell texts (compared trimmed and case-insensitively) that count as a missing value, besides the empty cell. */
export const MISSING_MARKERS: readonly string[] = ['na', 'n/a', 'nan', 'null', 'none'];

const MISSING = new Set(MISSING_MARKERS);

/** True when the cell is missing: empty or whitespace, or one of {@link MISSING_MARKERS} in any case. */
export function isMissing(cell: string): boolean {
  return isMissingText(cell.trim());
}

/** {@link isMissing} for text that is already trimmed. */
export function isMissingText(text: string): boolean {
  if (text.length === 0) return true;
  if (text.length > 4) return false;
  return MISSING.has(text.toLowerCase());
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
