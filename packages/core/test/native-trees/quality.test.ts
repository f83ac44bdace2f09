import { describe, expect, it } from 'vitest';
import { fitForest } from '../../src/training/native/index.js';
import { accuracy, holdout, loadCsv, r2 } from './helpers.js';

describe('native forest quality on the shared datasets (25% seeded holdout)', () => {
  it.each([
    ['iris', 0.9],
    ['wine', 0.9],
    ['breast_cancer', 0.93],
  ])('%s accuracy is at least %s', async (name, bound) => {
    const { train, test } = holdout(loadCsv(name, 'classification'), 7);
    const model = await fitForest({ ...train, task: 'classification', params: { nEstimators: 50 }, seed: 1 });
    expect(accuracy(model, test)).toBeGreaterThanOrEqual(bound);
  });

  it('diabetes r2 is at least 0.35', async () => {
    const { train, test } = holdout(loadCsv('diabetes', 'regression'), 7);
    const model = await fitForest({ ...train, task: 'regression', params: { nEstimators: 50 }, seed: 1 });
    expect(r2(model, test)).toBeGreaterThanOrEqual(0.35);
  });
});
