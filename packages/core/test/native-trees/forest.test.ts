import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import type { TrainProgress } from '../../src/training/trainer.js';
import { fitForest } from '../../src/training/native/index.js';
import type { FitForestInput } from '../../src/training/native/index.js';
import { friedman, threeClasses } from './helpers.js';

const reg = friedman(1500, 6, 4);
const cls = threeClasses(1500, 6, 4);

function sameForest(a: TreeEnsemble, b: TreeEnsemble): boolean {
  return (
    a.trees.length === b.trees.length &&
    a.trees.every((t, i) => {
      const u = b.trees[i]!;
      return (['feature', 'threshold', 'left', 'right', 'value'] as const).every(
        (k) => t[k].length === u[k].length && t[k].every((v, j) => Object.is(v, u[k][j])),
      );
    })
  );
}

const regInput = (extra: Partial<FitForestInput> = {}): FitForestInput => ({
  ...reg,
  task: 'regression',
  params: { nEstimators: 6, maxDepth: 8 },
  seed: 17,
  ...extra,
});

async function expectInvalid(input: FitForestInput, message: RegExp): Promise<void> {
  const error = await fitForest(input).catch((e: unknown) => e);
  expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
  expect((error as Error).message).toMatch(message);
}

describe('fitForest', () => {
  it('the same seed gives the same forest, another seed another one', async () => {
    const a = await fitForest(regInput());
    const b = await fitForest(regInput());
    const c = await fitForest(regInput({ seed: 18 }));
    expect(sameForest(a, b)).toBe(true);
    expect(sameForest(a, c)).toBe(false);
    expect(sameForest({ ...a, trees: [a.trees[0]!] }, { ...a, trees: [a.trees[1]!] })).toBe(false);
  });

  it('worker threads grow the same forest as the calling thread, for any worker count', async () => {
    const input = {
      ...cls,
      task: 'classification' as const,
      params: { nEstimators: 5, maxDepth: 10 },
      seed: 3,
    };
    const single = await fitForest(input);
    // At most the available parallelism (a cap); 2 and 3 where the machine has them.
    for (let workers = 2; workers <= Math.min(3, Math.max(2, availableParallelism())); workers++) {
      expect(sameForest(single, await fitForest({ ...input, workers }))).toBe(true);
    }
  });

  it('progress is reported after every tree and ends at 1', async () => {
    for (const workers of [1, 2]) {
      const seen: TrainProgress[] = [];
      await fitForest(regInput({ workers, onProgress: (p) => seen.push(p) }));
      expect(seen.map((p) => p.fraction)).toEqual([1, 2, 3, 4, 5, 6].map((k) => k / 6));
    }
  });

  it('an aborted signal stops fitting before the next tree with ABORTED, its reason as the cause', async () => {
    for (const workers of [1, 2]) {
      const reason = new Error(`stop ${workers}`);
      const controller = new AbortController();
      let trees = 0;
      const fit = fitForest(
        regInput({
          workers,
          signal: controller.signal,
          onProgress: () => {
            if (++trees === 2) controller.abort(reason);
          },
        }),
      );
      await expect(fit).rejects.toMatchObject({ name: 'RegistryError', code: 'ABORTED', cause: reason });
      expect(trees).toBeLessThan(6);
    }
    const pre = new AbortController();
    pre.abort(new Error('early'));
    await expect(fitForest(regInput({ signal: pre.signal }))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(fitForest(regInput({ signal: pre.signal }))).rejects.toThrow('early');
  });

  it('a node keeps drawing features past maxFeatures until one varies, as scikit-learn does', async () => {
    const n = 400;
    const x = new Float64Array(n * 9).fill(1);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      x[r * 9 + 7] = r % 2;
      y[r] = r % 2;
    }
    const model = await fitForest({
      x,
      nRows: n,
      nFeatures: 9,
      y,
      task: 'classification',
      params: { nEstimators: 4 },
    });
    for (const t of model.trees) expect(t.feature[0]).toBe(7);
  });

  it('defaults follow scikit-learn: sqrt features for classification, all for regression, bootstrap on', async () => {
    const model = await fitForest({ ...cls, task: 'classification', params: { nEstimators: 3 }, seed: 1 });
    expect(model).toMatchObject({ task: 'classification', nOutputs: 3, nFeatures: 6, mode: 'leq' });
    expect(model.trees).toHaveLength(3);
  });

  it('degenerate data gives single-leaf trees: one class, one row, constant features', async () => {
    const oneClass = await fitForest({
      ...cls,
      y: new Float64Array(cls.nRows),
      nClasses: undefined,
      task: 'classification',
      params: { nEstimators: 2 },
    });
    expect(oneClass.nOutputs).toBe(1);
    for (const t of oneClass.trees) expect([t.feature.length, t.value[0]]).toEqual([1, 1]);
    const oneRow = await fitForest({
      x: Float64Array.of(1, 2),
      nRows: 1,
      nFeatures: 2,
      y: [3],
      task: 'regression',
    });
    expect(oneRow.trees[0]!.value[0]).toBe(3);
    const constant = await fitForest({
      ...reg,
      x: new Float64Array(reg.x.length),
      task: 'regression',
      params: { nEstimators: 2 },
    });
    for (const t of constant.trees) expect(t.feature.length).toBe(1);
  });

  it('bad params and bad data are INVALID_ARGUMENT', async () => {
    await expectInvalid(regInput({ params: { nEstimators: 2, depth: 3 } as never }), /depth/);
    await expectInvalid(regInput({ params: { criterion: 'gini' } }), /does not fit the regression task/);
    await expectInvalid(regInput({ params: { maxFeatures: 7 } }), /more than the 6 features/);
    await expectInvalid(regInput({ params: { minSamplesSplit: 1 } }), /minSamplesSplit/);
    await expectInvalid(regInput({ y: reg.y.subarray(1) }), /y has 1499 values/);
    await expectInvalid({ ...cls, task: 'classification', nClasses: 2 }, /does not cover class index 2/);
    await expectInvalid(
      { ...cls, y: cls.y.map((v) => v + 0.5), task: 'classification' },
      /not a class index/,
    );
  });
});
