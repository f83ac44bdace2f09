import type { ColumnInfo } from './types.js';

/** One cell of a typed table: numbers for number/integer, booleans, strings for categorical/string, epoch ms for datetime; `null` when missing. */
export type Cell = number | string | boolean | null;

/** A typed, column-major table: what `datasets.load` returns and what training consumes. */
export interface DataTable {
  /** Column metadata in file order. */
  columns: ColumnInfo[];
  /** Number of data rows. */
  rowCount: number;
  /** Values per column name; every array has `rowCount` entries. */
  data: Record<string, Cell[]>;
}
