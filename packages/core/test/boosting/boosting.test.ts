import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { treeEnsembleFromJson, treeEnsembleToJson } from '../../src/formats/native/tree-ensemble-json.js';
import { predictEnsembleFast } from '../../src/formats/native/fast-predict.js';
import { predictEnsemble } from '../../src/formats/tree-ensemble.js';
import { fitBoosting } from '../../src/training/native/boosting.js';
import type { FitBoostingInput } from '../../src/training/native/boosting.js';
import { friedman, holdout, threeClasses } from '../native-trees/helpers.js';
import type { Dataset } from '../native-trees/helpers.js';

const reg = friedman(1000, 6, 3);
const cls = threeClasses(1000, 6, 4);

function input(d: Dataset, params: FitBoostingInput['params'], seed = 1): FitBoostingInput {
  return {
    x: d.x,
    nRows: d.nRows,
    nFeatures: d.nFeatures,
    y: d.y,
    task: d.nClasses === undefined ? 'regression' : 'classification',
    ...(d.nClasses !== undefined ? { nClasses: d.nClasses } : {}),
    params,
    seed,
  };
}

function mse(pred: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i]! - y[i]!) ** 2;
  return s / y.length;
}

describe('gradient boosting (native histogram learner)', () => {
  it("softmax steps use XGBoost's hessian 2q(1 - q): a pure leaf of balanced classes moves by 1.5, not 3", async () => {
    // Three balanced classes, one feature that separates them: at the start every class has q = 1/3,
    // so a leaf holding only class k's rows has g = -2/3 and h = 2 * 1/3 * 2/3 = 4/9 per row in class
    // k's tree (weight -G/H = 1.5; q(1 - q) would give 3), and 1/3, 4/9 in the other trees (-0.75).
    const n = 300;
    const x = Float64Array.from({ length: n }, (_, r) => r % 3);
    const y = Float64Array.from({ length: n }, (_, r) => r % 3);
    const { ensemble } = await fitBoosting({
      x,
      nRows: n,
      nFeatures: 1,
      y,
      task: 'classification',
      nClasses: 3,
      params: { nEstimators: 1, maxDepth: 2, learningRate: 1, l2Regularization: 0 },
    });
    expect(ensemble.trees).toHaveLength(3);
    const leaves = ensemble.trees.map((t) =>
      Array.from(t.value)
        .filter((_, i) => t.feature[i]! < 0)
        .sort((a, b) => a - b),
    );
    for (const values of leaves) {
      expect(values[0]).toBeCloseTo(-0.75, 12);
      expect(values[values.length - 1]).toBeCloseTo(1.5, 12);
    }
  });

  it('the training loss decreases as rounds are added, for every objective', async () => {
    const losses: number[] = [];
    for (const n of [1, 4, 16]) {
      const { ensemble } = await fitBoosting(input(reg, { nEstimators: n, maxDepth: 3 }));
      losses.push(mse(predictEnsemble(ensemble, reg.x, reg.nRows), reg.y));
    }
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(losses[2]).toBeLessThan(losses[1]!);
    // Log loss of the true class, binary and softmax.
    const binary = { ...cls, y: cls.y.map((v) => (v === 0 ? 1 : 0)), nClasses: 2 };
    for (const d of [binary, cls]) {
      const logLoss: number[] = [];
      for (const n of [2, 12]) {
        const { ensemble } = await fitBoosting(input(d, { nEstimators: n, maxDepth: 3 }));
        const p = predictEnsemble(ensemble, d.x, d.nRows);
        const k = d.nClasses!;
        let s = 0;
        for (let r = 0; r < d.nRows; r++) s -= Math.log(p[r * k + d.y[r]!]!);
        logLoss.push(s / d.nRows);
      }
      expect(logLoss[1]).toBeLessThan(logLoss[0]!);
    }
  });

  it('learns held-out structure: r2 and accuracy well above chance', async () => {
    const r = holdout(reg, 5);
    const m = await fitBoosting(input(r.train, { nEstimators: 60, maxDepth: 4 }));
    const pred = predictEnsemble(m.ensemble, r.test.x, r.test.nRows);
    let mean = 0;
    for (const v of r.test.y) mean += v / r.test.nRows;
    let tot = 0;
    for (const v of r.test.y) tot += (v - mean) ** 2;
    expect(1 - (mse(pred, r.test.y) * r.test.nRows) / tot).toBeGreaterThan(0.8);
    const c = holdout(cls, 5);
    const mc = await fitBoosting(input(c.train, { nEstimators: 40, maxLeafNodes: 8, maxDepth: null }));
    const proba = predictEnsemble(mc.ensemble, c.test.x, c.test.nRows);
    let ok = 0;
    for (let i = 0; i < c.test.nRows; i++) {
      let best = 0;
      for (let k = 1; k < 3; k++) if (proba[i * 3 + k]! > proba[i * 3 + best]!) best = k;
      if (best === c.test.y[i]) ok++;
    }
    expect(ok / c.test.nRows).toBeGreaterThan(0.8);
  });

  it('leaf-wise growth stops at maxLeafNodes leaves per tree', async () => {
    const { ensemble } = await fitBoosting(input(reg, { nEstimators: 3, maxLeafNodes: 5, maxDepth: null }));
    for (const t of ensemble.trees) expect(Array.from(t.feature).filter((f) => f < 0)).toHaveLength(5);
  });

  it('early stopping keeps the rounds up to the best validation loss and records it', async () => {
    const noisy = friedman(800, 6, 9, 3);
    const r = await fitBoosting(
      input(noisy, {
        nEstimators: 400,
        learningRate: 0.3,
        maxDepth: 4,
        earlyStopping: true,
        nIterNoChange: 5,
      }),
    );
    expect(r.bestIteration).toBe(r.rounds);
    expect(r.rounds).toBeGreaterThan(1);
    expect(r.rounds).toBeLessThan(400);
    expect(r.ensemble.trees).toHaveLength(r.rounds);
    const v = r.validationLoss!;
    // It grew nIterNoChange rounds past the best one, none of them better.
    expect(v.length).toBe(r.rounds + 5);
    expect(Math.min(...v)).toBe(v[r.rounds - 1]);
  });

  it('missing values: each split learns a default direction, and NaN rows follow it', async () => {
    // y depends on x0; where x0 is missing, y is high — like the largest x0 values.
    const n = 1200;
    const x = new Float64Array(n * 2);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const v = (r * 7919) % 1000;
      const missing = r % 5 === 0;
      x[2 * r] = missing ? NaN : v;
      x[2 * r + 1] = (r * 31) % 17;
      y[r] = missing ? 10 : v < 500 ? 0 : 10;
    }
    const d: Dataset = { x, y, nRows: n, nFeatures: 2, nClasses: undefined };
    const { ensemble } = await fitBoosting(input(d, { nEstimators: 30, maxDepth: 2, learningRate: 0.3 }));
    const root = ensemble.trees[0]!;
    expect(root.feature[0]).toBe(0);
    // The missing rows go with the high side (right of "x0 <= ~500"): no left-direction needed.
    // Flip the target for missing rows: now they must go left with the low values.
    const y2 = y.map((v, r) => (r % 5 === 0 ? 0 : v));
    const m2 = await fitBoosting(input({ ...d, y: y2 }, { nEstimators: 30, maxDepth: 2, learningRate: 0.3 }));
    expect(m2.ensemble.trees[0]!.missingLeft?.[0]).toBe(1);
    const probe = Float64Array.from([NaN, 3, 900, 3, 100, 3]);
    const p1 = predictEnsemble(ensemble, probe, 3);
    const p2 = predictEnsemble(m2.ensemble, probe, 3);
    expect(p1[0]).toBeGreaterThan(8);
    expect(p2[0]).toBeLessThan(2);
    expect(p2[1]).toBeGreaterThan(8);
    // The packed predictor and the JSON round trip agree bit for bit.
    const back = treeEnsembleFromJson(JSON.parse(JSON.stringify(treeEnsembleToJson(m2.ensemble))));
    expect(Array.from(predictEnsembleFast(back, probe, 3))).toEqual(Array.from(p2));
  });

  it('is deterministic by seed, with row and column subsampling', async () => {
    const params = { nEstimators: 6, subsample: 0.7, colsampleByTree: 0.5, maxDepth: 4 };
    const a = await fitBoosting(input(cls, params, 7));
    const b = await fitBoosting(input(cls, params, 7));
    const c = await fitBoosting(input(cls, params, 8));
    const json = (e: typeof a.ensemble): string => JSON.stringify(treeEnsembleToJson(e));
    expect(json(a.ensemble)).toBe(json(b.ensemble));
    expect(json(a.ensemble)).not.toBe(json(c.ensemble));
    expect(Array.from(a.gain)).toEqual(Array.from(b.gain));
  });

  it('native JSON (version 3) and the packed predictor give the same values as the IR', async () => {
    for (const d of [reg, cls]) {
      const { ensemble } = await fitBoosting(input(d, { nEstimators: 8, maxDepth: 3 }));
      const json = treeEnsembleToJson(ensemble);
      expect(json.version).toBe(3);
      const back = treeEnsembleFromJson(JSON.parse(JSON.stringify(json)));
      const want = Array.from(predictEnsemble(ensemble, d.x, 200));
      expect(Array.from(predictEnsemble(back, d.x, 200))).toEqual(want);
      expect(Array.from(predictEnsembleFast(back, d.x, 200))).toEqual(want);
    }
  });

  it('bad params and objectives are INVALID_ARGUMENT naming the problem', async () => {
    const fails = async (p: Promise<unknown>, text: RegExp): Promise<void> => {
      const e = await p.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isRegistryError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as Error).message).toMatch(text);
    };
    await fails(fitBoosting(input(reg, { learningRate: 0 })), /learningRate/);
    await fails(fitBoosting(input(reg, { bogus: 1 } as never)), /bogus/);
    await fails(fitBoosting(input(reg, { objective: 'logistic' })), /does not fit the regression task/);
    await fails(fitBoosting(input(cls, { objective: 'logistic' })), /needs 2 classes/);
  });
});
