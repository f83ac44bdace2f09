import { describe, expect, it } from 'vitest';
import { predictEnsemble } from '../../src/formats/tree-ensemble.js';
import type { TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { fitTree } from '../../src/training/native/index.js';
import { createRandom } from '../../src/training/random.js';
import { friedman, leafCounts, threeClasses, treeDepth } from './helpers.js';

type Criterion = 'gini' | 'entropy' | 'squared_error';

function impurity(ys: number[], criterion: Criterion): number {
  const n = ys.length;
  if (criterion === 'squared_error') {
    const mean = ys.reduce((a, b) => a + b, 0) / n;
    return ys.reduce((a, y) => a + (y - mean) ** 2, 0) / n;
  }
  const counts = new Map<number, number>();
  for (const y of ys) counts.set(y, (counts.get(y) ?? 0) + 1);
  let v = criterion === 'gini' ? 1 : 0;
  for (const c of counts.values()) v += criterion === 'gini' ? -((c / n) ** 2) : -(c / n) * Math.log(c / n);
  return v;
}

/** Weighted impurity decrease of splitting the rows on `x[f] <= t`. */
function decrease(
  x: Float64Array,
  y: Float64Array,
  nF: number,
  f: number,
  t: number,
  criterion: Criterion,
): number {
  const all = Array.from(y);
  const left = all.filter((_, r) => x[r * nF + f]! <= t);
  const right = all.filter((_, r) => x[r * nF + f]! > t);
  return (
    all.length * impurity(all, criterion) -
    left.length * impurity(left, criterion) -
    right.length * impurity(right, criterion)
  );
}

/** The best root split by exhaustive search over midpoints of distinct raw values. */
function bruteForceBest(
  x: Float64Array,
  y: Float64Array,
  n: number,
  nF: number,
  criterion: Criterion,
): number {
  let best = -Infinity;
  for (let f = 0; f < nF; f++) {
    const values = [...new Set(Array.from({ length: n }, (_, r) => x[r * nF + f]!))].sort((a, b) => a - b);
    for (let i = 0; i + 1 < values.length; i++) {
      best = Math.max(best, decrease(x, y, nF, f, (values[i]! + values[i + 1]!) / 2, criterion));
    }
  }
  return best;
}

/** Training rows reaching each node of tree 0. */
function rowsPerNode(model: TreeEnsemble, x: Float64Array, n: number): number[] {
  const t = model.trees[0]!;
  const counts = new Array<number>(t.feature.length).fill(0);
  for (let r = 0; r < n; r++) {
    let node = 0;
    counts[0]!++;
    while (t.feature[node]! >= 0) {
      node =
        x[r * model.nFeatures + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
      counts[node]!++;
    }
  }
  return counts;
}

describe('fitTree', () => {
  it('a single tree fits a step function exactly, with midpoint thresholds', () => {
    const n = 100;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = x.map((v) => (v < 30 ? 1 : v < 70 ? 5 : -2));
    const model = fitTree({ x, nRows: n, nFeatures: 1, y, task: 'regression' });
    expect(Array.from(predictEnsemble(model, x, n))).toEqual(Array.from(y));
    const t = model.trees[0]!;
    expect(t.feature.length).toBe(5);
    expect(Array.from(t.threshold.filter((_, i) => t.feature[i]! >= 0)).sort((a, b) => a - b)).toEqual([
      29.5, 69.5,
    ]);
    expect(model.mode).toBe('leq');
  });

  it('squared error splits a hand-made set where the variance drops most', () => {
    // x0 separates {0,0,0} from {10,10,12}; x1 mixes them.
    const x = Float64Array.from([1, 1, 2, 2, 3, 1, 4, 2, 5, 1, 6, 2]);
    const y = Float64Array.from([0, 0, 0, 10, 10, 12]);
    const model = fitTree({ x, nRows: 6, nFeatures: 2, y, task: 'regression', params: { maxDepth: 1 } });
    const t = model.trees[0]!;
    expect([t.feature[0], t.threshold[0]]).toEqual([0, 3.5]);
    expect(Array.from(t.value)).toEqual([0, 0, 32 / 3]); // internal nodes hold 0
  });

  it.each(['gini', 'entropy'] as const)('%s splits a hand-made set on the purer partition', (criterion) => {
    // x1 <= 0.5 isolates class 2 exactly; x0 only separates class 0 from a mix.
    const x = Float64Array.from([0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1]);
    const y = Float64Array.from([0, 0, 1, 2, 2, 2]);
    const model = fitTree({
      x,
      nRows: 6,
      nFeatures: 2,
      y,
      task: 'classification',
      params: { maxDepth: 1, criterion },
    });
    const t = model.trees[0]!;
    expect([t.feature[0], t.threshold[0]]).toEqual([1, 0.5]);
    expect(Array.from(t.value.subarray(3, 9))).toEqual([2 / 3, 1 / 3, 0, 0, 0, 1]);
  });

  it.each(['squared_error', 'gini', 'entropy'] as const)(
    '%s finds the split an exhaustive search finds on random sets',
    (criterion) => {
      const random = createRandom(criterion.length);
      for (let trial = 0; trial < 20; trial++) {
        const n = 30;
        const nF = 3;
        const x = Float64Array.from({ length: n * nF }, () => Math.round(random.next() * 50));
        const y = Float64Array.from({ length: n }, (_, r) =>
          criterion === 'squared_error' ? x[r * nF]! * random.next() : (x[r * nF + 1]! + random.int(30)) % 3,
        );
        const task = criterion === 'squared_error' ? 'regression' : 'classification';
        const model = fitTree({ x, nRows: n, nFeatures: nF, y, task, params: { maxDepth: 1, criterion } });
        const t = model.trees[0]!;
        const got = decrease(x, y, nF, t.feature[0]!, t.threshold[0]!, criterion);
        const want = bruteForceBest(x, y, n, nF, criterion);
        expect(got).toBeCloseTo(want, 9);
      }
    },
  );

  it('leaf values are the mean target of the training rows the IR routes to them (quantile bins)', () => {
    const d = friedman(3000, 5, 11);
    const model = fitTree({ ...d, task: 'regression', params: { maxDepth: 9, minSamplesLeaf: 3 } });
    const t = model.trees[0]!;
    const sums = new Map<number, { s: number; n: number }>();
    for (let r = 0; r < d.nRows; r++) {
      let node = 0;
      while (t.feature[node]! >= 0) {
        node =
          d.x[r * d.nFeatures + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
      }
      const acc = sums.get(node) ?? { s: 0, n: 0 };
      acc.s += d.y[r]!;
      acc.n++;
      sums.set(node, acc);
    }
    for (const [leaf, { s, n }] of sums) expect(t.value[leaf]).toBeCloseTo(s / n, 9);
    expect(sums.size).toBe(t.feature.filter((f) => f < 0).length);
  });

  it('maxDepth bounds the depth of the tree', () => {
    const d = friedman(2000, 5, 1);
    for (const maxDepth of [1, 3, 6]) {
      const model = fitTree({ ...d, task: 'regression', params: { maxDepth } });
      expect(treeDepth(model)).toBe(maxDepth);
    }
    expect(treeDepth(fitTree({ ...d, task: 'regression' }))).toBeGreaterThan(6);
  });

  it('minSamplesLeaf leaves at least that many training rows in every leaf', () => {
    const d = threeClasses(1500, 6, 2);
    const model = fitTree({ ...d, task: 'classification', params: { minSamplesLeaf: 9 } });
    const counts = [...leafCounts(model, d.x, d.nRows).values()];
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(9);
    expect(Math.min(...counts)).toBeLessThan(20);
  });

  it('minSamplesSplit leaves nodes with fewer rows unsplit', () => {
    const d = friedman(1500, 5, 5);
    const model = fitTree({ ...d, task: 'regression', params: { minSamplesSplit: 40 } });
    const t = model.trees[0]!;
    const rows = rowsPerNode(model, d.x, d.nRows);
    t.feature.forEach((f, node) => {
      if (f >= 0) expect(rows[node]).toBeGreaterThanOrEqual(40);
    });
  });

  it('classification leaves hold class distributions and an unlimited tree fits its training labels', () => {
    const d = threeClasses(800, 4, 8);
    const model = fitTree({ ...d, task: 'classification', params: { criterion: 'entropy' } });
    const t = model.trees[0]!;
    for (let node = 0; node < t.feature.length; node++) {
      const sum = t.value[node * 3]! + t.value[node * 3 + 1]! + t.value[node * 3 + 2]!;
      expect(sum).toBeCloseTo(t.feature[node]! < 0 ? 1 : 0, 12); // internal nodes hold zeros
    }
    const proba = predictEnsemble(model, d.x, d.nRows);
    for (let r = 0; r < d.nRows; r++) expect(proba[r * 3 + d.y[r]!]).toBe(1);
  });
});
