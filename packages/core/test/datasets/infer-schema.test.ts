import { describe, expect, it } from 'vitest';
import {
  categoricalLimit,
  createColumnProfiler,
  inferColumns,
  profileCsv,
} from '../../src/datasets/infer-schema.js';
import type { ColumnInfo } from '../../src/domain/types.js';
import { fixture } from './helpers.js';

const column = (columns: ColumnInfo[], name: string): ColumnInfo => {
  const found = columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
};

/** Infers one column from its cells. */
const infer = (cells: string[]): ColumnInfo =>
  inferColumns(
    ['x'],
    cells.map((c) => [c]),
  )[0] as ColumnInfo;

describe('type inference on the shared datasets', () => {
  it('iris: four number columns and a categorical species with three categories', async () => {
    const profile = await profileCsv(fixture('iris.csv'));
    expect(profile.rows).toBe(150);
    expect(profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['sepal_length_cm', 'number'],
      ['sepal_width_cm', 'number'],
      ['petal_length_cm', 'number'],
      ['petal_width_cm', 'number'],
      ['species', 'categorical'],
    ]);
    const species = column(profile.columns, 'species');
    expect(species.categories).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(species.distinctCount).toBe(3);
    expect(column(profile.columns, 'sepal_length_cm')).toMatchObject({ min: 4.3, max: 7.9, nullCount: 0 });
  });

  it('wine: thirteen numeric columns (magnesium and proline are integers) and a categorical cultivar', async () => {
    const profile = await profileCsv(fixture('wine.csv'));
    expect(profile.rows).toBe(178);
    expect(profile.columns).toHaveLength(14);
    expect(column(profile.columns, 'magnesium').type).toBe('integer');
    expect(column(profile.columns, 'proline').type).toBe('integer');
    expect(column(profile.columns, 'alcohol').type).toBe('number');
    expect(column(profile.columns, 'od280/od315_of_diluted_wines').type).toBe('number');
    expect(column(profile.columns, 'cultivar')).toMatchObject({
      type: 'categorical',
      categories: ['class_0', 'class_1', 'class_2'],
    });
  });

  it('breast_cancer: thirty number columns and a two-category diagnosis', async () => {
    const profile = await profileCsv(fixture('breast_cancer.csv'));
    expect(profile.rows).toBe(569);
    const numeric = profile.columns.filter((c) => c.type === 'number' || c.type === 'integer');
    expect(numeric).toHaveLength(30);
    expect(column(profile.columns, 'diagnosis')).toMatchObject({
      type: 'categorical',
      categories: ['benign', 'malignant'],
      distinctCount: 2,
    });
  });

  it('diabetes: integer and number columns, integer target with its range', async () => {
    const profile = await profileCsv(fixture('diabetes.csv'));
    expect(profile.rows).toBe(442);
    expect(column(profile.columns, 'age').type).toBe('integer');
    expect(column(profile.columns, 'sex')).toMatchObject({
      type: 'integer',
      distinctCount: 2,
      min: 1,
      max: 2,
    });
    expect(column(profile.columns, 'bmi').type).toBe('number');
    expect(column(profile.columns, 'progression').type).toBe('integer');
    expect(profile.columns.every((c) => c.nullCount === 0)).toBe(true);
  });
});

describe('type inference on synthetic columns', () => {
  it('true/false/yes/no in any case is boolean', () => {
    expect(infer(['true', 'False', 'YES', 'no', 'true'])).toMatchObject({
      type: 'boolean',
      distinctCount: 2,
    });
  });

  it('0/1 stays integer', () => {
    expect(infer(['0', '1', '1', '0'])).toMatchObject({ type: 'integer', min: 0, max: 1, distinctCount: 2 });
  });

  it('digits only is integer; one decimal point makes it number', () => {
    expect(infer(['1', '-2', '30'])).toMatchObject({ type: 'integer', min: -2, max: 30 });
    expect(infer(['1', '2.5', '3'])).toMatchObject({ type: 'number', min: 1, max: 3 });
    expect(infer(['1', '1.0'])).toMatchObject({ type: 'number', distinctCount: 1 });
    expect(infer(['1e3', '2E-2'])).toMatchObject({ type: 'number', min: 0.02, max: 1000 });
  });

  it('ISO dates and date-times are datetime with min/max in epoch ms', () => {
    expect(infer(['2024-01-05', '2024-01-05T10:00:00Z', '2024-01-05 10:00', '2023-12-31'])).toMatchObject({
      type: 'datetime',
      distinctCount: 3,
      min: Date.UTC(2023, 11, 31),
      max: Date.UTC(2024, 0, 5, 10),
    });
  });

  it('a non-ISO date makes a datetime column categorical', () => {
    expect(infer(['2024-01-05', '01/06/2024']).type).toBe('categorical');
  });

  it('a non-numeric value in a numeric-looking column makes it categorical, or string when many distinct', () => {
    const mostlyNumbers = Array.from({ length: 200 }, (_, i) => String(i % 10));
    expect(infer([...mostlyNumbers, '?'])).toMatchObject({ type: 'categorical', distinctCount: 11 });
    const manyNumbers = Array.from({ length: 200 }, (_, i) => String(i));
    expect(infer([...manyNumbers, 'abc'])).toMatchObject({ type: 'string', distinctCount: 201 });
  });

  it('few distinct strings are categorical with sorted categories; many are string', () => {
    const colors = ['red', 'green', 'blue', 'green', 'Red'];
    expect(infer(colors)).toMatchObject({
      type: 'categorical',
      distinctCount: 4,
      categories: ['Red', 'blue', 'green', 'red'],
    });
    const ids = Array.from({ length: 100 }, (_, i) => `user-${i}`);
    expect(infer(ids)).toMatchObject({ type: 'string', distinctCount: 100 });
    expect(infer(ids).categories).toBeUndefined();
  });

  it('the categorical limit is max(50, 5% of non-missing values), at most 256', () => {
    expect(categoricalLimit(10)).toBe(50);
    expect(categoricalLimit(2000)).toBe(100);
    expect(categoricalLimit(1_000_000)).toBe(256);
    const values = (distinct: number, rows: number): string[] =>
      Array.from({ length: rows }, (_, i) => `v${i % distinct}`);
    expect(infer(values(100, 2000)).type).toBe('categorical');
    expect(infer(values(101, 2000)).type).toBe('string');
  });

  it('categorical values are trimmed', () => {
    expect(infer([' a', 'a ', 'b'])).toMatchObject({ type: 'categorical', categories: ['a', 'b'] });
  });

  it('missing markers count as nulls and take no part in typing', () => {
    const info = infer(['1', '', 'NA', 'n/a', 'NaN', 'NULL', 'none', '3']);
    expect(info).toMatchObject({ type: 'integer', nullCount: 6, distinctCount: 2, min: 1, max: 3 });
  });

  it('an all-missing column is kept as string with nullCount = rows and no distinct values', () => {
    expect(infer(['', 'NA', 'null'])).toEqual({ name: 'x', type: 'string', nullCount: 3, distinctCount: 0 });
  });

  it('a one-row column is typed from its one value', () => {
    expect(infer(['5'])).toMatchObject({ type: 'integer', min: 5, max: 5 });
    expect(infer(['hello'])).toMatchObject({ type: 'categorical', categories: ['hello'] });
  });

  it('distinct values are exact up to 10,000, then estimated within a few percent', () => {
    const profiler = createColumnProfiler(['id', 'mod']);
    for (let i = 0; i < 50_000; i++) profiler.add([`id-${i}`, String(i % 7)]);
    const [id, mod] = profiler.finish() as [ColumnInfo, ColumnInfo];
    expect(profiler.rows).toBe(50_000);
    expect(id.type).toBe('string');
    expect(id.distinctCount).toBeGreaterThan(50_000 * 0.95);
    expect(id.distinctCount).toBeLessThan(50_000 * 1.05);
    expect(mod).toMatchObject({ type: 'integer', distinctCount: 7 });

    const exact = createColumnProfiler(['id']);
    for (let i = 0; i < 10_000; i++) exact.add([`id-${i}`]);
    expect(exact.finish()[0]?.distinctCount).toBe(10_000);
  });
});
