import { describe, expect, it } from 'vitest';
import { profileCsv } from '../../src/datasets/infer-schema.js';
import { loadTable } from '../../src/datasets/table.js';
import type { ColumnInfo } from '../../src/domain/types.js';
import { chunked, expectRegistryError, fixture } from './helpers.js';

const csv = [
  'id,score,ok,when,color,note',
  '1,2.5,yes,2024-01-05,red,  hello ',
  '2,NA,false,2024-01-05T10:00:00Z, blue,"multi',
  'line"',
  '3,-1e2,,,red,',
].join('\n');

describe('loadTable', () => {
  it('converts cells by their column type and missing cells to null', async () => {
    const { columns } = await profileCsv(csv);
    expect(columns.map((c) => c.type)).toEqual([
      'integer',
      'number',
      'boolean',
      'datetime',
      'categorical',
      'categorical',
    ]);
    const table = await loadTable(chunked(csv, 5), columns);
    expect(table.rowCount).toBe(3);
    expect(table.columns).toEqual(columns);
    expect(table.data).toEqual({
      id: [1, 2, 3],
      score: [2.5, null, -100],
      ok: [true, false, null],
      when: [Date.UTC(2024, 0, 5), Date.UTC(2024, 0, 5, 10), null],
      color: ['red', 'blue', 'red'],
      note: ['hello', 'multi\nline', null],
    });
  });

  it('keeps string cells as written', async () => {
    const columns: ColumnInfo[] = [{ name: 'text', type: 'string', nullCount: 0, distinctCount: 1 }];
    const table = await loadTable('text\n  spaced  \n', columns);
    expect(table.data.text).toEqual(['  spaced  ']);
  });

  it('loads iris with numbers as numbers', async () => {
    const bytes = fixture('iris.csv');
    const table = await loadTable(bytes, (await profileCsv(bytes)).columns);
    expect(table.rowCount).toBe(150);
    expect(table.data.sepal_length_cm?.[0]).toBe(5.1);
    expect(table.data.species?.[0]).toBe('setosa');
    expect(Object.values(table.data).every((values) => values.length === 150)).toBe(true);
  });

  it('a cell that does not fit its column type is INVALID_ARGUMENT naming line and column', async () => {
    const columns: ColumnInfo[] = [
      { name: 'a', type: 'integer', nullCount: 0, distinctCount: 2 },
      { name: 'b', type: 'number', nullCount: 0, distinctCount: 2 },
    ];
    await expectRegistryError(
      loadTable('a,b\n1,2\n2,oops\n', columns),
      'INVALID_ARGUMENT',
      /line 3, column "b": "oops" is not a valid number value/,
    );
  });

  it('a header that differs from the expected columns is INVALID_ARGUMENT', async () => {
    const columns: ColumnInfo[] = [{ name: 'a', type: 'integer', nullCount: 0, distinctCount: 1 }];
    await expectRegistryError(
      loadTable('b\n1\n', columns),
      'INVALID_ARGUMENT',
      /does not match the expected columns/,
    );
  });
});
