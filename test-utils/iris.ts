// Iris helpers shared by core's serving tests and the integration tests (structural types, so
// either core build's ModelRegistry fits).
import { readFileSync } from 'node:fs';

export const irisCsv = readFileSync(
  new URL('../packages/core/test/fixtures/datasets/iris.csv', import.meta.url),
  'utf8',
);

/** Iris rows without the target, in file order. */
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

/** What {@link trainIris} needs of a registry. */
export interface IrisTrainer {
  train(options: {
    dataset: { csv: string };
    target: string;
    model: { type: string; params?: Record<string, unknown> };
    split: { seed: number };
    register: { name: string; stage?: string; alias?: string; archiveExisting?: boolean };
  }): Promise<{ version: { version: number } | null }>;
}

/** Trains and registers the next version of `name` on iris; returns its number. */
export async function trainIris(
  registry: IrisTrainer,
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
