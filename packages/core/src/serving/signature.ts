import { z } from 'zod';
import { RegistryError, invalidArgument } from '../errors.js';
import { describeValue } from '../domain/parse.js';
import { readCsvText } from '../datasets/csv.js';
import { DEFAULT_VALUE_RULES, INVALID, VALUE_RULES_VERSION, valueReader } from '../datasets/values.js';
import type { Invalid, ValueRules } from '../datasets/values.js';
import { MISSING_CATEGORY, missingCode } from '../formats/features.js';
import type { FeatureSpec } from '../formats/features.js';

/**
 * What `predict` accepts. Values are read with the same rules as the training data (one module,
 * `datasets/values.ts`, owns them; MODEL.json records their version and missing markers in
 * `values`), so a CSV gives the same predictions whether it is passed as `{ csv }`, as records of
 * the strings any CSV parser returns, or as the typed records of `datasets.load`:
 *
 * - **Missing**: `null`, `undefined`, `NaN`, and text that is empty, whitespace or a missing
 *   marker (`NA`, `N/A`, `NaN`, `null`, `None`, any case). Missing values are imputed as in
 *   training (numeric: the training median; categorical: the `__missing__` code), or, for a model
 *   that routes them itself (`fill: null`, e.g. gradient boosting), stay NaN as in training.
 * - **Text is trimmed** before it is read.
 * - **Numbers** (`number`/`integer` features): numbers, or text in decimal or exponent notation
 *   (`"5.1"`, `"-1e3"`).
 * - **Booleans**: `true`/`false`, text `true`/`false`/`yes`/`no` in any case, and `0`/`1` (numbers
 *   or text).
 * - **Datetimes**: epoch milliseconds (numbers or digits), `Date`s, or ISO 8601 text
 *   (`2024-01-05`, `2024-01-05 10:00`, `2024-01-05T10:00:00+02:00`); text without an offset is
 *   UTC, whatever the process's `TZ`.
 * - **Categories**: one of the training categories (numbers and booleans compared as
 *   `String(value)`); an unknown category is an error.
 *
 * The forms:
 *
 * - **records** — `[{ feature: value, ... }]`. Every feature must be an own key (a missing key is an
 *   error, so typos do not silently become imputed values; pass `null` to impute). Extra keys (the
 *   target, ids) are ignored. Any feature name works, `__proto__` and `constructor` included.
 * - **matrix** — `number[][]`, each row the *encoded* features in model order: numbers, booleans as
 *   0/1, categorical features as the category's index in `categories` (`categories.length` =
 *   missing); `null` or `NaN` means missing.
 * - **CSV** — `{ csv: 'a,b\n1,2' }`, read by the dataset CSV reader (`readCsv`: UTF-8, `,`, `"`
 *   quotes, header names trimmed): a header naming every feature (other columns are ignored), then
 *   data rows.
 *
 * Errors are `INVALID_ARGUMENT` naming the row (0-based, data rows) and the column, also in
 * `details.row` / `details.column`.
 */
export type PredictInput =
  | ReadonlyArray<Readonly<Record<string, unknown>>>
  | ReadonlyArray<ReadonlyArray<number | boolean | null>>
  | { readonly csv: string };

export interface EncodedInput<X extends Float64Array | Float32Array = Float64Array> {
  /** Row-major, `nRows * features.length`, ready for `NativeModel.predict` (float64) or an ONNX tensor (float32). */
  x: X;
  nRows: number;
}

/** The element type to encode into: float64 for native models, float32 straight into an ONNX tensor. */
export type EncodeTarget = 'float64' | 'float32';
const allocate = (target: EncodeTarget, n: number): Float64Array | Float32Array =>
  target === 'float32' ? new Float32Array(n) : new Float64Array(n);

/**
 * A zod schema of one record in its canonical form (numbers as numbers), for docs and OpenAPI.
 * `predict` does not run it per row; it validates with the faster checks of {@link encodeInput}.
 */
export function inputRecordSchema(features: readonly FeatureSpec[]): z.ZodObject {
  const shape = Object.create(null) as Record<string, z.ZodType>;
  for (const f of features) {
    let schema: z.ZodType;
    if (f.type === 'categorical')
      schema = f.categories.length ? z.enum(f.categories as [string, ...string[]]) : z.never();
    else if (f.type === 'boolean') schema = z.boolean();
    else if (f.type === 'integer') schema = z.number().int();
    else if (f.type === 'datetime') schema = z.union([z.number(), z.iso.datetime(), z.iso.date()]);
    else schema = z.number();
    shape[f.name] = schema.nullable();
  }
  return z.object({ ...shape });
}

type Encoder = (value: unknown) => number | Invalid;

/**
 * Encodes one value of a feature: read with the model's value rules (`valueReader`), then coded as in
 * training (`encodeTable`). The fast paths give the reader's answer for the commonest values without
 * calling it: a number for a numeric feature, a boolean for a boolean one, a category's exact text.
 */
function featureEncoder(spec: FeatureSpec, rules: ValueRules): Encoder {
  const fill = missingCode(spec);
  if (spec.type === 'categorical') {
    const read = valueReader('categorical', rules);
    const codes = new Map(spec.categories.map((c, i) => [c, i] as const));
    return (v) => {
      // Categories are never missing markers (training read those as missing), so an exact hit is final.
      // It also keeps untrimmed categories of models trained before string features were trimmed.
      if (typeof v === 'string') {
        const exact = codes.get(v);
        if (exact !== undefined) return exact;
      }
      const value = read(v);
      if (value === null) return fill;
      if (value === INVALID) return INVALID;
      const code = codes.get(value as string);
      if (code !== undefined) return code;
      return value === MISSING_CATEGORY ? fill : INVALID;
    };
  }
  const read = valueReader(spec.type, rules);
  if (spec.type === 'boolean') {
    return (v) => {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const value = read(v);
      if (value === null) return fill;
      if (value === INVALID) return INVALID;
      return value ? 1 : 0;
    };
  }
  return (v) => {
    if (typeof v === 'number') return v === v ? v : fill;
    const value = read(v);
    return value === null ? fill : (value as number | Invalid);
  };
}

function expected(spec: FeatureSpec): string {
  if (spec.type === 'categorical') {
    const shown = spec.categories.slice(0, 10).map((c) => JSON.stringify(c));
    const more = spec.categories.length > 10 ? `, … (${spec.categories.length} in all)` : '';
    return `one of ${shown.join(', ')}${more}`;
  }
  if (spec.type === 'boolean') return 'a boolean (true/false/yes/no/0/1)';
  if (spec.type === 'datetime') return 'an ISO 8601 date or epoch milliseconds';
  return 'a number';
}

function cellError(
  i: number,
  spec: FeatureSpec,
  value: unknown,
  unknownCategory: boolean,
  details: Record<string, unknown> = {},
): Error {
  const what = unknownCategory ? `unknown category ${describeValue(value)}` : `got ${describeValue(value)}`;
  return invalidArgument(
    `row ${i}, column ${JSON.stringify(spec.name)}: ${what}; expected ${expected(spec)}`,
    'predict',
    { row: i, column: spec.name, ...details },
  );
}

/** Names that every plain object inherits (`__proto__`, `constructor`, `toString`, …): read them as own keys only. */
const inherited = (name: string): boolean => name in Object.prototype;

/**
 * Validates and encodes predict input for one model. Built once per loaded model: the value
 * readers, category maps and per-feature kinds are made here, not per call.
 */
export interface InputEncoder {
  (input: PredictInput): EncodedInput<Float64Array>;
  (input: PredictInput, target: 'float32'): EncodedInput<Float32Array>;
  (input: PredictInput, target: EncodeTarget): EncodedInput<Float64Array | Float32Array>;
  /**
   * The single-row path: when `input` is an array of exactly one record or one matrix row, validates
   * and encodes it into `x` (at least `features.length` long; nothing is allocated) and returns true.
   * Returns false, touching nothing, for any other input. Same values and errors as the call form.
   */
  one(input: PredictInput, x: Float64Array | Float32Array): boolean;
  /**
   * The call form for an array of records or of matrix rows, encoded into `x` (at least
   * `rows.length * features.length` long) instead of a new array; returns the number of rows. Same
   * values and errors as the call form; on an error the rows before it are written.
   */
  into(rows: ReadonlyArray<unknown>, x: Float64Array | Float32Array): number;
}

/** How a feature's value is coded: the fast paths below test this per feature instead of walking the spec. */
const NUMERIC = 0;
const BOOLEAN = 1;
const CATEGORICAL = 2;

/** What an encoder's per-row loops read: the model's shape and the encoder's slow paths. */
interface LoopDeps {
  n: number;
  names: readonly string[];
  kinds: Int8Array;
  maxCode: Float64Array;
  allNumeric: boolean;
  /** The value of {@link NUMERIC}: the loops read nothing outside their argument. */
  numeric: number;
  /** Every matrix cell but a non-NaN number of a numeric feature, or throws. */
  matrixCell(i: number, j: number, value: unknown): number;
  /** Every record value but a present, non-NaN number of a numeric feature, or throws. */
  recordCell(i: number, j: number, record: Record<string, unknown>, value: unknown): number;
  badMatrixRow(i: number, row: unknown): Error;
  notRecord(i: number, row: unknown): Error;
}

type X = Float64Array | Float32Array;

/** The per-row loops of an encoder; `matrix` and `records` return the number of rows. */
interface Loops {
  matrixRow(row: ReadonlyArray<unknown>, i: number, x: X, o: number): void;
  matrix(rows: ReadonlyArray<unknown>, x: X): number;
  record(record: Record<string, unknown>, i: number, x: X, o: number): void;
  records(rows: ReadonlyArray<unknown>, x: X): number;
}

/**
 * The hot loops of an encoder. It reads nothing but its argument and globals, so that
 * {@link compileLoops} can compile a copy of it per model (see there).
 */
function encodeLoops(d: LoopDeps): Loops {
  const { n, names, kinds, maxCode, allNumeric, numeric, matrixCell, recordCell, badMatrixRow, notRecord } =
    d;

  /** One matrix row into `x` at `o`: valid codes of boolean and categorical features are integers in range. */
  function matrixRow(row: ReadonlyArray<unknown>, i: number, x: X, o: number): void {
    if (allNumeric) {
      for (let j = 0; j < n; j++) {
        const v = row[j];
        x[o + j] = typeof v === 'number' && v === v ? v : matrixCell(i, j, v);
      }
      return;
    }
    for (let j = 0; j < n; j++) {
      const v = row[j];
      x[o + j] =
        typeof v === 'number' &&
        v === v &&
        (kinds[j] === numeric || (v >= 0 && v <= maxCode[j]! && Math.floor(v) === v))
          ? v
          : matrixCell(i, j, v);
    }
  }

  function matrix(rows: ReadonlyArray<unknown>, x: X): number {
    const nRows = rows.length;
    for (let i = 0; i < nRows; i++) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length !== n) throw badMatrixRow(i, row);
      matrixRow(row, i, x, i * n);
    }
    return nRows;
  }

  /**
   * One record into `x` at `o`: one read of each feature's value. A number of a numeric feature is
   * stored as it is (the value rules' answer for it); every other value goes through `recordCell`.
   */
  function record(values: Record<string, unknown>, i: number, x: X, o: number): void {
    let j = 0;
    // Features whose keys come in model order (other keys may lie between them) are read in one walk
    // of the record's keys: for-in over a plain object walks its cached key list and reads each value
    // by position, cheaper than looking each name up. The features it did not reach in that order are
    // read by name below; each value is read once either way.
    for (const key in values) {
      if (key !== names[j]) continue;
      const value = values[key];
      x[o + j] =
        typeof value === 'number' && value === value && kinds[j] === numeric
          ? value
          : recordCell(i, j, values, value);
      if (++j === n) return;
    }
    for (; j < n; j++) {
      const value = values[names[j]!];
      x[o + j] =
        typeof value === 'number' && value === value && kinds[j] === numeric
          ? value
          : recordCell(i, j, values, value);
    }
  }

  function records(rows: ReadonlyArray<unknown>, x: X): number {
    const nRows = rows.length;
    for (let i = 0; i < nRows; i++) {
      const row = rows[i];
      if (typeof row !== 'object' || row === null || Array.isArray(row)) throw notRecord(i, row);
      record(row as Record<string, unknown>, i, x, i * n);
    }
    return nRows;
  }

  return { matrixRow, matrix, record, records };
}

/** The most features whose loops {@link unrolledLoopsSource} writes out one statement each. */
const UNROLLED_FEATURES = 256;

/**
 * The source of {@link encodeLoops} written out for one model's features: one statement per feature,
 * with its index, kind and code bound as literals, and each record value read by a property access
 * whose key is a string literal. That access has its own inline cache, so records of one shape read
 * each value at a fixed offset, where `values[names[j]]` looked the name up every time and the for-in
 * walk of `encodeLoops` read the record's key list. The values, checks and slow paths are those of
 * `encodeLoops`; names are embedded with `JSON.stringify` (a string literal, whatever they hold).
 */
function unrolledLoopsSource(d: Pick<LoopDeps, 'n' | 'names' | 'kinds' | 'maxCode' | 'numeric'>): string {
  const { n, names, kinds, maxCode, numeric } = d;
  const check = (j: number): string =>
    kinds[j] === numeric
      ? `typeof v === 'number' && v === v`
      : `typeof v === 'number' && v >= 0 && v <= ${maxCode[j]} && Math.floor(v) === v`;
  const matrixCells: string[] = [];
  const recordCells: string[] = [];
  for (let j = 0; j < n; j++) {
    matrixCells.push(`v = row[${j}]; x[o + ${j}] = ${check(j)} ? v : matrixCell(i, ${j}, v);`);
    // Any value but a number of a numeric feature goes through recordCell, as in encodeLoops.
    const fast = kinds[j] === numeric ? `typeof v === 'number' && v === v` : 'false';
    recordCells.push(
      `v = values[${JSON.stringify(names[j])}]; x[o + ${j}] = ${fast} ? v : recordCell(i, ${j}, values, v);`,
    );
  }
  return `return function unrolledLoops(d) {
  const { matrixCell, recordCell, badMatrixRow, notRecord } = d;
  function matrixRow(row, i, x, o) {
    let v;
    ${matrixCells.join('\n    ')}
  }
  function matrix(rows, x) {
    const nRows = rows.length;
    let v;
    for (let i = 0, o = 0; i < nRows; i++, o += ${n}) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length !== ${n}) throw badMatrixRow(i, row);
      ${matrixCells.join('\n      ')}
    }
    return nRows;
  }
  function record(values, i, x, o) {
    let v;
    ${recordCells.join('\n    ')}
  }
  function records(rows, x) {
    const nRows = rows.length;
    for (let i = 0; i < nRows; i++) {
      const row = rows[i];
      if (typeof row !== 'object' || row === null || Array.isArray(row)) throw notRecord(i, row);
      record(row, i, x, i * ${n});
    }
    return nRows;
  }
  return { matrixRow, matrix, record, records };
};`;
}

/**
 * The loops of one model, compiled from source text: {@link unrolledLoopsSource} up to
 * {@link UNROLLED_FEATURES} features, a copy of {@link encodeLoops} beyond. V8 keeps the type
 * feedback that its optimizing compiler relies on per function *literal*: every encoder made from one
 * literal shares it, so the array shapes any model ever saw (integer rows, rows with nulls, float32
 * and float64 targets) make every model's loop polymorphic. Code of its own keeps each model to its
 * own inputs: 100,000 × 10 `number[][]` encode in 3.2 ms instead of 6.4 ms once another model's
 * encoder saw rows of integers and rows with nulls (`bench/encode.mjs`).
 * Where code cannot be generated from strings (`--disallow-code-generation-from-strings`, a CSP) or
 * the source was rewritten (coverage counters), the shared loops run: same results, slower.
 */
function compileLoops(d: LoopDeps): Loops {
  try {
    const source = d.n <= UNROLLED_FEATURES ? unrolledLoopsSource(d) : `return ${encodeLoops.toString()}`;
    const make = new Function(source)() as typeof encodeLoops;
    return make(d);
  } catch {
    return encodeLoops(d);
  }
}

/**
 * Creates the {@link InputEncoder} of a model from its features and value rules (`MODEL.json#values`;
 * default: the rules of manifests written before they were recorded). `UNSUPPORTED` when the rules
 * are newer than this modelreg.
 */
export function createInputEncoder(
  features: readonly FeatureSpec[],
  rules: ValueRules = DEFAULT_VALUE_RULES,
): InputEncoder {
  return buildInputEncoder(features, rules, compileLoops);
}

/** {@link createInputEncoder} with the loops `makeLoops` gives (compiled per model, or shared). */
function buildInputEncoder(
  features: readonly FeatureSpec[],
  rules: ValueRules,
  makeLoops: (d: LoopDeps) => Loops,
): InputEncoder {
  if (rules.version > VALUE_RULES_VERSION) {
    throw new RegistryError(
      'UNSUPPORTED',
      `the model reads values with rules version ${rules.version}; this modelreg knows up to version ${VALUE_RULES_VERSION}`,
      { where: 'predict' },
    );
  }
  const encoders = features.map((f) => featureEncoder(f, rules));
  const names = features.map((f) => f.name);
  const guarded = names.map(inherited);
  const nFeatures = features.length;
  const kinds = Int8Array.from(features, (f) =>
    f.type === 'categorical' ? CATEGORICAL : f.type === 'boolean' ? BOOLEAN : NUMERIC,
  );
  // Upper bound of a valid matrix code per feature: categories.length (missing) for categorical, 1 for boolean.
  const maxCode = Float64Array.from(features, (f) =>
    f.type === 'categorical' ? f.categories.length : f.type === 'boolean' ? 1 : Infinity,
  );
  const allNumeric = kinds.every((k) => k === NUMERIC);

  const fail = (i: number, j: number, value: unknown, details?: Record<string, unknown>): Error => {
    const spec = features[j]!;
    const unknownCategory =
      spec.type === 'categorical' && valueReader('categorical', rules)(value) !== INVALID;
    return cellError(i, spec, value, unknownCategory, details);
  };

  const notRecord = (i: number, row: unknown): Error =>
    invalidArgument(`row ${i}: expected an object of feature values, got ${describeValue(row)}`, 'predict', {
      row: i,
    });

  /** Every case but a present, non-NaN number of a numeric feature: presence check, value rules, coding. */
  function recordCell(i: number, j: number, record: Record<string, unknown>, value: unknown): number {
    const name = names[j]!;
    // An inherited member (`toString`, `__proto__`, …) is not a value: those names count only as own keys.
    if (value === undefined ? !(name in record) : guarded[j] === true && !Object.hasOwn(record, name)) {
      throw invalidArgument(
        `row ${i}: missing feature ${JSON.stringify(name)} (pass null to have it imputed)`,
        'predict',
        { row: i, column: name },
      );
    }
    const v = encoders[j]!(value);
    if (v === INVALID) throw fail(i, j, value);
    return v;
  }

  /** Every matrix cell but a non-NaN number of a numeric feature. */
  function matrixCell(i: number, j: number, value: unknown): number {
    const spec = features[j]!;
    let v = value;
    if (typeof v === 'boolean') v = v ? 1 : 0;
    let out: number;
    if (v === null || v === undefined || Number.isNaN(v)) {
      out = missingCode(spec);
      if (spec.fill === null) return out;
    } else if (typeof v !== 'number') throw cellError(i, spec, v, false);
    else out = v;
    if (
      spec.type === 'categorical' &&
      !(Number.isInteger(out) && out >= 0 && out <= spec.categories.length)
    ) {
      throw invalidArgument(
        `row ${i}, column ${JSON.stringify(spec.name)}: ${out} is not a category code (0..${spec.categories.length - 1}, or ${spec.categories.length} for missing)`,
        'predict',
        { row: i, column: spec.name },
      );
    }
    if (spec.type === 'boolean' && out !== 0 && out !== 1 && out !== spec.fill)
      throw cellError(i, spec, v, false);
    return out;
  }

  const badMatrixRow = (i: number, row: unknown): Error =>
    invalidArgument(
      `row ${i}: expected an array of ${nFeatures} values (${names.join(', ')}), got ${Array.isArray(row) ? `${row.length} values` : describeValue(row)}`,
      'predict',
      { row: i },
    );

  const { matrixRow, matrix, record, records } = makeLoops({
    n: nFeatures,
    names,
    kinds,
    maxCode,
    allNumeric,
    numeric: NUMERIC,
    matrixCell,
    recordCell,
    badMatrixRow,
    notRecord,
  });

  function encodeCsv(csv: string, target: EncodeTarget): EncodedInput<Float64Array | Float32Array> {
    const positions = new Array<number>(nFeatures);
    let x = allocate(target, 256 * nFeatures);
    let nRows = 0;
    readCsvText(csv, {
      label: 'predict CSV',
      allowNoRows: true,
      onHeader(columns) {
        const at = new Map(columns.map((c, k) => [c, k] as const));
        const absent: string[] = [];
        names.forEach((name, j) => {
          const k = at.get(name);
          if (k === undefined) absent.push(name);
          else positions[j] = k;
        });
        if (absent.length > 0) {
          throw invalidArgument(
            `CSV is missing the column(s) ${absent.map((m) => JSON.stringify(m)).join(', ')}`,
            'predict',
            { column: absent[0] },
          );
        }
      },
      onRow(fields, line) {
        if ((nRows + 1) * nFeatures > x.length) {
          const grown = allocate(target, x.length * 2);
          grown.set(x);
          x = grown;
        }
        const base = nRows * nFeatures;
        for (let j = 0; j < nFeatures; j++) {
          const cell = fields[positions[j]!]!;
          const v = encoders[j]!(cell);
          if (v === INVALID) throw fail(nRows, j, cell, { line });
          x[base + j] = v;
        }
        nRows += 1;
      },
    });
    return { x: x.slice(0, nRows * nFeatures), nRows };
  }

  function encode(
    input: PredictInput,
    target: EncodeTarget = 'float64',
  ): EncodedInput<Float64Array | Float32Array> {
    if (Array.isArray(input)) {
      const rows: ReadonlyArray<unknown> = input;
      return encodeRows(rows, allocate(target, rows.length * nFeatures));
    }
    if (typeof input === 'object' && input !== null && typeof (input as { csv?: unknown }).csv === 'string') {
      return encodeCsv((input as { csv: string }).csv, target);
    }
    throw invalidArgument(
      'predict input must be an array of records, an array of number arrays, or { csv: string }',
      'predict',
    );
  }
  function encodeRows(
    rows: ReadonlyArray<unknown>,
    x: Float64Array | Float32Array,
  ): EncodedInput<Float64Array | Float32Array> {
    return { x, nRows: rows.length > 0 && Array.isArray(rows[0]) ? matrix(rows, x) : records(rows, x) };
  }
  function into(rows: ReadonlyArray<unknown>, x: Float64Array | Float32Array): number {
    if (x.length < rows.length * nFeatures) {
      throw invalidArgument(
        `the buffer holds ${x.length} values, fewer than ${rows.length} rows × ${nFeatures} features`,
        'predict',
      );
    }
    return encodeRows(rows, x).nRows;
  }
  function one(input: PredictInput, x: Float64Array | Float32Array): boolean {
    if (!Array.isArray(input) || input.length !== 1) return false;
    const row: unknown = input[0];
    if (Array.isArray(row)) {
      if (row.length !== nFeatures) throw badMatrixRow(0, row);
      matrixRow(row, 0, x, 0);
    } else {
      if (typeof row !== 'object' || row === null) throw notRecord(0, row);
      record(row as Record<string, unknown>, 0, x, 0);
    }
    return true;
  }
  return Object.assign(encode, { one, into }) as InputEncoder;
}

/**
 * Validates and encodes `input` (see {@link PredictInput}) in one pass, into float64 (default) or
 * float32, with the default value rules. Builds the encoders on every call, with the shared loops (a
 * copy compiled for one call would not pay for itself): a loaded model uses
 * {@link createInputEncoder} once instead.
 */
export function encodeInput(
  features: readonly FeatureSpec[],
  input: PredictInput,
): EncodedInput<Float64Array>;
export function encodeInput(
  features: readonly FeatureSpec[],
  input: PredictInput,
  target: 'float32',
): EncodedInput<Float32Array>;
export function encodeInput(
  features: readonly FeatureSpec[],
  input: PredictInput,
  target: EncodeTarget = 'float64',
): EncodedInput<Float64Array | Float32Array> {
  return buildInputEncoder(features, DEFAULT_VALUE_RULES, encodeLoops)(input, target);
}
