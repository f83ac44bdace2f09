import { describe, expect, it } from 'vitest';
import { parseJobLine } from '../src/jobs.js';

describe('job lines', () => {
  it('a JSON object of features is a record job; its id is echoed', () => {
    expect(parseJobLine('{"id": 7, "a": 1}', 3)).toEqual({
      kind: 'record',
      line: 3,
      id: 7,
      row: { id: 7, a: 1 },
    });
    expect(parseJobLine('{"a": 1}', 1)).toEqual({ kind: 'record', line: 1, row: { a: 1 } });
  });

  it('an object with rows is a batch job of records or number arrays', () => {
    expect(parseJobLine('{"id": "b", "rows": [{"a": 1}, {"a": 2}]}', 2)).toEqual({
      kind: 'batch',
      line: 2,
      id: 'b',
      rows: [{ a: 1 }, { a: 2 }],
    });
    expect(parseJobLine('{"rows": [[1, 2], [3, 4]]}', 1)).toMatchObject({
      kind: 'batch',
      rows: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  it('blank lines are skipped', () => {
    expect(parseJobLine('   ', 1)).toBeNull();
  });

  it('bad lines become invalid jobs that say why, keeping the id when there is one', () => {
    expect(parseJobLine('{not json', 4)).toMatchObject({
      kind: 'invalid',
      line: 4,
      error: /line 4 is not valid JSON/,
    });
    expect(parseJobLine('[1, 2]', 5)).toMatchObject({ kind: 'invalid', error: /must be a JSON object/ });
    expect(parseJobLine('{"id": "x", "rows": []}', 6)).toMatchObject({
      kind: 'invalid',
      id: 'x',
      error: /non-empty/,
    });
    expect(parseJobLine('{"rows": [{"a": 1}, [1]]}', 7)).toMatchObject({
      kind: 'invalid',
      error: /only records/,
    });
    expect(parseJobLine('{"rows": [{"a": 1}], "b": 2}', 8)).toMatchObject({
      kind: 'invalid',
      error: /unexpected key/,
    });
  });
});
