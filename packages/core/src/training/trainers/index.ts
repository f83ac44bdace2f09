import { createTrainerRegistry } from '../trainer.js';
import type { Trainer, TrainerRegistry } from '../trainer.js';
import { decisionTreeTrainer } from './decision-tree.js';
import { gradientBoostingTrainer } from './gradient-boosting.js';
import { randomForestTrainer } from './random-forest.js';
import { linearTrainer } from './linear.js';

export { randomForestTrainer, randomForestParamsSchema } from './random-forest.js';
export type { RandomForestParams, NativeForestParams, LibraryForestParams } from './random-forest.js';
export { decisionTreeTrainer, decisionTreeParamsSchema } from './decision-tree.js';
export type { DecisionTreeParams, LibraryTreeParams } from './decision-tree.js';
export { gradientBoostingTrainer, gradientBoostingParamsSchema } from './gradient-boosting.js';
export type { GradientBoostingParams } from './gradient-boosting.js';
export { linearTrainer, linearParamsSchema } from './linear.js';
export type { LinearParams } from './linear.js';

/** The trainers every registry starts with: `random-forest`, `decision-tree`, `gradient-boosting` and `linear`. */
export const builtinTrainers: readonly Trainer[] = [
  randomForestTrainer,
  decisionTreeTrainer,
  gradientBoostingTrainer,
  linearTrainer,
];

/** A trainer registry holding the built-in trainers; add yours with `register`. */
export function createDefaultTrainerRegistry(): TrainerRegistry {
  return createTrainerRegistry(builtinTrainers);
}
