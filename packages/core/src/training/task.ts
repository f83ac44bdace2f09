import { invalidArgument } from '../errors.js';
import type { Cell, DataTable } from '../domain/table.js';
import { isEmptyCell } from '../formats/features.js';
import type { Label, Task } from './trainer.js';

/** An integer target is a class label when it has at most this many distinct values... */
export const MAX_INFERRED_CLASSES = 20;
/** ...and at most this share of the rows (or only 2 distinct values). */
export const MAX_INFERRED_CLASS_RATIO = 0.05;

/**
 * Infers the task from the target's (non-missing) values: strings and booleans are
 * classification; integers are classification when they take at most 2 distinct values, or at most
 * 20 distinct values that are also at most 5% of the rows (`0..4` ratings on 100+ rows); anything
 * else (fractions, many distinct integers) is regression. Pass `task` to override.
 */
export function inferTask(values: readonly Cell[]): Task {
  const distinct = new Set<Cell>();
  let n = 0;
  let integers = true;
  for (const v of values) {
    if (isEmptyCell(v)) continue;
    if (typeof v !== 'number') return 'classification';
    if (!Number.isInteger(v)) integers = false;
    // Past a fraction or MAX_INFERRED_CLASSES + 1 values the count no longer matters (hashing 100k doubles took 0.3 s).
    else if (integers && distinct.size <= MAX_INFERRED_CLASSES) distinct.add(v);
    n++;
  }
  if (!integers || n === 0) return 'regression';
  const k = distinct.size;
  return k <= 2 || (k <= MAX_INFERRED_CLASSES && k <= MAX_INFERRED_CLASS_RATIO * n)
    ? 'classification'
    : 'regression';
}

/** Sorts labels: numbers numerically, strings by code unit, `false` before `true`. */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = typeof a === 'boolean' ? Number(a) : a;
  const sb = typeof b === 'boolean' ? Number(b) : b;
  if (typeof sa === typeof sb) return sa < sb ? -1 : sa > sb ? 1 : 0;
  return typeof sa === 'number' ? -1 : 1;
}

export interface EncodedTarget {
  task: Task;
  /** Indices (into the table) of the rows that have a target value, ascending. */
  rows: number[];
  /** Per kept row: the value (regression) or the class index (classification). */
  y: Float64Array;
  /** Classification: the sorted labels; class index `i` is `classes[i]`. */
  classes: Label[] | undefined;
  /** Rows left out because their target is missing. */
  droppedRows: number;
}

/**
 * Reads the target column. Rows whose target is missing (null, empty, NaN) are dropped from
 * training and evaluation. Class labels keep their type (string, number or boolean); when a column
 * mixes strings and other values, every label is converted to a string.
 */
export function encodeTarget(table: DataTable, target: string, task?: Task): EncodedTarget {
  const values = table.data[target];
  if (!values || !table.columns.some((c) => c.name === target)) {
    throw invalidArgument(
      `target ${JSON.stringify(target)} is not a column; columns: ${table.columns.map((c) => c.name).join(', ')}`,
      'train',
      { column: target },
    );
  }
  const rows: number[] = [];
  for (let i = 0; i < table.rowCount; i++) if (!isEmptyCell(values[i])) rows.push(i);
  if (rows.length === 0)
    throw invalidArgument(
      `target ${JSON.stringify(target)} has no values (every row is missing it)`,
      'train',
    );
  const resolved = task ?? inferTask(values);
  const droppedRows = table.rowCount - rows.length;

  if (resolved === 'regression') {
    const y = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      const v = values[r];
      const n = typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
      if (!Number.isFinite(n)) {
        throw invalidArgument(
          `target ${JSON.stringify(target)} must be numeric for regression; row ${r} has ${JSON.stringify(v)}`,
          'train',
          { row: r, column: target },
        );
      }
      y[i] = n;
    });
    return { task: resolved, rows, y, classes: undefined, droppedRows };
  }

  const asString = rows.some((r) => typeof values[r] === 'string');
  const label = (cell: Cell | undefined): Label => (asString ? String(cell) : (cell as Label));
  const classes = [...new Set(rows.map((r) => label(values[r])))].sort(compareLabels);
  if (classes.length < 2) {
    throw invalidArgument(
      `target ${JSON.stringify(target)} has a single class ${JSON.stringify(classes[0])}; classification needs at least two`,
      'train',
      { column: target },
    );
  }
  const index = new Map<Label, number>(classes.map((c, i) => [c, i]));
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    y[i] = index.get(label(values[r]))!;
  });
  return { task: resolved, rows, y, classes, droppedRows };
}
