import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  logLoss,
  macroF1,
  mae,
  r2Score,
  rmse,
} from '../../src/training/metrics.js';
import { trainTestSplit } from '../../src/training/split.js';

describe('train/test split', () => {
  const labels = [...Array(50).fill(0), ...Array(30).fill(1), ...Array(20).fill(2)] as number[];

  it('stratified split keeps each class in proportion and has round(n * testSize) test rows', () => {
    const { train, test } = trainTestSplit({ n: 100, testSize: 0.2, seed: 7, stratify: labels });
    expect(test).toHaveLength(20);
    expect(train).toHaveLength(80);
    const count = (rows: number[], c: number): number => rows.filter((r) => labels[r] === c).length;
    expect([count(test, 0), count(test, 1), count(test, 2)]).toEqual([10, 6, 4]);
    expect(new Set([...train, ...test]).size).toBe(100);
  });

  it('the same seed gives the same split, another seed another split', () => {
    const a = trainTestSplit({ n: 100, seed: 1, stratify: labels });
    expect(trainTestSplit({ n: 100, seed: 1, stratify: labels })).toEqual(a);
    expect(trainTestSplit({ n: 100, seed: 2, stratify: labels }).test).not.toEqual(a.test);
    expect(trainTestSplit({ n: 100, seed: 1 })).toEqual(trainTestSplit({ n: 100, seed: 1 }));
  });

  it('every class keeps at least one training row when possible', () => {
    const few = [0, 0, 0, 0, 0, 0, 1, 2, 2];
    const { train, test } = trainTestSplit({ n: few.length, testSize: 0.5, seed: 42, stratify: few });
    for (const c of [0, 1, 2]) expect(train.some((r) => few[r] === c)).toBe(true);
    expect(test).toHaveLength(Math.round(few.length * 0.5));
  });

  it('bad sizes are INVALID_ARGUMENT', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (e) {
        return isRegistryError(e) ? e.code : 'other';
      }
    };
    expect(code(() => trainTestSplit({ n: 10, testSize: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => trainTestSplit({ n: 10, testSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => trainTestSplit({ n: 1 }))).toBe('INVALID_ARGUMENT');
    expect(() => trainTestSplit({ n: 3, testSize: 0.1 })).toThrow(/test set empty/);
  });
});

describe('metrics', () => {
  it('regression metrics match hand-computed values', () => {
    const yTrue = [3, -0.5, 2, 7];
    const yPred = [2.5, 0, 2, 8];
    // ss_res = 0.25 + 0.25 + 0 + 1 = 1.5; mean = 2.875; ss_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
    expect(r2Score(yTrue, yPred)).toBeCloseTo(1 - 1.5 / 29.1875, 12);
    expect(rmse(yTrue, yPred)).toBeCloseTo(Math.sqrt(1.5 / 4), 12);
    expect(mae(yTrue, yPred)).toBeCloseTo(0.5, 12);
    expect(r2Score([1, 1], [1, 1])).toBe(1);
  });

  it('classification metrics match hand-computed values', () => {
    const yTrue = [0, 0, 1, 1, 2, 2];
    const yPred = [0, 1, 1, 1, 2, 0];
    expect(accuracy(yTrue, yPred)).toBeCloseTo(4 / 6, 12);
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    // F1 per class: 0: p=1/2 r=1/2 -> 0.5; 1: p=2/3 r=1 -> 0.8; 2: p=1 r=1/2 -> 2/3
    expect(macroF1(yTrue, yPred, 3)).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    const proba = [0.9, 0.1, 0, 0.2, 0.8, 0];
    expect(logLoss([0, 1], proba, 3)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
    expect(logLoss([2], [1, 0, 0], 3)).toBeCloseTo(-Math.log(1e-15), 6);
    expect(Object.keys(classificationMetrics(yTrue, yPred, 3))).toEqual(['accuracy', 'f1_macro']);
  });
});
