import type { ColumnInfo } from '../domain/types.js';
import type { Cell, DataTable } from '../domain/table.js';
import { RegistryError } from '../errors.js';
import { readCsv } from './csv.js';
import type { CsvReadOptions, CsvSource } from './csv.js';
import { createColumnProfiler } from './infer-schema.js';
import { cellConverter, isMissingText } from './values.js';
import type { CellConverter as Converter } from './values.js';

/** Per column, the cell converter of its type (known categories share one string each). */
function convertersOf(columns: readonly ColumnInfo[]): Converter[] {
  return columns.map((c): Converter => {
    if (c.type !== 'categorical' || !c.categories) return cellConverter(c.type);
    // Known categories share one string each instead of pinning the parsed text they came from.
    const known = new Map(c.categories.map((category) => [category, category]));
    return (text) => known.get(text) ?? text;
  });
}

function badCell(label: string, where: string, column: ColumnInfo, cell: string): RegistryError {
  return new RegistryError(
    'INVALID_ARGUMENT',
    `${label}: ${where}, column "${column.name}": ${JSON.stringify(cell.slice(0, 40))} is not a valid ${column.type} value`,
    { where: 'datasets', details: { column: column.name, type: column.type } },
  );
}

/**
 * Reads a CSV into a typed, column-major {@link DataTable} using known column types (normally the
 * ones recorded when the dataset was uploaded). Missing cells (see `isMissingCsvCell`) become `null`;
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
  const convert = convertersOf(columns);
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

/** The cell text of a JSON value of an inline record: strings as given, numbers and booleans as `String(v)`, `null` empty. */
function cellText(value: unknown, label: string, row: number, column: string): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new RegistryError(
    'INVALID_ARGUMENT',
    `${label}: row ${row}, column ${JSON.stringify(column)}: expected a string, a finite number, a boolean or null`,
    { where: 'datasets', details: { row, column } },
  );
}

/**
 * Builds a typed table from inline records (`train({ dataset: { rows } })`) with exactly the rules
 * of a CSV (see `createColumnProfiler` and {@link loadTable}): each value is read as the cell text
 * a CSV would hold (`String(value)`; `null` or an absent key is an empty cell), so `{ a: 'NA' }`,
 * `{ a: null }` and an `NA` cell in a file all mean "missing". Columns are the own keys of the
 * records in first-seen order (any name, `__proto__` included).
 */
export function tableFromRecords(
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
  options: { label?: string } = {},
): DataTable {
  const label = options.label ?? 'records';
  const index = new Map<string, number>();
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!index.has(key)) index.set(key, index.size);
  }
  const names = [...index.keys()];
  if (names.length === 0 || rows.length === 0) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `${label}: no columns (give at least one record with a key)`,
      {
        where: 'datasets',
      },
    );
  }
  const texts = rows.map((row, r) => {
    const fields = new Array<string>(names.length).fill('');
    for (const key of Object.keys(row)) {
      fields[index.get(key) as number] = cellText(row[key], label, r, key);
    }
    return fields;
  });
  const profiler = createColumnProfiler(names);
  for (const fields of texts) profiler.add(fields);
  const columns = profiler.finish();
  const convert = convertersOf(columns);
  const data = Object.create(null) as Record<string, Cell[]>;
  columns.forEach((column, j) => {
    const values = new Array<Cell>(texts.length);
    const to = convert[j] as Converter;
    for (let r = 0; r < texts.length; r++) {
      const cell = (texts[r] as string[])[j] as string;
      const text = cell.trim();
      if (isMissingText(text)) {
        values[r] = null;
        continue;
      }
      const value = to(text, cell);
      if (value === undefined) throw badCell(label, `row ${r}`, column, cell);
      values[r] = value;
    }
    data[column.name] = values;
  });
  return { columns, rowCount: rows.length, data: { ...data } };
}
