import { readFileSync } from 'node:fs';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { createRandom } from '../../src/training/random.js';

export const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url), 'utf8');

/** Iris rows without the target, cycling through the data set. */
export const irisRows: Array<Record<string, number>> = irisCsv
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [a, b, c, d] = line.split(',').map(Number);
    return { sepal_length_cm: a!, sepal_width_cm: b!, petal_length_cm: c!, petal_width_cm: d! };
  });

export const treeModel = { type: 'decision-tree' };
export const forestModel = { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } };

/** Trains and registers the next version of `name` on iris; returns its number. */
export async function trainIris(
  registry: ModelRegistry,
  name: string,
  model: { type: string; params?: Record<string, unknown> } = treeModel,
  register: { stage?: string; alias?: string; archiveExisting?: boolean } = {},
): Promise<number> {
  const { version } = await registry.train({
    dataset: { csv: irisCsv },
    target: 'species',
    model,
    split: { seed: 1 },
    register: { name, ...register },
  });
  return version!.version;
}

/** A seeded generator in [0, 1) (core's mulberry32): the same seed gives the same values on every run. */
export function seededRandom(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
