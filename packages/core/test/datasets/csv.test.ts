import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/datasets/csv.js';
import type { CsvSource } from '../../src/datasets/csv.js';
import { chunked, expectRegistryError } from './helpers.js';

async function rowsOf(source: CsvSource): Promise<{ columns: string[]; rows: string[][]; lines: number[] }> {
  const rows: string[][] = [];
  const lines: number[] = [];
  const result = await readCsv(source, {
    onRow: (fields, line) => {
      rows.push([...fields]);
      lines.push(line);
    },
  });
  return { columns: result.columns, rows, lines };
}

const sha = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

describe('readCsv: accepted input', () => {
  it('reads a header row and data rows with their line numbers', async () => {
    const { columns, rows, lines } = await rowsOf('a,b\n1,2\n3,4\n');
    expect(columns).toEqual(['a', 'b']);
    expect(rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(lines).toEqual([2, 3]);
  });

  it('hashes and counts the raw bytes', async () => {
    const text = '\uFEFFa,b\r\n1,2\r\n';
    const result = await readCsv(text);
    expect(result.size).toBe(Buffer.byteLength(text));
    expect(result.sha256).toBe(sha(text));
    expect(result.rows).toBe(1);
  });

  it('strips a byte-order mark from the first column name', async () => {
    const { columns } = await rowsOf(Buffer.from('\uFEFFid,value\n1,2\n'));
    expect(columns).toEqual(['id', 'value']);
  });

  it('reads multi-byte characters after megabytes of ASCII, split across chunks and slices', async () => {
    const ascii = 'id,name\n' + '1,x\n'.repeat(400_000);
    const text = `\uFEFF${ascii}2,café\n3,日本\n`;
    for (const source of [Buffer.from(text), chunked(text, 65_537)]) {
      const { columns, rows } = await rowsOf(source);
      expect(columns).toEqual(['id', 'name']);
      expect(rows).toHaveLength(400_002);
      expect(rows.slice(-2)).toEqual([
        ['2', 'café'],
        ['3', '日本'],
      ]);
    }
  });

  it('strips a byte-order mark that arrives split across chunks', async () => {
    for (const size of [1, 2, 4]) {
      const { columns, rows } = await rowsOf(chunked('\uFEFFid,value\n1,é\n', size));
      expect(columns, `chunk size ${size}`).toEqual(['id', 'value']);
      expect(rows).toEqual([['1', 'é']]);
    }
  });

  it('accepts CRLF line ends without leaving \\r in the last field', async () => {
    const { rows } = await rowsOf('a,b\r\n1,x\r\n2,y\r\n');
    expect(rows).toEqual([
      ['1', 'x'],
      ['2', 'y'],
    ]);
  });

  it('accepts CRLF split across chunks, also after a quoted last field', async () => {
    const text = 'a,b\r\n1,"x"\r\n2,"y"\r\n';
    for (const size of [1, 2, 3, 5, 7]) {
      const { rows } = await rowsOf(chunked(text, size));
      expect(rows, `chunk size ${size}`).toEqual([
        ['1', 'x'],
        ['2', 'y'],
      ]);
    }
  });

  it('accepts old Mac \\r line ends', async () => {
    expect((await rowsOf('a,b\r1,2\r3,4')).rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('keeps quoted newlines, delimiters and escaped quotes in a field, and counts lines across them', async () => {
    const text = 'id,text\n1,"line one\nline two"\n2,"a, ""quoted"" word"\n3,plain\n';
    const { rows, lines } = await rowsOf(text);
    expect(rows).toEqual([
      ['1', 'line one\nline two'],
      ['2', 'a, "quoted" word'],
      ['3', 'plain'],
    ]);
    expect(lines).toEqual([2, 4, 5]);
  });

  it('gives the same rows whatever the chunking, multi-byte characters split included', async () => {
    const text = 'name,city\n"Zoë\nSmith",Zürich\nÅsa,"Malmö, SE"\n李,北京\n';
    const whole = await rowsOf(text);
    for (const size of [1, 2, 3, 4, 7, 16]) expect(await rowsOf(chunked(text, size))).toEqual(whole);
  });

  it('reads a Node Readable, including one that emits strings', async () => {
    const bytes = await rowsOf(Readable.from([Buffer.from('a,b\n1,'), Buffer.from('2\n')]));
    const strings = await rowsOf(Readable.from(['a,b\n1,', '2\n'], { objectMode: true }));
    expect(bytes.rows).toEqual([['1', '2']]);
    expect(strings.rows).toEqual([['1', '2']]);
  });

  it('skips blank lines, also before the header and at the end', async () => {
    const { columns, rows, lines } = await rowsOf('\n\na,b\n1,2\n\n3,4\n\n\n');
    expect(columns).toEqual(['a', 'b']);
    expect(rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(lines).toEqual([4, 6]);
  });

  it('accepts a file without a final line break and a one-row file', async () => {
    expect((await rowsOf('a,b\n1,2')).rows).toEqual([['1', '2']]);
  });

  it('trims header names', async () => {
    expect((await rowsOf(' a , b\n1,2\n')).columns).toEqual(['a', 'b']);
  });

  it('tees every byte to the sink, in order', async () => {
    const text = 'a,b\n1,2\n3,4\n';
    const parts: Uint8Array[] = [];
    await readCsv(chunked(text, 3), { sink: async (chunk) => void parts.push(Buffer.from(chunk)) });
    expect(Buffer.concat(parts).toString('utf8')).toBe(text);
  });
});

describe('readCsv: rejected input is INVALID_ARGUMENT naming the line', () => {
  it.each([
    ['an empty file', '', /the file is empty/],
    ['a file of blank lines', '\n\r\n\n', /the file is empty/],
    ['a BOM only', '\uFEFF', /the file is empty/],
    ['a header without data rows', 'a,b,c\n', /header \(line 1\) but no data rows/],
    ['a header without data rows and no line break', 'a,b,c', /no data rows/],
  ])('%s', async (_, text, pattern) => {
    await expectRegistryError(readCsv(text), 'INVALID_ARGUMENT', pattern);
  });

  it('a row with too many fields names its line', async () => {
    const error = await expectRegistryError(
      readCsv('a,b\n1,2\n3,4,5\n'),
      'INVALID_ARGUMENT',
      /line 3: row has 3 fields but the header has 2 columns/,
    );
    expect(error.details).toMatchObject({ line: 3, fields: 3, columns: 2 });
    expect(error.message).toMatch(/^\[modelreg\] \[datasets\] /);
  });

  it('a row with too few fields names its line, counting quoted newlines before it', async () => {
    await expectRegistryError(
      readCsv('a,b\n1,"x\ny"\n2\n'),
      'INVALID_ARGUMENT',
      /line 4: row has 1 field but the header has 2 columns/,
    );
  });

  it('a ragged row deep in a chunked stream names its line', async () => {
    const body = `a,b\n${'1,2\n'.repeat(50_000)}oops\n`;
    await expectRegistryError(
      readCsv(chunked(body, 4096)),
      'INVALID_ARGUMENT',
      /line 50002: row has 1 field/,
    );
  });

  it('duplicate column names are named with their positions', async () => {
    await expectRegistryError(
      readCsv('id,x,y,x,id\n1,2,3,4,5\n'),
      'INVALID_ARGUMENT',
      /line 1: duplicate column names: "x" \(columns 2 and 4\), "id" \(columns 1 and 5\)/,
    );
  });

  it('an empty column name becomes unnamed_<index>, as pandas reads its index column back', async () => {
    const result = await readCsv(',a,b\n0,1,2\n');
    expect(result.columns).toEqual(['unnamed_0', 'a', 'b']);
    expect((await readCsv('a, ,b\n0,1,2\n')).columns).toEqual(['a', 'unnamed_1', 'b']);
  });

  it('an unclosed quote names the line where its row starts', async () => {
    await expectRegistryError(
      readCsv('a,b\n1,2\n3,"never closed\n4,5\n'),
      'INVALID_ARGUMENT',
      /line 3: a quoted field is never closed/,
    );
  });

  it('a malformed quoted field names its line', async () => {
    await expectRegistryError(
      readCsv('a,b\n1,"x"y\n'),
      'INVALID_ARGUMENT',
      /line 2: a quoted field is malformed/,
    );
  });

  it('bytes that are not UTF-8 are refused', async () => {
    const latin1 = Buffer.from('name\ncaf\xe9\n', 'latin1');
    await expectRegistryError(readCsv(latin1), 'INVALID_ARGUMENT', /not valid UTF-8/);
  });

  it('bytes that are not UTF-8 after megabytes of ASCII are refused, with their offset', async () => {
    const ascii = 'a,b\n' + '1,2\n'.repeat(600_000);
    const bytes = Buffer.concat([Buffer.from(ascii), Buffer.from([0x33, 0xff, 0x2c, 0x34, 0x0a])]);
    const error = await expectRegistryError(readCsv(bytes), 'INVALID_ARGUMENT', /not valid UTF-8/);
    expect((error.details as { byte: number }).byte).toBeGreaterThanOrEqual(2 ** 21);
  });

  it('a source that fails while streaming is INVALID_ARGUMENT with the cause', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a,b\n1,2\n');
      throw new Error('socket hang up');
    }
    const error = await expectRegistryError(
      readCsv(failing()),
      'INVALID_ARGUMENT',
      /reading the body failed: socket hang up/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('a body of the wrong type is INVALID_ARGUMENT', async () => {
    await expectRegistryError(readCsv(42 as unknown as CsvSource), 'INVALID_ARGUMENT');
  });
});

describe('readCsv: expected sha256 and size', () => {
  const text = 'a,b\n1,2\n3,4\n';

  it('passes when the bytes match', async () => {
    await expect(
      readCsv(text, { expected: { sha256: sha(text), size: text.length } }),
    ).resolves.toMatchObject({
      rows: 2,
    });
  });

  it('is INTEGRITY when the bytes differ, even when they also fail to parse', async () => {
    const expected = { sha256: sha(text), size: text.length };
    await expectRegistryError(readCsv('a,b\n1,2\n3,4,\n', { expected }), 'INTEGRITY', /do not match/);
    await expectRegistryError(readCsv('a,b\n1,2\n3,5\n', { expected }), 'INTEGRITY');
  });
});
