import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import {
  encodeTable,
  fitFeatureSpecs,
  MISSING_CATEGORY,
  selectFeatures,
} from '../../src/formats/features.js';
import { encodeTarget, inferTask } from '../../src/training/task.js';
import { tableFromRows } from './helpers.js';

const rows = Array.from({ length: 12 }, (_, i) => ({
  id: i + 1,
  'Unnamed: 0': i,
  customerId: 100 + i,
  user_id: 7 * i,
  n: 1000 - i,
  email: `user${i}@example.com`,
  signup: 1_700_000_000_000 + i * 86_400_000,
  note: `free text ${i % 3}`,
  color: ['red', 'green', 'blue', null][i % 4]!,
  flag: i % 3 === 0,
  size: i === 5 ? null : i * 1.5,
  empty: null,
  y: i % 2 === 0 ? 'a' : 'b',
}));
const types = { signup: 'datetime', note: 'string', empty: 'number' } as const;

describe('feature selection', () => {
  const table = tableFromRows(rows, types);

  it('default features are the usable columns but the target, leaving out datetime, free text, id-like and empty columns', () => {
    const { features, excluded } = selectFeatures(table, 'y');
    expect(features).toEqual(['color', 'flag', 'size']);
    const reasons = Object.fromEntries(excluded.map((e) => [e.name, e.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      ['Unnamed: 0', 'customerId', 'email', 'empty', 'id', 'n', 'note', 'signup', 'user_id'].sort(),
    );
    expect(reasons.signup).toMatch(/datetime/);
    expect(reasons.note).toMatch(/free-text/);
    expect(reasons.id).toMatch(/name/);
    expect(reasons.n).toMatch(/in order/);
    expect(reasons.email).toMatch(/distinct/);
    expect(reasons.empty).toMatch(/no values/);
  });

  it('columns named explicitly are used even when id-like or datetime', () => {
    expect(selectFeatures(table, 'y', ['id', 'signup']).features).toEqual(['id', 'signup']);
  });

  it('an unknown feature, the target as a feature, or no usable column is INVALID_ARGUMENT', () => {
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (e) {
        return isRegistryError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(codeOf(() => selectFeatures(table, 'y', ['nope']))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => selectFeatures(table, 'y', ['y']))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => selectFeatures(table, 'y', []))).toBe('INVALID_ARGUMENT');
    const onlyIds = tableFromRows(rows.map((r) => ({ id: r.id, y: r.y })));
    expect(() => selectFeatures(onlyIds, 'y')).toThrow(/no usable feature columns.*id: its name/);
  });

  it('value-based id detection leaves tables under 10 rows alone', () => {
    const small = tableFromRows([1, 2, 3, 4].map((x) => ({ x, y: x * 2 })));
    expect(selectFeatures(small, 'y').features).toEqual(['x']);
  });
});

describe('feature encoding', () => {
  const table = tableFromRows(rows, types);
  const all = Array.from({ length: table.rowCount }, (_, i) => i);

  it('categories get ordinal codes by sorted category and missing values the __missing__ code', () => {
    const [color] = fitFeatureSpecs(table, ['color'], all, all);
    expect(color).toEqual({
      name: 'color',
      type: 'categorical',
      categories: ['blue', 'green', 'red'],
      fill: 3,
    });
    const x = encodeTable(table, [color!], [0, 1, 2, 3]);
    expect(Array.from(x)).toEqual([2, 1, 0, 3]);
    expect(MISSING_CATEGORY).toBe('__missing__');
  });

  it('booleans become 0/1 and missing numbers the median of the training rows', () => {
    const train = [0, 1, 2, 3, 4, 5]; // sizes 0, 1.5, 3, 4.5, 6, null -> median 3
    const specs = fitFeatureSpecs(table, ['flag', 'size'], all, train);
    expect(specs[1]).toEqual({ name: 'size', type: 'number', fill: 3 });
    const x = encodeTable(table, specs, [0, 1, 5]);
    expect(Array.from(x)).toEqual([1, 0, 0, 1.5, 0, 3]);
  });

  it('the median fill is the sorted middle, for odd and even counts, ties, sorted runs and -0', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const columns: number[][] = [
      [5, 1, 4, 2, 3],
      [1, 2, 3, 4, 5, 6],
      [6, 5, 4, 3, 2, 1],
      [2, 2, 2, 2],
      [-0, 0, -0],
      [7],
    ];
    for (let c = 0; c < 40; c++) {
      const n = 1 + Math.floor(next() * 300);
      const distinct = 1 + Math.floor(next() * (c % 2 === 0 ? 5 : 1000));
      columns.push(Array.from({ length: n }, () => Math.floor(next() * distinct) - distinct / 2));
    }
    for (const values of columns) {
      const column = tableFromRows(
        values.map((v) => ({ v })),
        {},
      );
      const positions = values.map((_, i) => i);
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const expected = (sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2) + 0;
      const spec = fitFeatureSpecs(column, ['v'], positions, positions)[0]!;
      expect(spec.fill, JSON.stringify(values)).toBe(expected);
    }
  });

  it('a numeric feature without training values falls back to 0', () => {
    expect(fitFeatureSpecs(table, ['empty'], all, all)[0]).toEqual({
      name: 'empty',
      type: 'number',
      fill: 0,
    });
  });
});

describe('task inference', () => {
  it('strings and booleans are classification', () => {
    expect(inferTask(['a', 'b', null])).toBe('classification');
    expect(inferTask([true, false])).toBe('classification');
  });

  it('integers with at most 2 values, or at most 20 values and 5% of rows, are classification', () => {
    const binary = Array.from({ length: 30 }, (_, i) => i % 2);
    expect(inferTask(binary)).toBe('classification');
    const ratings = Array.from({ length: 100 }, (_, i) => i % 5);
    expect(inferTask(ratings)).toBe('classification');
    expect(inferTask(ratings.slice(0, 60))).toBe('regression');
    expect(inferTask(Array.from({ length: 1000 }, (_, i) => i % 21))).toBe('regression');
  });

  it('fractions are regression', () => {
    expect(inferTask([0.5, 1, 1.5, 0.5])).toBe('regression');
  });

  it('classes are sorted (numbers numerically) and keep their type; rows without a target are dropped', () => {
    const t = tableFromRows([{ y: 10 }, { y: 9 }, { y: null }, { y: 10 }, { y: 2 }]);
    const enc = encodeTarget(t, 'y', 'classification');
    expect(enc.classes).toEqual([2, 9, 10]);
    expect(enc.rows).toEqual([0, 1, 3, 4]);
    expect(Array.from(enc.y)).toEqual([2, 1, 2, 0]);
    expect(enc.droppedRows).toBe(1);
  });

  it('a single-class target is INVALID_ARGUMENT naming the class', () => {
    const t = tableFromRows([{ y: 'a' }, { y: 'a' }]);
    expect(() => encodeTarget(t, 'y')).toThrow(
      'target "y" has a single class "a"; classification needs at least two',
    );
  });
});
