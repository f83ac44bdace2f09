import { availableParallelism } from 'node:os';
import { invalidArgument } from '../errors.js';
import type { Task } from './trainer.js';

/**
 * scikit-learn class and param names as aliases of modelreg's trainers and params:
 * `model: { class: 'RandomForestClassifier', params: { n_estimators: 100 } }` (optionally with the
 * seed's `module: 'ensemble'`) trains what scikit-learn would, through modelreg's trainer of that
 * family. Params keep scikit-learn's meaning and, where modelreg's default differs, scikit-learn's
 * default. A class or param without a counterpart is `INVALID_ARGUMENT` naming the ones that exist.
 */

type Value = unknown;
/** Maps one scikit-learn param value to modelreg params (`undefined` leaves the modelreg default). */
type ParamMap = (value: Value, out: Record<string, unknown>, path: string) => void;

interface SklearnClass {
  module: 'ensemble' | 'tree' | 'linear_model';
  type: string;
  task: Task;
  params: Record<string, ParamMap>;
  /** scikit-learn's defaults where modelreg's differ (modelreg param names). */
  defaults?: Record<string, unknown>;
}

const bad = (message: string, details?: Record<string, unknown>) =>
  invalidArgument(message, 'train', details);

/** `name` unchanged (validated by the trainer's schema). */
const to =
  (name: string): ParamMap =>
  (value, out) => {
    out[name] = value;
  };

/** `None` (null) leaves modelreg's default, which is scikit-learn's `None` for these params. */
const orNone =
  (name: string): ParamMap =>
  (value, out) => {
    if (value !== null) out[name] = value;
  };

/** Accepted for compatibility; has no effect on the model modelreg fits (documented per class). */
const ignored: ParamMap = () => undefined;

const oneOf =
  (allowed: readonly unknown[], then: ParamMap = ignored): ParamMap =>
  (value, out, path) => {
    if (!allowed.includes(value)) {
      throw bad(
        `${path} ${JSON.stringify(value)} is not supported; supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      );
    }
    then(value, out, path);
  };

/**
 * scikit-learn's `max_features`: `'sqrt'`, `'log2'`, `None` / `1.0` (every feature), a fraction, or an
 * integer count. JSON cannot tell `1.0` from `1`: 1 is read as scikit-learn's float `1.0`, every feature.
 */
const maxFeatures: ParamMap = (value, out, path) => {
  if (value === null || value === 1 || value === 'auto' || value === 'all')
    out.maxFeatures = value === 'auto' ? 'sqrt' : 'all';
  else if (value === 'sqrt' || value === 'log2') out.maxFeatures = value;
  else if (typeof value === 'number' && value > 0 && value < 1) out.maxFeatures = value;
  else if (typeof value === 'number' && Number.isInteger(value) && value > 1)
    out.maxFeatures = { count: value };
  else throw bad(`${path} must be "sqrt", "log2", null, a fraction in (0, 1] or an integer count`);
};

/** `n_jobs`: worker threads; -1 (or null) means every core, as in scikit-learn. */
const nJobs: ParamMap = (value, out, path) => {
  if (value === null) return;
  if (value === -1) out.workers = availableParallelism();
  else if (typeof value === 'number' && Number.isInteger(value) && value >= 1) out.workers = value;
  else throw bad(`${path} must be a positive integer, -1 or null`);
};

const forestParams: Record<string, ParamMap> = {
  n_estimators: to('nEstimators'),
  max_depth: orNone('maxDepth'),
  max_features: maxFeatures,
  min_samples_split: to('minSamplesSplit'),
  min_samples_leaf: to('minSamplesLeaf'),
  criterion: to('criterion'),
  bootstrap: to('bootstrap'),
  n_jobs: nJobs,
  random_state: ignored,
  verbose: ignored,
};

const treeParams: Record<string, ParamMap> = {
  max_depth: orNone('maxDepth'),
  max_features: maxFeatures,
  min_samples_split: to('minSamplesSplit'),
  min_samples_leaf: to('minSamplesLeaf'),
  criterion: to('criterion'),
  random_state: ignored,
};

/** Solvers that minimise the same L2 objective as modelreg's L-BFGS (liblinear penalises the intercept). */
const logisticSolvers = ['lbfgs', 'newton-cg', 'newton-cholesky', 'sag', 'saga'];

/** `max_depth=None` is unlimited depth in scikit-learn's boosters (the native booster's `null`). */
const boostMaxDepth: ParamMap = (value, out) => {
  out.maxDepth = value;
};

const gradientBoostingParams: Record<string, ParamMap> = {
  learning_rate: to('learningRate'),
  n_estimators: to('nEstimators'),
  max_depth: boostMaxDepth,
  max_leaf_nodes: orNone('maxLeafNodes'),
  min_samples_leaf: to('minSamplesLeaf'),
  subsample: to('subsample'),
  max_features: (value, out, path) => {
    if (value === null || value === 1) return;
    if (typeof value === 'number' && value > 0 && value < 1) out.colsampleByTree = value;
    else throw bad(`${path} must be a fraction in (0, 1] or null (per-tree column sampling)`);
  },
  random_state: ignored,
  verbose: ignored,
};

const histGradientBoostingParams: Record<string, ParamMap> = {
  learning_rate: to('learningRate'),
  max_iter: to('nEstimators'),
  max_depth: boostMaxDepth,
  max_leaf_nodes: orNone('maxLeafNodes'),
  min_samples_leaf: to('minSamplesLeaf'),
  l2_regularization: to('l2Regularization'),
  max_bins: to('maxBins'),
  validation_fraction: to('validationFraction'),
  n_iter_no_change: to('nIterNoChange'),
  random_state: ignored,
  verbose: ignored,
};

/** scikit-learn's GradientBoosting* defaults in the native booster's terms (no L2 on leaf values). */
const gradientBoostingDefaults = {
  maxDepth: 3,
  learningRate: 0.1,
  nEstimators: 100,
  minSamplesLeaf: 1,
  l2Regularization: 0,
  minChildWeight: 1e-3,
};

/** scikit-learn's HistGradientBoosting* defaults: leaf-wise with 31 leaves, no depth limit. */
const histGradientBoostingDefaults = {
  maxDepth: null,
  maxLeafNodes: 31,
  learningRate: 0.1,
  nEstimators: 100,
  minSamplesLeaf: 20,
  l2Regularization: 0,
  minChildWeight: 1e-3,
  maxBins: 256,
};

export const SKLEARN_CLASSES: Readonly<Record<string, SklearnClass>> = {
  RandomForestClassifier: {
    module: 'ensemble',
    type: 'random-forest',
    task: 'classification',
    params: forestParams,
  },
  RandomForestRegressor: {
    module: 'ensemble',
    type: 'random-forest',
    task: 'regression',
    params: forestParams,
  },
  DecisionTreeClassifier: {
    module: 'tree',
    type: 'decision-tree',
    task: 'classification',
    params: treeParams,
  },
  DecisionTreeRegressor: { module: 'tree', type: 'decision-tree', task: 'regression', params: treeParams },
  LogisticRegression: {
    module: 'linear_model',
    type: 'linear',
    task: 'classification',
    params: {
      C: to('C'),
      max_iter: to('maxIter'),
      tol: to('tol'),
      fit_intercept: to('fitIntercept'),
      penalty: oneOf(['l2']),
      solver: oneOf(logisticSolvers),
      multi_class: oneOf(['auto', 'multinomial']),
      random_state: ignored,
      verbose: ignored,
      n_jobs: ignored,
    },
  },
  LinearRegression: {
    module: 'linear_model',
    type: 'linear',
    task: 'regression',
    params: { fit_intercept: to('fitIntercept'), copy_X: ignored, n_jobs: ignored },
    defaults: { alpha: 0 },
  },
  Ridge: {
    module: 'linear_model',
    type: 'linear',
    task: 'regression',
    params: {
      alpha: to('alpha'),
      fit_intercept: to('fitIntercept'),
      solver: oneOf(['auto', 'svd', 'cholesky', 'lsqr', 'sparse_cg', 'sag', 'saga']),
      copy_X: ignored,
      random_state: ignored,
    },
    defaults: { alpha: 1 },
  },
  GradientBoostingClassifier: {
    module: 'ensemble',
    type: 'gradient-boosting',
    task: 'classification',
    params: gradientBoostingParams,
    defaults: gradientBoostingDefaults,
  },
  GradientBoostingRegressor: {
    module: 'ensemble',
    type: 'gradient-boosting',
    task: 'regression',
    params: gradientBoostingParams,
    defaults: gradientBoostingDefaults,
  },
  HistGradientBoostingClassifier: {
    module: 'ensemble',
    type: 'gradient-boosting',
    task: 'classification',
    params: histGradientBoostingParams,
    defaults: histGradientBoostingDefaults,
  },
  HistGradientBoostingRegressor: {
    module: 'ensemble',
    type: 'gradient-boosting',
    task: 'regression',
    params: histGradientBoostingParams,
    defaults: histGradientBoostingDefaults,
  },
};

/** A model given by its scikit-learn name. */
export interface SklearnModelSpec {
  /** `ensemble`, `tree`, `linear_model` (optionally `sklearn.`-prefixed); checked against the class when given. */
  module?: string | undefined;
  class: string;
  params?: Record<string, unknown> | undefined;
}

export interface ResolvedModelSpec {
  /** The modelreg trainer. */
  type: string;
  /** Its params (modelreg names). */
  params: Record<string, unknown>;
  /** The task the scikit-learn class implies (classifier or regressor). */
  task: Task;
}

/**
 * The modelreg trainer, params and task for a scikit-learn class and params. `INVALID_ARGUMENT` for a
 * class without a counterpart (listing those that have one), a module that is not the class's, and a
 * param of the class that modelreg has no counterpart for (listing the ones it has).
 */
export function resolveSklearnModel(spec: SklearnModelSpec): ResolvedModelSpec {
  const name = spec.class;
  const entry = Object.hasOwn(SKLEARN_CLASSES, name) ? SKLEARN_CLASSES[name] : undefined;
  if (!entry) {
    const known = Object.keys(SKLEARN_CLASSES);
    throw bad(`model.class ${JSON.stringify(name)} has no modelreg counterpart; known: ${known.join(', ')}`, {
      known,
    });
  }
  if (spec.module !== undefined) {
    const module = spec.module.replace(/^sklearn\./, '');
    if (module !== entry.module) {
      throw bad(
        `model.module ${JSON.stringify(spec.module)} does not hold ${name}; it is in "${entry.module}"`,
      );
    }
  }
  const params: Record<string, unknown> = { ...entry.defaults };
  for (const [key, value] of Object.entries(spec.params ?? {})) {
    const map = Object.hasOwn(entry.params, key) ? entry.params[key] : undefined;
    if (!map) {
      const known = Object.keys(entry.params);
      throw bad(
        `model.params.${key} is not a param of ${name} that modelreg supports; supported: ${known.join(', ')}`,
        {
          param: key,
          known,
        },
      );
    }
    map(value, params, `model.params.${key}`);
  }
  return { type: entry.type, params, task: entry.task };
}

/** A `model` option: modelreg's `{ type, params }` or scikit-learn's `{ module?, class, params }`. */
export type ModelOption = { type: string; params?: Record<string, unknown> | undefined } | SklearnModelSpec;

/**
 * The trainer, params and task of a `model` option. A scikit-learn classifier or regressor fixes the
 * task: a different explicit `task` is `INVALID_ARGUMENT`.
 */
export function resolveModelOption(
  model: ModelOption,
  task?: Task,
): { type: string; params: Record<string, unknown>; task: Task | undefined } {
  if ('type' in model) return { type: model.type, params: model.params ?? {}, task };
  const resolved = resolveSklearnModel(model);
  if (task !== undefined && task !== resolved.task) {
    throw bad(`model.class ${model.class} is a ${resolved.task} model, but task is "${task}"`);
  }
  return resolved;
}
