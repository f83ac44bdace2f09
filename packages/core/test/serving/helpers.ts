import { createRandom } from '../../src/training/random.js';

export { forestModel, irisCsv, irisRows, trainIris, treeModel } from '../../../../test-utils/iris.js';

/** A seeded generator in [0, 1) (core's mulberry32): the same seed gives the same values on every run. */
export function seededRandom(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
