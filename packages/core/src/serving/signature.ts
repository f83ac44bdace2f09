import Papa from 'papaparse';
import { z } from 'zod';
import { invalidArgument } from '../errors.js';
import { describeValue } from '../domain/names.js';
import type { ModelManifest, ModelSignature } from '../formats/manifest.js';
import { MISSING_CATEGORY } from '../training/features.js';
import type { FeatureSpec } from '../training/features.js';

/**
 * What `predict` accepts:
 *
 * - **records** — `[{ feature: value, ... }]`. Every feature key must be present (a missing key is
 *   an error, so typos do not silently become imputed values); `null`, `undefined`, `''` and `NaN`
 *   mean "missing" and are imputed as in training (numeric: the training median; categorical: the
 *   `__missing__` code). Extra keys (the target, ids) are ignored. Numeric features take numbers or
 *   decimal strings (`"5.1"`, as from query strings or CSV); datetime features also take `Date`s and
 *   date strings (epoch ms otherwise); booleans take `true`/`false`, `0`/`1` and
 *   `"true"`/`"false"`/`"0"`/`"1"`; categorical features take one of the training categories (numbers
 *   and booleans are compared as strings). An unknown category is an error.
 * - **matrix** — `number[][]`, each row the encoded features in model order: numbers, booleans as
 *   0/1, categorical features as the category's index in `categories` (`categories.length` =
 *   missing); `null` or `NaN` means missing.
 * - **CSV** — `{ csv: 'a,b\n1,2' }`: a header row naming every feature, then data rows, read as
 *   records of strings.
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

/** The JSON signature of a model, derived from its manifest (stored as `MODEL.json#signature`). */
export function describeSignature(
  manifest: Pick<ModelManifest, 'task' | 'features' | 'classes'>,
): ModelSignature {
  return {
    inputs: manifest.features.map((f) =>
      f.type === 'categorical'
        ? { name: f.name, type: f.type, categories: [...f.categories], nullable: true }
        : { name: f.name, type: f.type, nullable: true },
    ),
    output:
      manifest.task === 'classification'
        ? { type: 'label', classes: [...(manifest.classes ?? [])] }
        : { type: 'number' },
  };
}

/**
 * A zod schema of one record in its canonical form (numbers as numbers), for docs and OpenAPI.
 * `predict` does not run it per row; it validates with the faster checks of {@link encodeInput}.
 */
export function inputRecordSchema(features: readonly FeatureSpec[]): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
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
  return z.object(shape);
}

const INVALID = Symbol('invalid');
type Encoder = (value: unknown) => number | typeof INVALID;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function recordEncoder(spec: FeatureSpec): Encoder {
  const { fill } = spec;
  const missing = (v: unknown): boolean => v === null || v === undefined || v === '' || Number.isNaN(v);
  if (spec.type === 'categorical') {
    const codes = new Map(spec.categories.map((c, i) => [c, i] as const));
    return (v) => {
      if (typeof v === 'string') return codes.get(v) ?? (v === '' || v === MISSING_CATEGORY ? fill : INVALID);
      if (missing(v)) return fill;
      if (typeof v === 'number' || typeof v === 'boolean') return codes.get(String(v)) ?? INVALID;
      return INVALID;
    };
  }
  if (spec.type === 'boolean') {
    return (v) => {
      if (v === true || v === 1) return 1;
      if (v === false || v === 0) return 0;
      if (missing(v)) return fill;
      if (typeof v === 'string') {
        const s = v.trim().toLowerCase();
        if (s === 'true' || s === '1') return 1;
        if (s === 'false' || s === '0') return 0;
        if (s === '') return fill;
      }
      return INVALID;
    };
  }
  const datetime = spec.type === 'datetime';
  return (v) => {
    if (typeof v === 'number') return Number.isNaN(v) ? fill : v;
    if (missing(v)) return fill;
    if (typeof v === 'string') {
      const s = v.trim();
      if (s === '') return fill;
      if (DECIMAL.test(s)) return Number(s);
      if (datetime) {
        const t = Date.parse(s);
        return Number.isNaN(t) ? INVALID : t;
      }
      return INVALID;
    }
    if (datetime && v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
    return INVALID;
  };
}

function expected(spec: FeatureSpec): string {
  if (spec.type === 'categorical') {
    const shown = spec.categories.slice(0, 10).map((c) => JSON.stringify(c));
    const more = spec.categories.length > 10 ? `, … (${spec.categories.length} in all)` : '';
    return `one of ${shown.join(', ')}${more}`;
  }
  if (spec.type === 'boolean') return 'a boolean';
  if (spec.type === 'datetime') return 'a date or epoch milliseconds';
  return 'a number';
}

function cellError(i: number, spec: FeatureSpec, value: unknown, unknownCategory: boolean): Error {
  const what = unknownCategory ? `unknown category ${describeValue(value)}` : `got ${describeValue(value)}`;
  return invalidArgument(
    `row ${i}, column ${JSON.stringify(spec.name)}: ${what}; expected ${expected(spec)}`,
    'predict',
    {
      row: i,
      column: spec.name,
    },
  );
}

function encodeRecords(
  features: readonly FeatureSpec[],
  rows: ReadonlyArray<unknown>,
  target: EncodeTarget,
): EncodedInput<Float64Array | Float32Array> {
  const encoders = features.map(recordEncoder);
  const nFeatures = features.length;
  const nRows = rows.length;
  const x = allocate(target, nRows * nFeatures);
  for (let i = 0; i < nRows; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw invalidArgument(
        `row ${i}: expected an object of feature values, got ${describeValue(row)}`,
        'predict',
        { row: i },
      );
    }
    const record = row as Record<string, unknown>;
    for (let j = 0; j < nFeatures; j++) {
      const spec = features[j]!;
      const value = record[spec.name];
      if (value === undefined && !(spec.name in record)) {
        throw invalidArgument(
          `row ${i}: missing feature ${JSON.stringify(spec.name)} (pass null to have it imputed)`,
          'predict',
          { row: i, column: spec.name },
        );
      }
      const v = encoders[j]!(value);
      if (v === INVALID)
        throw cellError(i, spec, value, spec.type === 'categorical' && typeof value === 'string');
      x[i * nFeatures + j] = v;
    }
  }
  return { x, nRows };
}

function encodeMatrix(
  features: readonly FeatureSpec[],
  rows: ReadonlyArray<unknown>,
  target: EncodeTarget,
): EncodedInput<Float64Array | Float32Array> {
  const nFeatures = features.length;
  const nRows = rows.length;
  const x = allocate(target, nRows * nFeatures);
  for (let i = 0; i < nRows; i++) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== nFeatures) {
      throw invalidArgument(
        `row ${i}: expected an array of ${nFeatures} values (${features.map((f) => f.name).join(', ')}), got ${Array.isArray(row) ? `${row.length} values` : describeValue(row)}`,
        'predict',
        { row: i },
      );
    }
    for (let j = 0; j < nFeatures; j++) {
      const spec = features[j]!;
      let v: unknown = row[j];
      if (typeof v === 'boolean') v = v ? 1 : 0;
      let out: number;
      if (v === null || v === undefined || Number.isNaN(v)) out = spec.fill;
      else if (typeof v !== 'number') throw cellError(i, spec, v, false);
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
      x[i * nFeatures + j] = out;
    }
  }
  return { x, nRows };
}

function parseCsv(features: readonly FeatureSpec[], csv: string): Record<string, string>[] {
  const parsed = Papa.parse<Record<string, string>>(csv, {
    header: true,
    skipEmptyLines: 'greedy',
    dynamicTyping: false,
  });
  const fatal = parsed.errors.find((e) => e.type !== 'Delimiter');
  if (fatal) {
    throw invalidArgument(`CSV row ${fatal.row ?? '?'}: ${fatal.message}`, 'predict', { row: fatal.row });
  }
  const header = new Set(parsed.meta.fields ?? []);
  const missing = features.filter((f) => !header.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw invalidArgument(
      `CSV is missing the column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
      'predict',
      {
        column: missing[0],
      },
    );
  }
  return parsed.data;
}

/** Validates and encodes `input` (see {@link PredictInput}) in one pass, into float64 (default) or float32. */
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
  if (Array.isArray(input)) {
    const rows: ReadonlyArray<unknown> = input;
    return rows.length > 0 && Array.isArray(rows[0])
      ? encodeMatrix(features, rows, target)
      : encodeRecords(features, rows, target);
  }
  if (typeof input === 'object' && input !== null && typeof (input as { csv?: unknown }).csv === 'string') {
    return encodeRecords(features, parseCsv(features, (input as { csv: string }).csv), target);
  }
  throw invalidArgument(
    'predict input must be an array of records, an array of number arrays, or { csv: string }',
    'predict',
  );
}
