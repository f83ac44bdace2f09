import { z } from 'zod';
import { invalidArgument } from '../errors.js';
import { parseArg } from '../domain/names.js';
import { createRandom, shuffleInPlace } from './random.js';

export const DEFAULT_TEST_SIZE = 0.2;
export const DEFAULT_SEED = 42;

/** `registry.train({ split })`: the share of rows held out for evaluation and the seed of everything random. */
export const splitOptionsSchema = z.object({
  testSize: z
    .number()
    .gt(0, 'testSize must be greater than 0')
    .lt(1, 'testSize must be less than 1')
    .default(DEFAULT_TEST_SIZE),
  seed: z.number().int('seed must be an integer').min(0).max(0xffffffff).default(DEFAULT_SEED),
});
export type SplitOptions = z.input<typeof splitOptionsSchema>;
export type ResolvedSplitOptions = z.output<typeof splitOptionsSchema>;

export interface TrainTestSplitInput extends SplitOptions {
  /** Number of rows; rows are identified by 0..n-1. */
  n: number;
  /** Class index per row: split each class proportionally. */
  stratify?: ArrayLike<number>;
}

export interface TrainTestSplit {
  /** Row positions (0..n-1) of the training rows, ascending. */
  train: number[];
  /** Row positions of the test rows, ascending. */
  test: number[];
}

/**
 * Deterministic train/test split: the same `n`, `testSize`, `seed` (and labels) give the same split.
 * The test set has `round(n * testSize)` rows. With `stratify`, each class gives about its share of
 * the test rows (largest remainders), and a class keeps at least one training row whenever possible.
 * `INVALID_ARGUMENT` when `testSize` is not in (0, 1), there are fewer than 2 rows, or either side
 * would be empty.
 */
export function trainTestSplit(input: TrainTestSplitInput): TrainTestSplit {
  const { testSize, seed } = parseArg(
    splitOptionsSchema,
    { testSize: input.testSize, seed: input.seed },
    'split',
    'train',
  );
  const { n, stratify } = input;
  if (!Number.isInteger(n) || n < 2) {
    throw invalidArgument(
      `cannot split ${n} row(s) into train and test sets; at least 2 rows are needed`,
      'train',
    );
  }
  const nTest = Math.round(n * testSize);
  if (nTest === 0 || nTest === n) {
    throw invalidArgument(
      `testSize ${testSize} of ${n} rows leaves the ${nTest === 0 ? 'test' : 'training'} set empty; use more rows or another testSize`,
      'train',
    );
  }
  const random = createRandom(seed);
  const isTest = new Uint8Array(n);
  if (!stratify) {
    const order = shuffleInPlace(
      Array.from({ length: n }, (_, i) => i),
      random,
    );
    for (let i = 0; i < nTest; i++) isTest[order[i]!] = 1;
  } else {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const c = stratify[i]!;
      const g = groups.get(c);
      if (g) g.push(i);
      else groups.set(c, [i]);
    }
    const classes = [...groups.keys()].sort((a, b) => a - b);
    const members = classes.map((c) => shuffleInPlace(groups.get(c)!, random));
    const quota = members.map((m) => (m.length * nTest) / n);
    const capacity = members.map((m) => Math.max(0, m.length - 1));
    const take = quota.map((q, k) => Math.min(Math.floor(q), capacity[k]!));
    let left = nTest - take.reduce((a, b) => a + b, 0);
    // Largest remainder first (ties: lower class index); then any class with room, so the total is exact.
    const order = classes
      .map((_, k) => k)
      .sort((a, b) => quota[b]! - take[b]! - (quota[a]! - take[a]!) || a - b);
    for (const k of order) {
      if (left === 0) break;
      if (take[k]! < capacity[k]! && quota[k]! > take[k]!) {
        take[k]!++;
        left--;
      }
    }
    for (const k of order) {
      while (left > 0 && take[k]! < capacity[k]!) {
        take[k]!++;
        left--;
      }
    }
    for (const k of order) {
      while (left > 0 && take[k]! < members[k]!.length) {
        take[k]!++;
        left--;
      }
    }
    members.forEach((m, k) => {
      for (let i = 0; i < take[k]!; i++) isTest[m[i]!] = 1;
    });
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? test : train).push(i);
  return { train, test };
}
