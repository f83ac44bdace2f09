import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCsvRecords } from '../../src/datasets/csv.js';
import { tableFromRecords } from '../../src/datasets/table.js';
import { DEFAULT_VALUE_RULES, INVALID, valueReader } from '../../src/datasets/values.js';
import { isRegistryError } from '../../src/errors.js';
import type { ModelManifest } from '../../src/formats/manifest.js';
import { parseManifest } from '../../src/formats/manifest.js';
import { loadNativeModel } from '../../src/formats/native/native-model.js';
import { createNativePredictor } from '../../src/serving/predictor.js';
import { fitModel } from '../../src/training/fit.js';
import { createTrainerRegistry } from '../../src/training/trainer.js';
import { decisionTreeTrainer } from '../../src/training/trainers/index.js';
import { createInputEncoder, encodeInput } from '../../src/serving/signature.js';
import type { FeatureSpec } from '../../src/formats/features.js';
import { openMemoryRegistry } from '../registry/helpers.js';

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;

function errorOf(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    if (isRegistryError(e)) return { code: e.code, message: e.message, details: e.details };
    return { message: String(e) };
  }
  return { message: 'no error' };
}

describe('valueReader: the one reading of cell text and JSON values', () => {
  it('missing: null, undefined, NaN, empty or whitespace text and the NA markers in any case', () => {
    for (const type of ['number', 'integer', 'datetime', 'boolean', 'categorical'] as const) {
      const read = valueReader(type);
      for (const v of [null, undefined, Number.NaN, '', '  ', 'NA', 'n/a', 'N/A', 'NaN', 'null', 'None']) {
        expect(read(v), `${type} ${String(v)}`).toBeNull();
      }
    }
  });

  it('booleans: true/false/yes/no in any case, and 0/1 as numbers or text', () => {
    const read = valueReader('boolean');
    for (const v of [true, 'true', ' TRUE ', 'yes', 'Yes', 1, '1']) expect(read(v), String(v)).toBe(true);
    for (const v of [false, 'false', 'No', 'no', 0, '0']) expect(read(v), String(v)).toBe(false);
    for (const v of ['y', 'on', 2, {}]) expect(read(v), String(v)).toBe(INVALID);
  });

  it('numbers: numbers, and decimal or exponent text; nothing else', () => {
    const read = valueReader('number');
    expect(read(5.1)).toBe(5.1);
    expect(read(' 5.1 ')).toBe(5.1);
    expect(read('-1e3')).toBe(-1000);
    for (const v of ['1,000', '0x10', 'Infinity', 'abc', true]) expect(read(v), String(v)).toBe(INVALID);
  });

  it('datetimes without an offset are UTC; with an offset they are that instant; epoch ms and Dates pass', () => {
    const read = valueReader('datetime');
    const noon = Date.UTC(2024, 2, 10, 12, 0);
    expect(read('2024-03-10 12:00')).toBe(noon);
    expect(read('2024-03-10T12:00:00Z')).toBe(noon);
    expect(read('2024-03-10T14:00:00+02:00')).toBe(noon);
    expect(read('2024-03-10')).toBe(Date.UTC(2024, 2, 10));
    expect(read(noon)).toBe(noon);
    expect(read(String(noon))).toBe(noon);
    expect(read(new Date(noon))).toBe(noon);
    expect(read('March 10, 2024')).toBe(INVALID);
    expect(read(new Date(Number.NaN))).toBe(INVALID);
  });

  it('categories are trimmed text; numbers and booleans are compared as String(value)', () => {
    const read = valueReader('categorical');
    expect(read(' red ')).toBe('red');
    expect(read(3)).toBe('3');
    expect(read(true)).toBe('true');
    expect(read({})).toBe(INVALID);
  });

  it('the missing markers come from the rules given', () => {
    const read = valueReader('number', { version: 1, missing: ['?', 'missing'] });
    expect(read('?')).toBeNull();
    expect(read('MISSING')).toBeNull();
    expect(read('NA')).toBe(INVALID);
    expect(read('')).toBeNull();
  });
});

const specs: FeatureSpec[] = [
  { name: 'when', type: 'datetime', fill: 0 },
  { name: 'flag', type: 'boolean', fill: 1 },
  { name: 'size', type: 'number', fill: 2.5 },
  { name: 'color', type: 'categorical', categories: ['blue', 'red'], fill: 2 },
];

describe('createInputEncoder: every predict form reads values alike', () => {
  const encode = createInputEncoder(specs);
  const csv = [
    'when,flag,size,color',
    '2024-03-10 12:00,yes,NA,red',
    '2024-03-10T14:00:00+02:00,No,N/A,',
    ',TRUE,  ,n/a',
    '2024-03-10T12:00:00Z,false,7,blue',
  ].join('\n');
  const noon = Date.UTC(2024, 2, 10, 12);
  const expected = [noon, 1, 2.5, 1, noon, 0, 2.5, 2, 0, 1, 2.5, 2, noon, 0, 7, 0];

  it('{ csv } reads NA / N/A / empty cells as missing, yes/no booleans, UTC datetimes', () => {
    expect([...encode({ csv }).x]).toEqual(expected);
  });

  it('string records from that CSV encode exactly like the CSV', () => {
    expect([...encode(readCsvRecords(csv)).x]).toEqual(expected);
  });

  it('a CSV error names the row and the column; an unknown category is named as such', () => {
    const e = errorOf(() => encode({ csv: 'when,flag,size,color\n2024-03-10,maybe,1,red' }));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', details: { row: 0, column: 'flag', line: 2 } });
    expect(errorOf(() => encode([{ when: null, flag: null, size: null, color: 'green' }])).message).toContain(
      'unknown category "green"',
    );
  });

  it('a header-only CSV is zero rows; a CSV without a feature column is refused naming it', () => {
    expect(encode({ csv: 'when,flag,size,color\n' }).nRows).toBe(0);
    expect(errorOf(() => encode({ csv: 'when,flag,size\n1,yes,2' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { column: 'color' },
    });
  });

  it('records encode alike whatever the order of their keys and other keys among them; each value is read once', () => {
    const values = { when: '2024-03-10 12:00', flag: 'yes', size: 'NA', color: 'red' };
    const expectedRow = [...encode([values]).x];
    const orders = [
      ['when', 'flag', 'size', 'color'],
      ['color', 'size', 'flag', 'when'],
      ['flag', 'when', 'color', 'size'],
      ['id', 'when', 'target', 'flag', 'size', 'note', 'color'],
      ['when', 'flag', 'size'], // color inherited below
    ];
    for (const order of orders) {
      const reads = new Map<string, number>();
      const record: Record<string, unknown> = Object.create(order.length === 3 ? { color: 'red' } : null);
      for (const key of order) {
        Object.defineProperty(record, key, {
          enumerable: true,
          get: () => {
            reads.set(key, (reads.get(key) ?? 0) + 1);
            return (values as Record<string, unknown>)[key] ?? 'other';
          },
        });
      }
      expect([...encode([record]).x], order.join()).toEqual(expectedRow);
      for (const name of ['when', 'flag', 'size', 'color']) {
        if (order.includes(name)) expect(reads.get(name), `${order.join()}: ${name}`).toBe(1);
      }
      const x = new Float64Array(4);
      expect(encode.one([record], x)).toBe(true);
      expect([...x]).toEqual(expectedRow);
    }
    // A record that lacks a feature is refused naming it, whatever its order.
    expect(errorOf(() => encode([{ color: 'red', size: 1, when: null }])).message).toContain(
      'missing feature "flag"',
    );
  });

  it('into writes records and matrix rows into a given buffer as the call form encodes them', () => {
    const records = readCsvRecords(csv);
    const x = new Float32Array(expected.length + 3).fill(-1);
    expect(encode.into(records, x)).toBe(4);
    expect([...x.subarray(0, expected.length)]).toEqual([...encode(records, 'float32').x]);
    expect([...x.subarray(expected.length)]).toEqual([-1, -1, -1]);
    const matrix = [
      [noon, 1, null, 1],
      [0, true, 7, 2],
    ];
    const y = new Float64Array(8);
    expect(encode.into(matrix, y)).toBe(2);
    expect([...y]).toEqual([...encode(matrix).x]);
    expect(encode.into([], y)).toBe(0);
  });

  it('into fails as the call form does, and refuses a buffer too short for the rows', () => {
    const bad = [{ when: null, flag: 'maybe', size: 1, color: 'red' }];
    expect(errorOf(() => encode.into(bad, new Float64Array(4)))).toEqual(errorOf(() => encode(bad)));
    expect(errorOf(() => encode.into(readCsvRecords(csv), new Float64Array(15)))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('fewer than 4 rows × 4 features'),
    });
  });

  it('value rules newer than this modelreg are refused with UNSUPPORTED', () => {
    expect(errorOf(() => createInputEncoder(specs, { version: 99, missing: [] })).code).toBe('UNSUPPORTED');
  });
});

/** Stubs the global `Function` with a pass-through that counts its calls; returns the count so far. */
function countFunctions(): () => number {
  const RealFunction = Function;
  let made = 0;
  vi.stubGlobal('Function', function (...args: string[]) {
    made += 1;
    return RealFunction(...args);
  });
  return () => made;
}

describe('createInputEncoder compiles its loops per model', () => {
  afterEach(() => vi.unstubAllGlobals());
  const matrix = [
    [0, 1, null, 1],
    [Date.UTC(2024, 0, 1), false, 7.5, 2],
  ];
  const records = [
    { when: '2024-03-10 12:00', flag: 'yes', size: 'NA', color: 'red' },
    { id: 3, color: 'blue', size: 2, flag: false, when: null },
  ];
  const bad: unknown[][] = [
    [[0, 1, 2]],
    [[0, 2, 1, 1]],
    [[0, 1, 1, 4]],
    [{ when: null, flag: 'maybe', size: 1, color: 'red' }],
    [{ when: null, size: 1, color: 'red' }],
    [[0, 1, 1, 1], { when: null }],
  ];
  /** What an encoder gives for each input: values, or the error's code, message and details. */
  const outcomes = (encode: ReturnType<typeof createInputEncoder>) => [
    [...encode(matrix, 'float32').x],
    [...encode(records).x],
    ...bad.map((input) => errorOf(() => encode(input as never))),
    ...[matrix, records].map((input) => {
      const x = new Float64Array(4);
      encode.one([input[1]!] as never, x);
      return [...x];
    }),
  ];

  it('one Function per encoder, from its own source; where code generation is refused, the shared loops give the same results and errors', () => {
    const made = countFunctions();
    const compiled = outcomes(createInputEncoder(specs));
    expect(made()).toBe(1);
    vi.stubGlobal('Function', function () {
      throw new EvalError('Code generation from strings disallowed for this context');
    });
    expect(outcomes(createInputEncoder(specs))).toEqual(compiled);
    expect(compiled[2]).toMatchObject({ code: 'INVALID_ARGUMENT', details: { row: 0 } });
    expect(compiled.slice(2, 2 + bad.length).every((e) => 'code' in e && e.code === 'INVALID_ARGUMENT')).toBe(
      true,
    );
  });

  /** Encodes `inputs` with the compiled loops and, code generation refused, with the shared ones. */
  function bothWays(features: FeatureSpec[], inputs: unknown[]): [unknown[], unknown[]] {
    const run = () => {
      const encode = createInputEncoder(features);
      return inputs.map((input) => {
        try {
          return [...encode(input as never).x];
        } catch (e) {
          return errorOf(() => {
            throw e;
          });
        }
      });
    };
    const compiled = run();
    vi.stubGlobal('Function', function () {
      throw new EvalError('Code generation from strings disallowed for this context');
    });
    const shared = run();
    vi.unstubAllGlobals();
    return [compiled, shared];
  }

  it('feature names that are not identifiers (quotes, backslashes, line breaks, ${…}) are read as they are', () => {
    const names = ['a"b', "c'd", 'e\\f', 'g\nh', 'i\u2028j', '${k}', '`l`', '*/m/*', ''];
    const features: FeatureSpec[] = names.map((name) => ({ name, type: 'number', fill: -1 }));
    const record = Object.fromEntries(names.map((n, i) => [n, i + 0.5]));
    const inputs = [[record], [names.map((_, i) => i)], [{ ...record, 'a"b': null }], [{ 'a"b': 1 }]];
    const [compiled, shared] = bothWays(features, inputs);
    expect(compiled).toEqual(shared);
    expect(compiled[0]).toEqual(names.map((_, i) => i + 0.5));
    expect(compiled[2]).toEqual([-1, ...names.slice(1).map((_, i) => i + 1.5)]);
    expect(compiled[3]).toMatchObject({ code: 'INVALID_ARGUMENT', details: { column: "c'd" } });
  });

  it('a model of more features than are written out one by one (300) encodes as a small one does', () => {
    const features: FeatureSpec[] = Array.from({ length: 300 }, (_, j) =>
      j % 3 === 0
        ? { name: `c${j}`, type: 'categorical', categories: ['x', 'y'], fill: 2 }
        : { name: `n${j}`, type: 'number', fill: 0 },
    );
    const record = Object.fromEntries(features.map((f, j) => [f.name, j % 3 === 0 ? 'y' : j]));
    const row = features.map((_, j) => (j % 3 === 0 ? 1 : j));
    const badCode = row.map((v, j) => (j === 3 ? 5 : v));
    const inputs = [[record], [row, row], [badCode], [{ ...record, n1: 'NaN?' }]];
    const [compiled, shared] = bothWays(features, inputs);
    expect(compiled).toEqual(shared);
    expect(compiled[0]).toEqual(row);
    expect(compiled[2]).toMatchObject({ code: 'INVALID_ARGUMENT', details: { row: 0, column: 'c3' } });
  });
});

describe('encodeInput, the one-shot form', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('encodes as a loaded model does, with the shared loops: no Function compiled per call', () => {
    const made = countFunctions();
    const rows = [{ when: null, flag: 'yes', size: 3, color: 'red' }];
    const matrix = [[0, 1, 2.5, 1]];
    expect([...encodeInput(specs, rows).x]).toEqual([0, 1, 3, 1]);
    expect([...encodeInput(specs, matrix, 'float32').x]).toEqual([0, 1, 2.5, 1]);
    expect(made()).toBe(0);
    const encoder = createInputEncoder(specs);
    expect([...encodeInput(specs, rows).x]).toEqual([...encoder(rows).x]);
    expect(made()).toBe(1);
  });
});

describe('Object.prototype names as features and classes', () => {
  it.each(PROTO_NAMES)('a feature named %s is read from records, CSV and null-prototype records', (name) => {
    const encode = createInputEncoder([
      { name, type: 'number', fill: -1 },
      { name: 'b', type: 'number', fill: -2 },
    ]);
    const record = JSON.parse(`{"${name}": "4", "b": 1}`) as Record<string, unknown>;
    expect([...encode([record]).x]).toEqual([4, 1]);
    expect([...encode({ csv: `${name},b\n4,1\nNA,` }).x]).toEqual([4, 1, -1, -2]);
    expect([...encode(readCsvRecords(`${name},b\n4,1`)).x]).toEqual([4, 1]);
  });

  it.each(PROTO_NAMES)('a record without an own %s key is refused as a missing feature', (name) => {
    const encode = createInputEncoder([{ name, type: 'number', fill: 0 }]);
    expect(errorOf(() => encode([{}]))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { row: 0, column: name },
    });
  });

  it('predictProba keeps a class labelled __proto__, constructor, toString, valueOf or hasOwnProperty', async () => {
    const registry = await openMemoryRegistry();
    try {
      // JSON.parse keeps `__proto__` as an own key, as a request body would.
      const records = Array.from(
        { length: 60 },
        (_, i) =>
          JSON.parse(`{"__proto__": ${i % 5}, "x": "${i % 5}", "label": "${PROTO_NAMES[i % 5]}"}`) as Record<
            string,
            unknown
          >,
      );
      const { manifest } = await registry.train({
        dataset: { rows: records as Record<string, string | number>[] },
        target: 'label',
        model: { type: 'decision-tree' },
        register: { name: 'proto' },
      });
      expect(manifest.features.map((f) => f.name)).toEqual(['__proto__', 'x']);
      expect([...(manifest.classes ?? [])].sort()).toEqual([...PROTO_NAMES].sort());
      const model = await registry.load('models:/proto/1');
      const proba = await model.predictProba(records.slice(0, 5));
      for (const [i, row] of proba.entries()) {
        expect(Object.keys(row).sort()).toEqual([...PROTO_NAMES].sort());
        expect(Object.hasOwn(row, '__proto__')).toBe(true);
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(row[PROTO_NAMES[i]!]).toBe(1);
      }
      expect(await model.predict({ csv: '__proto__,x\n0,0\n3,3' })).toEqual(['__proto__', 'valueOf']);
      expect(JSON.parse(JSON.stringify(proba[0]))).toHaveProperty(['__proto__'], 1);
    } finally {
      await registry.close();
    }
  });

  it('evaluate scores a model whose feature is named __proto__', async () => {
    const registry = await openMemoryRegistry();
    try {
      const csv = [
        '__proto__,label',
        ...Array.from({ length: 40 }, (_, i) => `${i % 2},${i % 2 ? 'b' : 'a'}`),
      ].join('\n');
      await registry.datasets.upload('protos.csv', csv);
      await registry.train({
        dataset: 'protos',
        target: 'label',
        model: { type: 'decision-tree' },
        register: { name: 'p' },
      });
      const model = await registry.load('models:/p/1');
      const result = await registry.evaluate('models:/p/1', { dataset: 'protos' });
      expect(result.metrics.accuracy).toBe(1);
      expect(await model.predict([JSON.parse('{"__proto__": "1"}')])).toEqual(['b']);
    } finally {
      await registry.close();
    }
  });
});

describe('inline { rows } training data', () => {
  it('is read with the CSV rules, without a CSV round trip: NA text, yes/no, UTC datetimes', () => {
    const table = tableFromRecords([
      { when: '2024-03-10 12:00', flag: 'yes', size: 'NA', n: 1, b: true },
      { when: null, flag: 'No', size: '2.5', n: 2.5, b: false },
    ]);
    expect(table.columns.map((c) => [c.name, c.type])).toEqual([
      ['when', 'datetime'],
      ['flag', 'boolean'],
      ['size', 'number'],
      ['n', 'number'],
      ['b', 'boolean'],
    ]);
    expect(table.data.when).toEqual([Date.UTC(2024, 2, 10, 12), null]);
    expect(table.data.flag).toEqual([true, false]);
    expect(table.data.size).toEqual([null, 2.5]);
  });

  it('gives the same model as the same data passed as CSV', async () => {
    const registry = await openMemoryRegistry();
    try {
      const csv = [
        'a,flag,label',
        ...Array.from(
          { length: 30 },
          (_, i) => `${i % 3 === 0 ? 'NA' : i},${i % 2 ? 'yes' : 'no'},${i % 2 ? 'x' : 'y'}`,
        ),
      ].join('\n');
      const options = { target: 'label', model: { type: 'decision-tree' }, split: { seed: 3 } };
      const fromCsv = await registry.train({ ...options, dataset: { csv } });
      const fromRows = await registry.train({
        ...options,
        dataset: { rows: readCsvRecords(csv).map((r) => ({ ...r })) },
      });
      expect(fromRows.manifest.features).toEqual(fromCsv.manifest.features);
      expect(fromRows.manifest.values).toEqual({ version: 1, missing: [...DEFAULT_VALUE_RULES.missing] });
      const a = await registry.load(fromCsv.modelUri);
      const b = await registry.load(fromRows.modelUri);
      expect(await b.predict({ csv })).toEqual(await a.predict({ csv }));
    } finally {
      await registry.close();
    }
  });
});

describe('MODEL.json value rules', () => {
  it('training records the rules version and missing markers; a manifest written before them still loads and predicts', async () => {
    const table = tableFromRecords(
      Array.from({ length: 40 }, (_, i) => ({
        size: i % 7 === 0 ? 'NA' : String(i),
        label: i < 20 ? 'a' : 'b',
      })),
    );
    const fit = await fitModel({ table, target: 'label', trainer: decisionTreeTrainer });
    expect(fit.manifest.values).toEqual({ version: 1, missing: ['na', 'n/a', 'nan', 'null', 'none'] });
    const { values: _recorded, ...old } = JSON.parse(JSON.stringify(fit.manifest)) as ModelManifest;
    const manifest = parseManifest(old);
    expect(manifest.values).toBeUndefined();
    const predictor = createNativePredictor(
      manifest,
      loadNativeModel(JSON.parse(JSON.stringify(fit.nativeJson)), createTrainerRegistry()),
    );
    expect(predictor.predict({ csv: 'size\n3\n30\nNA' })).toEqual(
      predictor.predict([{ size: 3 }, { size: 30 }, { size: null }]),
    );
  });

  it('a manifest without values predicts with the default rules (those its training used)', () => {
    const manifest = { features: specs } as Pick<ModelManifest, 'features' | 'values'>;
    const encode = createInputEncoder(manifest.features, manifest.values);
    expect([...encode([{ when: '2024-03-10 12:00', flag: 'no', size: 'NA', color: 'red' }]).x]).toEqual([
      Date.UTC(2024, 2, 10, 12),
      0,
      2.5,
      1,
    ]);
  });

  it('prediction applies exactly the missing markers MODEL.json records', () => {
    const encode = createInputEncoder(specs, { version: 1, missing: ['-'] });
    expect([...encode([{ when: null, flag: null, size: '-', color: '-' }]).x]).toEqual([0, 1, 2.5, 2]);
    expect(
      errorOf(() => encode([{ when: null, flag: null, size: 'NA', color: null }])).details,
    ).toMatchObject({
      column: 'size',
    });
  });
});
