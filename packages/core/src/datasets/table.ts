import type { ColumnInfo, ColumnType } from '../domain/types.js';
import type { Cell, DataTable } from '../domain/table.js';
import { RegistryError } from '../errors.js';
import { readCsv } from './csv.js';
import type { CsvReadOptions, CsvSource } from './csv.js';
import { booleanOf, dateTimeOf, integerOf, isMissingText, numberOf } from './values.js';

/** Converts a cell, given trimmed and as written; `undefined` when it does not fit. */
type Converter = (text: string, cell: string) => Cell | undefined;

const converters: Record<ColumnType, Converter> = {
  integer: integerOf,
  number: numberOf,
  boolean: booleanOf,
  datetime: dateTimeOf,
  categorical: (text) => text,
  string: (_, cell) => cell,
};

/**
 * Reads a CSV into a typed, column-major {@link DataTable} using known column types (normally the
 * ones recorded when the dataset was uploaded). Missing cells (see `isMissing`) become `null`;
 * `integer`/`number` cells become numbers, `boolean` cells booleans, `datetime` cells epoch
 * milliseconds, `categorical` cells their trimmed text and `string` cells their text as written.
 *
 * Throws `INVALID_ARGUMENT` when the header does not name exactly `columns` in order, or a cell
 * does not fit its column's type (naming line and column), plus every error of `readCsv`
 * (`INTEGRITY` when `expected` is given and the bytes differ).
 */
export async function loadTable(
  source: CsvSource,
  columns: readonly ColumnInfo[],
  options: Pick<CsvReadOptions, 'label' | 'expected'> = {},
): Promise<DataTable> {
  const label = options.label ?? 'CSV';
  const data: Record<string, Cell[]> = Object.create(null) as Record<string, Cell[]>;
  const arrays = columns.map((c) => {
    const values: Cell[] = [];
    data[c.name] = values;
    return values;
  });
  const convert = columns.map((c): Converter => {
    if (c.type !== 'categorical' || !c.categories) return converters[c.type];
    // Known categories share one string each instead of pinning the parsed text they came from.
    const known = new Map(c.categories.map((category) => [category, category]));
    return (text) => known.get(text) ?? text;
  });
  let rowCount = 0;

  await readCsv(source, {
    ...options,
    onHeader(names) {
      const expected = columns.map((c) => c.name);
      if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
        throw new RegistryError(
          'INVALID_ARGUMENT',
          `${label}: the header (${names.join(', ')}) does not match the expected columns (${expected.join(', ')})`,
          { where: 'datasets' },
        );
      }
    },
    onRow(fields, line) {
      for (let i = 0; i < fields.length; i++) {
        const cell = fields[i] as string;
        const values = arrays[i] as Cell[];
        const text = cell.trim();
        if (isMissingText(text)) {
          values.push(null);
          continue;
        }
        const value = (convert[i] as Converter)(text, cell);
        if (value === undefined) {
          const column = columns[i] as ColumnInfo;
          throw new RegistryError(
            'INVALID_ARGUMENT',
            `${label}: line ${line}, column "${column.name}": ${JSON.stringify(cell.slice(0, 40))} is not a valid ${column.type} value`,
            { where: 'datasets', details: { line, column: column.name, type: column.type } },
          );
        }
        values.push(value);
      }
      rowCount += 1;
    },
  });

  return { columns: columns.map((c) => structuredClone(c)), rowCount, data: { ...data } };
}
