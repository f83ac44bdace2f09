import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import type { Cell, DataTable } from '../../src/domain/table.js';
import type { ColumnInfo, ColumnType } from '../../src/domain/types.js';

export const DATASETS_DIR = '/work/shared/datasets';

function inferType(values: Cell[]): ColumnType {
  const present = values.filter((v) => v !== null);
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.every((v) => typeof v === 'number')) {
    return present.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
  }
  return 'categorical';
}

/** Builds a DataTable from records; types are inferred (numbers, booleans, other strings categorical) unless given. */
export function tableFromRows(
  rows: Record<string, Cell>[],
  types: Record<string, ColumnType> = {},
): DataTable {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const data: Record<string, Cell[]> = {};
  const columns: ColumnInfo[] = names.map((name) => {
    const values = rows.map((r) => r[name] ?? null);
    data[name] = values;
    const present = values.filter((v) => v !== null);
    return {
      name,
      type: types[name] ?? inferType(values),
      nullCount: values.length - present.length,
      distinctCount: new Set(present).size,
    };
  });
  return { columns, rowCount: rows.length, data };
}

/** A tiny CSV -> DataTable for tests (numbers as numbers, other strings as categorical, empty as null). */
export function tableFromCsv(csv: string, types?: Record<string, ColumnType>): DataTable {
  const parsed = Papa.parse<Record<string, unknown>>(csv.trim(), { header: true, skipEmptyLines: true });
  const rows = parsed.data.map((r) => {
    const out: Record<string, Cell> = {};
    for (const [k, raw] of Object.entries(r)) {
      const s = String(raw ?? '').trim();
      out[k] =
        s === ''
          ? null
          : s === 'true' || s === 'false'
            ? s === 'true'
            : Number.isFinite(Number(s))
              ? Number(s)
              : s;
    }
    return out;
  });
  return tableFromRows(rows, types);
}

const cache = new Map<string, DataTable>();

/** One of the shared datasets (iris, wine, breast_cancer, diabetes). */
export function loadDataset(name: string): DataTable {
  let table = cache.get(name);
  if (!table) {
    table = tableFromCsv(readFileSync(`${DATASETS_DIR}/${name}.csv`, 'utf8'));
    cache.set(name, table);
  }
  return table;
}

/** The last column of a shared dataset, which is its target. */
export const targetOf = (table: DataTable): string => table.columns[table.columns.length - 1]!.name;
