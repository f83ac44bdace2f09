import { beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { parseManifest } from '../../src/formats/manifest.js';
import { loadNativeModel } from '../../src/formats/native/native-model.js';
import { createNativePredictor } from '../../src/serving/predictor.js';
import type { Predictor } from '../../src/serving/predictor.js';
import { fitModel } from '../../src/training/fit.js';
import type { FitModelResult } from '../../src/training/fit.js';
import { createTrainerRegistry } from '../../src/training/trainer.js';
import { decisionTreeTrainer, randomForestTrainer } from '../../src/training/trainers/index.js';
import { tableFromRows } from './helpers.js';
import { linearRegressionTrainer } from './linear-regression-trainer.js';

/** Round-trips both files through JSON text, as the registry stores them. */
function reload(result: FitModelResult, trainers = createTrainerRegistry()): Predictor {
  const manifest = parseManifest(JSON.parse(JSON.stringify(result.manifest)));
  const model = loadNativeModel(JSON.parse(JSON.stringify(result.nativeJson)), trainers);
  return createNativePredictor(manifest, model);
}

function errorOf(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    if (isRegistryError(e)) return { code: e.code, message: e.message, details: e.details };
    return { message: String(e) };
  }
  return { message: 'no error' };
}

// color decides the class, size is noise with missing values, flag is a boolean.
const rows = Array.from({ length: 80 }, (_, i) => ({
  color: ['red', 'green', 'blue', null][i % 4]!,
  size: i % 10 === 0 ? null : (i * 7) % 13,
  flag: i % 5 === 0,
  label: i % 4 === 0 ? 'warm' : 'cool',
}));

describe('predictor', () => {
  let result: FitModelResult;
  let predictor: Predictor;

  beforeAll(async () => {
    result = await fitModel({ table: tableFromRows(rows), target: 'label', trainer: decisionTreeTrainer });
    predictor = reload(result);
  });

  it('the manifest records the feature encoding: categories, fills and types', () => {
    const [color, size, flag] = result.manifest.features;
    expect(color).toEqual({
      name: 'color',
      type: 'categorical',
      categories: ['blue', 'green', 'red'],
      fill: 3,
    });
    expect(size).toMatchObject({ name: 'size', type: 'integer' });
    expect(flag).toMatchObject({ name: 'flag', type: 'boolean' });
    expect(result.metrics.accuracy).toBe(1);
  });

  it('records, matrices and CSV give the same predictions, with labels of the original type', () => {
    const records = [
      { color: 'red', size: 3, flag: true },
      { color: 'blue', size: null, flag: false },
      { color: null, size: '4.5', flag: 'false', extra: 'ignored' },
    ];
    const labels = predictor.predict(records);
    expect(labels).toEqual(['warm', 'cool', 'cool']);
    const size = result.manifest.features[1]!.fill;
    expect(
      predictor.predict([
        [2, 3, 1],
        [0, null, 0],
        [3, 4.5, 0],
      ]),
    ).toEqual(labels);
    expect(predictor.predict({ csv: 'flag,size,color\ntrue,3,red\nfalse,,blue\nfalse,4.5,\n' })).toEqual(
      labels,
    );
    expect(predictor.encode([{ color: 'blue', size: null, flag: false }]).x[1]).toBe(size);
    expect(predictor.predict([])).toEqual([]);
  });

  it('predictProba returns one record per row keyed by label, summing to 1', () => {
    const [p] = predictor.predictProba([{ color: 'red', size: 1, flag: false }]);
    expect(Object.keys(p!)).toEqual(['cool', 'warm']);
    expect(p!.warm! + p!.cool!).toBeCloseTo(1, 12);
    expect(predictor.classes).toEqual(['cool', 'warm']);
  });

  it('a missing feature key is INVALID_ARGUMENT naming the row and column', () => {
    const e = errorOf(() =>
      predictor.predict([
        { color: 'red', size: 1, flag: true },
        { color: 'red', flag: true },
      ]),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('row 1: missing feature "size"');
    expect(e.details).toEqual({ row: 1, column: 'size' });
  });

  it('an unknown category or a non-numeric value is INVALID_ARGUMENT naming the row and column', () => {
    const unknown = errorOf(() => predictor.predict([{ color: 'purple', size: 1, flag: true }]));
    expect(unknown.message).toContain(
      'row 0, column "color": unknown category "purple"; expected one of "blue", "green", "red"',
    );
    const text = errorOf(() =>
      predictor.predict([
        { color: 'red', size: 1, flag: true },
        { color: 'red', size: 'big', flag: true },
      ]),
    );
    expect(text.message).toContain('row 1, column "size": got "big"; expected a number');
    const flag = errorOf(() => predictor.predict([{ color: 'red', size: 1, flag: 'maybe' }]));
    expect(flag.details).toEqual({ row: 0, column: 'flag' });
    const width = errorOf(() => predictor.predict([[1, 2]]));
    expect(width.message).toContain('row 0: expected an array of 3 values');
    const code = errorOf(() => predictor.predict([[7, 2, 1]]));
    expect(code.message).toContain('row 0, column "color": 7 is not a category code');
    expect(errorOf(() => predictor.predict({ csv: 'color,size\nred,1' })).message).toContain(
      'CSV is missing the column(s) "flag"',
    );
    expect(errorOf(() => predictor.predict('nope' as never)).code).toBe('INVALID_ARGUMENT');
  });

  it('the signature describes the inputs and exposes a zod schema', () => {
    expect(predictor.signature.inputs[0]).toEqual({
      name: 'color',
      type: 'categorical',
      categories: ['blue', 'green', 'red'],
      nullable: true,
    });
    expect(predictor.signature.output).toEqual({ type: 'label', classes: ['cool', 'warm'] });
    expect(predictor.signature.schema.safeParse({ color: 'red', size: 1, flag: null }).success).toBe(true);
    expect(predictor.signature.schema.safeParse({ color: 'purple', size: 1, flag: null }).success).toBe(
      false,
    );
  });
});

describe('predictor for regression and user trainers', () => {
  const table = tableFromRows(
    Array.from({ length: 40 }, (_, i) => ({ a: i % 9, b: (i * 5) % 7, y: 2 * (i % 9) + ((i * 5) % 7) })),
  );

  it('regression predicts numbers and predictProba is UNSUPPORTED', async () => {
    const r = await fitModel({
      table,
      target: 'y',
      trainer: randomForestTrainer,
      params: { nEstimators: 10 },
    });
    const p = reload(r);
    const [v] = p.predict([{ a: 4, b: 3 }]);
    expect(typeof v).toBe('number');
    expect(p.predict([{ a: 4, b: 3 }])).toEqual(Array.from(r.model.predict(Float64Array.from([4, 3]), 1)));
    expect(errorOf(() => p.predictProba([{ a: 1, b: 1 }])).code).toBe('UNSUPPORTED');
  });

  it('a user-trainer model loads through its registered trainer, and is UNSUPPORTED without it', async () => {
    const r = await fitModel({ table, target: 'y', trainer: linearRegressionTrainer });
    const trainers = createTrainerRegistry([linearRegressionTrainer]);
    const [v] = reload(r, trainers).predict([{ a: 4, b: 3 }]);
    expect(v).toBeCloseTo(11, 6);
    expect(errorOf(() => reload(r)).code).toBe('UNSUPPORTED');
  });
});
