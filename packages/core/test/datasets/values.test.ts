import { describe, expect, it } from 'vitest';
import {
  isMissingCsvCell,
  parseBoolean,
  parseDateTime,
  parseInteger,
  parseNumber,
} from '../../src/datasets/values.js';

describe('cell values', () => {
  it.each(['', '   ', 'NA', 'na', 'N/A', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None', ' none '])(
    '%j counts as missing',
    (cell) => expect(isMissingCsvCell(cell)).toBe(true),
  );

  it.each(['0', '-', '?', 'nil', 'NAN!', 'nothing', 'false'])('%j is not missing', (cell) =>
    expect(isMissingCsvCell(cell)).toBe(false),
  );

  it('integers are sign and digits only, within the safe range', () => {
    expect(parseInteger('42')).toBe(42);
    expect(parseInteger(' -7 ')).toBe(-7);
    expect(parseInteger('+3')).toBe(3);
    expect(parseInteger('007')).toBe(7);
    expect(parseInteger('1.0')).toBeUndefined();
    expect(parseInteger('1e3')).toBeUndefined();
    expect(parseInteger('9007199254740993')).toBeUndefined();
  });

  it('numbers are decimal or exponent notation, finite', () => {
    expect(parseNumber('3.14')).toBe(3.14);
    expect(parseNumber('-.5')).toBe(-0.5);
    expect(parseNumber('5.')).toBe(5);
    expect(parseNumber('1e-3')).toBe(0.001);
    expect(parseNumber('42')).toBe(42);
    for (const bad of ['Infinity', '0x10', '1,000', '1e999', 'abc', '.', '-', '1.2.3', '']) {
      expect(parseNumber(bad), bad).toBeUndefined();
    }
  });

  it('booleans are true/false/yes/no in any case, not 0/1', () => {
    expect(parseBoolean('TRUE')).toBe(true);
    expect(parseBoolean('yes')).toBe(true);
    expect(parseBoolean('False')).toBe(false);
    expect(parseBoolean('NO')).toBe(false);
    expect(parseBoolean('1')).toBeUndefined();
    expect(parseBoolean('t')).toBeUndefined();
  });

  it('datetimes are ISO 8601, read as UTC when they have no offset', () => {
    expect(parseDateTime('2024-01-05')).toBe(Date.UTC(2024, 0, 5));
    expect(parseDateTime('2024-01-05T10:00')).toBe(Date.UTC(2024, 0, 5, 10));
    expect(parseDateTime('2024-01-05 10:00')).toBe(Date.UTC(2024, 0, 5, 10));
    expect(parseDateTime('2024-01-05T10:00:00Z')).toBe(Date.UTC(2024, 0, 5, 10));
    expect(parseDateTime('2024-01-05T10:00:30.25')).toBe(Date.UTC(2024, 0, 5, 10, 0, 30, 250));
    expect(parseDateTime('2024-01-05T10:00:00.123456789Z')).toBe(Date.UTC(2024, 0, 5, 10, 0, 0, 123));
    expect(parseDateTime('2024-01-05T12:00:00+02:00')).toBe(Date.UTC(2024, 0, 5, 10));
    expect(parseDateTime('2024-01-05T05:00:00-0500')).toBe(Date.UTC(2024, 0, 5, 10));
    expect(parseDateTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDateTime('0001-01-01')).toBe(Date.UTC(2000, 0, 1) - 730_119 * 86_400_000);
  });

  it.each([
    '2023-02-29',
    '2024-13-01',
    '2024-01-32',
    '2024-01-05T24:00',
    '2024-1-5',
    '05/01/2024',
    '2024',
    '2024-01-05Z',
  ])('%j is not a datetime', (cell) => expect(parseDateTime(cell)).toBeUndefined());
});
