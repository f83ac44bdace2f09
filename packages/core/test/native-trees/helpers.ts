import { readFileSync } from 'node:fs';
import { argmaxRows, predictEnsemble } from '../../src/formats/tree-ensemble.js';
import type { TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { createRandom, shuffleInPlace } from '../../src/training/random.js';

export const DATASETS_DIR = '/work/shared/datasets';

export interface Dataset {
  x: Float64Array;
  y: Float64Array;
  nRows: number;
  nFeatures: number;
  nClasses: number | undefined;
}

/** A numeric CSV whose last column is the target; string targets become class indices in order of appearance. */
export function loadCsv(name: string, task: 'classification' | 'regression'): Dataset {
  const lines = readFileSync(`${DATASETS_DIR}/${name}.csv`, 'utf8').trim().split(/\r?\n/).slice(1);
  const nFeatures = lines[0]!.split(',').length - 1;
  const x = new Float64Array(lines.length * nFeatures);
  const y = new Float64Array(lines.length);
  const classes = new Map<string, number>();
  lines.forEach((line, r) => {
    const cells = line.split(',');
    for (let f = 0; f < nFeatures; f++) x[r * nFeatures + f] = Number(cells[f]);
    const label = cells[nFeatures]!;
    if (task === 'regression') y[r] = Number(label);
    else {
      if (!classes.has(label)) classes.set(label, classes.size);
      y[r] = classes.get(label)!;
    }
  });
  return {
    x,
    y,
    nRows: lines.length,
    nFeatures,
    nClasses: task === 'classification' ? classes.size : undefined,
  };
}

/** Rows in `rows`, in that order. */
export function takeRows(d: Dataset, rows: number[]): Dataset {
  const x = new Float64Array(rows.length * d.nFeatures);
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    x.set(d.x.subarray(r * d.nFeatures, (r + 1) * d.nFeatures), i * d.nFeatures);
    y[i] = d.y[r]!;
  });
  return { ...d, x, y, nRows: rows.length };
}

/** A seeded shuffle, then the last `testShare` of the rows held out. */
export function holdout(d: Dataset, seed: number, testShare = 0.25): { train: Dataset; test: Dataset } {
  const order = shuffleInPlace(
    Array.from({ length: d.nRows }, (_, i) => i),
    createRandom(seed),
  );
  const nTest = Math.round(d.nRows * testShare);
  return { train: takeRows(d, order.slice(nTest)), test: takeRows(d, order.slice(0, nTest)) };
}

export function accuracy(model: TreeEnsemble, d: Dataset): number {
  const labels = argmaxRows(predictEnsemble(model, d.x, d.nRows), model.nOutputs);
  let ok = 0;
  for (let i = 0; i < d.nRows; i++) if (labels[i] === d.y[i]) ok++;
  return ok / d.nRows;
}

export function r2(model: TreeEnsemble, d: Dataset): number {
  const pred = predictEnsemble(model, d.x, d.nRows);
  let mean = 0;
  for (let i = 0; i < d.nRows; i++) mean += d.y[i]!;
  mean /= d.nRows;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < d.nRows; i++) {
    ssRes += (d.y[i]! - pred[i]!) ** 2;
    ssTot += (d.y[i]! - mean) ** 2;
  }
  return 1 - ssRes / ssTot;
}

/** Friedman #1: y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise, with extra noise features. */
export function friedman(nRows: number, nFeatures: number, seed: number, noise = 1): Dataset {
  if (nFeatures < 5) throw new Error('friedman needs at least 5 features');
  const random = createRandom(seed);
  const x = new Float64Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    for (let f = 0; f < nFeatures; f++) x[r * nFeatures + f] = random.next();
    const v = (f: number): number => x[r * nFeatures + f]!;
    const gauss = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    y[r] =
      10 * Math.sin(Math.PI * v(0) * v(1)) + 20 * (v(2) - 0.5) ** 2 + 10 * v(3) + 5 * v(4) + noise * gauss;
  }
  return { x, y, nRows, nFeatures, nClasses: undefined };
}

/** Three classes from the sign pattern of two linear scores over uniform features. */
export function threeClasses(nRows: number, nFeatures: number, seed: number): Dataset {
  const random = createRandom(seed);
  const x = new Float64Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    for (let f = 0; f < nFeatures; f++) x[r * nFeatures + f] = random.next() * 2 - 1;
    const a = x[r * nFeatures]! + 0.5 * x[r * nFeatures + 1]!;
    const b = x[r * nFeatures + 2]! - x[r * nFeatures + 3]!;
    y[r] = a > 0.2 ? 0 : b > 0 ? 1 : 2;
  }
  return { x, y, nRows, nFeatures, nClasses: 3 };
}

/** The rows of `x` that reach each leaf of tree 0 (leaf node id -> row count). */
export function leafCounts(model: TreeEnsemble, x: Float64Array, nRows: number): Map<number, number> {
  const t = model.trees[0]!;
  const counts = new Map<number, number>();
  for (let r = 0; r < nRows; r++) {
    let node = 0;
    while (t.feature[node]! >= 0) {
      node =
        x[r * model.nFeatures + t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
    }
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

/** Depth of the deepest leaf of a tree. */
export function treeDepth(model: TreeEnsemble, k = 0): number {
  const t = model.trees[k]!;
  const depth = (node: number): number =>
    t.feature[node]! < 0 ? 0 : 1 + Math.max(depth(t.left[node]!), depth(t.right[node]!));
  return depth(0);
}
