import type { z } from 'zod';
import { alreadyExists, invalidArgument } from '../errors.js';
import { nameSchema, parseArg } from '../domain/names.js';
import type { NativeModel, Task } from '../formats/model.js';
import type { FeatureSpec } from '../formats/features.js';

export type { Task, Label, NativeModel, ModelFitInfo } from '../formats/model.js';

/**
 * The phases of `registry.train`, in order: `reading` the dataset, `fitting` (and evaluating),
 * `exporting` to ONNX, `checking` the export against the native model, `writing` the files and
 * metadata. `exporting` and `checking` are skipped when no ONNX file is made.
 */
export type TrainPhase = 'reading' | 'fitting' | 'exporting' | 'checking' | 'writing';

/** Progress reported while fitting (and, from `registry.train`, in every phase of the call). */
export interface TrainProgress {
  /**
   * The fit's progress, from 0 to 1; never decreases within one fit. From `registry.train` it is 0
   * while reading and stays 1 after the fit (exporting, checking, writing): use `overall` for the
   * whole call.
   */
  fraction: number;
  message?: string;
  /** Set by `registry.train`: the phase this report belongs to. */
  phase?: TrainPhase;
  /** Set by `registry.train`: the progress of the whole call, from 0 to 1, never decreasing. */
  overall?: number;
}

/** What a trainer's `fit` receives. */
export interface FitInput<P = Record<string, unknown>> {
  /**
   * The training matrix, row-major, encoded (numbers, 0/1 booleans, category codes). No missing
   * values, unless the trainer has `missingValues: 'nan'`: then a missing numeric or boolean cell is NaN.
   */
  x: Float64Array;
  nRows: number;
  nFeatures: number;
  /** Feature names in column order (for trainers that report importances or want readable JSON). */
  featureNames: readonly string[];
  /**
   * How each column was encoded (same order), e.g. to one-hot encode the categorical ones. Set by
   * `registry.train` / `fitModel`; may be absent when a trainer is called directly.
   */
  features?: readonly FeatureSpec[];
  /** Regression: target values. Classification: class indices 0..nClasses-1. */
  y: Float64Array;
  task: Task;
  /** Classification: the number of classes (at least 2). Undefined for regression. */
  nClasses: number | undefined;
  /** The effective params: the output of `paramsSchema` (defaults resolved), or the given params. */
  params: P;
  /** A 32-bit unsigned seed; the same seed and input must give the same model. */
  seed: number;
  /**
   * When aborted, `fit` should stop soon and throw (`signal.throwIfAborted()` will do); whatever it
   * throws once the signal fired, `train` rejects with `ABORTED`.
   */
  signal?: AbortSignal;
  /** Report progress; optional to call. */
  onProgress?: (progress: TrainProgress) => void;
}

/**
 * A learning algorithm: fits a {@link NativeModel} on an encoded matrix and loads one back from
 * JSON. Built in: `random-forest` and `decision-tree`; users add their own with
 * `registry.registerTrainer(trainer)`.
 *
 * Trainers never see tables, missing values or label strings: modelreg selects and encodes the
 * features, maps class labels to indices, splits train/test, computes metrics and stores the files.
 *
 * @example
 * const meanTrainer: Trainer<{ shift: number }> = {
 *   name: 'mean',
 *   tasks: ['regression'],
 *   paramsSchema: z.object({ shift: z.number().default(0) }),
 *   fit: ({ y, params }) => meanModel(y.reduce((a, b) => a + b, 0) / y.length + params.shift),
 *   load: (json) => meanModel((json as { mean: number }).mean),
 * };
 */
export interface Trainer<P = Record<string, unknown>> {
  /** The name used in `model: { type }` and stored in MODEL.json; `[A-Za-z0-9._-]`, 1–128 chars. */
  readonly name: string;
  /** The tasks it can learn. */
  readonly tasks: readonly Task[];
  /**
   * Parses the user's params (an object, `{}` when none were given) into the effective params,
   * resolving defaults. A parse failure is `INVALID_ARGUMENT`. The effective params are logged on the
   * run and stored in MODEL.json, so keep them JSON (numbers, strings, booleans).
   * Without a schema the params are passed through unchanged.
   */
  readonly paramsSchema?: z.ZodType<P>;
  /**
   * What the trainer and its models get for a missing numeric or boolean cell: `'median'` (default)
   * the training median, `'nan'` NaN, for models that learn where missing values go (the features get
   * `fill: null`, so prediction passes NaN too). Categorical features always get their `__missing__` code.
   */
  readonly missingValues?: 'median' | 'nan';
  /** Fits a model. May be async; should honour `signal` and may report progress. Throw to fail. */
  fit(input: FitInput<P>): NativeModel | Promise<NativeModel>;
  /** Rebuilds a model from `toJSON()` output of a model this trainer fitted. Must not run stored code. */
  load(json: unknown): NativeModel;
}

/** Identity helper that infers `P` from the params schema. */
export function defineTrainer<P>(trainer: Trainer<P>): Trainer<P> {
  return trainer;
}

/** The trainers known to a registry, by name. */
export interface TrainerRegistry {
  /** Adds a trainer. `ALREADY_EXISTS` when the name is taken; `INVALID_ARGUMENT` for a bad name or no tasks. */
  register<P>(trainer: Trainer<P>): void;
  /** The trainer with that name; `INVALID_ARGUMENT` listing the known names when there is none. */
  get(name: string): Trainer;
  has(name: string): boolean;
  /** Known names, sorted. */
  names(): string[];
}

/** A trainer registry holding `trainers` (see `createDefaultTrainerRegistry` for the built-in ones). */
export function createTrainerRegistry(trainers: readonly Trainer[] = []): TrainerRegistry {
  const byName = new Map<string, Trainer>();
  const registry: TrainerRegistry = {
    register(trainer) {
      parseArg(nameSchema, trainer?.name, 'trainer name', 'train');
      if (!Array.isArray(trainer.tasks) || trainer.tasks.length === 0) {
        throw invalidArgument(`trainer "${trainer.name}" must list at least one task`, 'train');
      }
      if (typeof trainer.fit !== 'function' || typeof trainer.load !== 'function') {
        throw invalidArgument(`trainer "${trainer.name}" must have fit() and load() functions`, 'train');
      }
      if (
        trainer.missingValues !== undefined &&
        trainer.missingValues !== 'median' &&
        trainer.missingValues !== 'nan'
      ) {
        throw invalidArgument(
          `trainer "${trainer.name}": missingValues must be "median" or "nan", got ${JSON.stringify(trainer.missingValues)}`,
          'train',
        );
      }
      if (trainer.name === 'tree-ensemble') {
        throw invalidArgument(
          'the trainer name "tree-ensemble" is reserved for the built-in tree format',
          'train',
        );
      }
      if (byName.has(trainer.name)) {
        throw alreadyExists(`trainer "${trainer.name}" is already registered`, 'train');
      }
      byName.set(trainer.name, trainer as unknown as Trainer);
    },
    get(name) {
      const trainer = byName.get(name);
      if (!trainer) {
        const known = registry.names();
        throw invalidArgument(
          `unknown model type ${JSON.stringify(name)}; known: ${known.length ? known.join(', ') : '(none)'}`,
          'train',
          { known },
        );
      }
      return trainer;
    },
    has: (name) => byName.has(name),
    names: () => [...byName.keys()].sort(),
  };
  for (const trainer of trainers) registry.register(trainer);
  return registry;
}
