import { describe, expect, it } from 'vitest';
import { normalizeDatasetName } from '../../src/datasets/normalize-name.js';
import { isRegistryError } from '../../src/errors.js';

describe('normalizeDatasetName', () => {
  it.each([
    ['My DataSet.csv', 'my_dataset'],
    ['iris.csv', 'iris'],
    ['IRIS.CSV', 'iris'],
    ['data/raw/Iris (v2).csv', 'iris_v2'],
    ['C:\\Users\\me\\Sales 2024.tsv', 'sales_2024'],
    ['notes.txt', 'notes'],
    ['archive.csv.gz', 'archive.csv.gz'],
    ['weather-daily_v1.2.csv', 'weather-daily_v1.2'],
    ['  spaced   out  .csv', 'spaced_out'],
    ['__hidden__.csv', 'hidden'],
    ['.dotfile.csv', 'dotfile'],
    ['Données météo.csv', 'donnees_meteo'],
    ['already_normal', 'already_normal'],
  ])('%j becomes %j', (input, expected) => {
    expect(normalizeDatasetName(input)).toBe(expected);
  });

  it('only strips one known extension', () => {
    expect(normalizeDatasetName('table.json')).toBe('table.json');
  });

  it.each(['', '.csv', '???.csv', '日本語.csv', 'dir/', '...'])(
    'rejects %j with INVALID_ARGUMENT naming the input',
    (input) => {
      let caught: unknown;
      try {
        normalizeDatasetName(input);
      } catch (error) {
        caught = error;
      }
      expect(isRegistryError(caught, 'INVALID_ARGUMENT')).toBe(true);
      expect((caught as Error).message).toContain(JSON.stringify(input));
    },
  );

  it('rejects names longer than 128 characters after normalization', () => {
    expect(() => normalizeDatasetName(`${'a'.repeat(129)}.csv`)).toThrow(/at most 128/);
    expect(normalizeDatasetName(`${'a'.repeat(128)}.csv`)).toBe('a'.repeat(128));
  });

  it('rejects a non-string input', () => {
    expect(() => normalizeDatasetName(42 as unknown as string)).toThrow(/must be a string/);
  });
});
