import { z } from 'zod';
import { RegistryError, abortedError, invalidArgument, isRegistryError, throwIfAborted } from '../errors.js';
import { parseArg } from '../domain/names.js';
import type { DataTable } from '../domain/table.js';
import type { ModelManifest } from '../formats/manifest.js';
import { toNativeModelFile, TREE_ENSEMBLE_KIND } from '../formats/native/native-model.js';
import type { NativeModelFile } from '../formats/native/native-model.js';
import { describeSignature } from '../formats/manifest.js';
import { MISSING_MARKERS, VALUE_RULES_VERSION } from '../datasets/values.js';
import { encodeTable, fitFeatureSpecs, selectFeatures } from '../formats/features.js';
import type { ExcludedColumn } from '../formats/features.js';
import { classificationMetrics, confusionMatrix, regressionMetrics } from './metrics.js';
import { splitOptionsSchema, trainTestSplit } from './split.js';
import type { SplitOptions } from './split.js';
import { encodeTarget } from './task.js';
import type { Label, NativeModel, Task, Trainer, TrainProgress } from './trainer.js';
import type { FeatureImportance, LinearCoefficients } from '../formats/manifest.js';
import type { FeatureSpec } from '../formats/features.js';
import { designOffsets, isLinearModel } from '../formats/linear.js';
import type { LinearModelJson } from '../formats/linear.js';
import { isTreeEnsembleModel } from '../formats/native/native-model.js';
import { MISSING_CATEGORY } from '../formats/features.js';
import { linearCoefficientImportance, permutationImportance, treeGainImportance } from './importance.js';

export interface FitModelInput {
  table: DataTable;
  /** The column to predict. */
  target: string;
  /** Feature columns in model order; default: every usable column but the target (see `selectFeatures`). */
  features?: readonly string[];
  /** Default: inferred from the target (see `inferTask`). */
  task?: Task;
  trainer: Trainer;
  /** Raw params; parsed by `trainer.paramsSchema` (defaults resolved). Default `{}`. */
  params?: Record<string, unknown>;
  /** Holdout share (default 0.2) and seed (default 42) of the split; the seed is also the trainer's. */
  split?: SplitOptions;
  /** Checked before fitting and by the trainer (between trees for `random-forest`); on abort `fitModel` rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Progress from 0 (data encoded) through the trainer's reports to 1 (evaluated). */
  onProgress?: (progress: TrainProgress) => void;
  /** `MODEL.json#createdAt`; default `Date.now()`. */
  createdAt?: number;
  /**
   * Called with the fitted model, the encoded test rows and the classes as soon as the trainer
   * returns, before the test rows are scored: work that needs only the model (the ONNX export) can
   * start there, on another thread.
   */
  onFitted?: (
    model: NativeModel,
    testSet: FitModelResult['testSet'],
    classes: readonly Label[] | undefined,
  ) => void;
}

export interface FitModelResult {
  /** MODEL.json content with `files: []`: the registry adds the files it writes, with sha256 and size. */
  manifest: ModelManifest;
  /** The content of `model.native.json` (`JSON.stringify` it); read back with `loadNativeModel`. */
  nativeJson: NativeModelFile;
  model: NativeModel;
  /** Test-set metrics: `accuracy`, `f1_macro`, `log_loss` (when the model has probabilities) or `r2`, `rmse`, `mae`. */
  metrics: Record<string, number>;
  /** Classification: `matrix[t][p]` counts test rows of class `labels[t]` predicted as `labels[p]`. */
  confusionMatrix?: { labels: Label[]; matrix: number[][] };
  /** The effective trainer params (defaults resolved), as stored in MODEL.json. */
  params: Record<string, z.core.util.JSONType>;
  /** The encoded test rows (y: values or class indices), e.g. to check an ONNX export against `model`. */
  testSet: { x: Float64Array; y: Float64Array; nRows: number };
  trainRows: number;
  testRows: number;
  /** Rows left out because their target was missing. */
  droppedRows: number;
  excludedColumns: ExcludedColumn[];
}

const jsonParamsSchema = z.record(z.string(), z.json());

function pick(values: Float64Array, positions: readonly number[]): Float64Array {
  const out = new Float64Array(positions.length);
  positions.forEach((p, i) => (out[i] = values[p]!));
  return out;
}

function resolveParams(
  trainer: Trainer,
  params: Record<string, unknown> | undefined,
): Record<string, z.core.util.JSONType> {
  const what = `params of model type "${trainer.name}"`;
  const parsed: unknown = trainer.paramsSchema
    ? parseArg(trainer.paramsSchema, params ?? {}, what, 'train')
    : (params ?? {});
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument(`${what} must be an object`, 'train');
  }
  const defined = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
  return parseArg(jsonParamsSchema, defined, `${what} (they must be JSON values)`, 'train');
}

async function runTrainer(trainer: Trainer, input: Parameters<Trainer['fit']>[0]): Promise<NativeModel> {
  try {
    return await trainer.fit(input);
  } catch (e) {
    if (isRegistryError(e)) throw e;
    // A trainer may stop with the signal's reason (`signal.throwIfAborted()`): that is an abort.
    if (input.signal?.aborted) throw abortedError(input.signal, 'train');
    const message = e instanceof Error ? e.message : String(e);
    throw new RegistryError('INVALID_ARGUMENT', `trainer "${trainer.name}" failed: ${message}`, {
      where: 'train',
      cause: e,
    });
  }
}

/**
 * Selects and encodes the features, splits train/test (stratified for classification), fits the
 * trainer on the training rows and evaluates it on the test rows. Pure: no store is touched.
 * Bad input is `INVALID_ARGUMENT` (unknown target or feature, no usable features, a target with no
 * values or a single class, too few rows, bad params, a trainer that does not support the task).
 * The same table, options and seed give the same model.
 */
export async function fitModel(input: FitModelInput): Promise<FitModelResult> {
  const { table, target, trainer, signal, onProgress } = input;
  throwIfAborted(signal, 'train');
  if (typeof target !== 'string' || target === '')
    throw invalidArgument('target must name a column', 'train');
  const split = parseArg(splitOptionsSchema, input.split ?? {}, 'split', 'train');
  const encoded = encodeTarget(table, target, input.task);
  const { task, classes } = encoded;
  if (!trainer.tasks.includes(task)) {
    throw invalidArgument(
      `model type "${trainer.name}" does not support ${task} (supports: ${trainer.tasks.join(', ')})`,
      'train',
    );
  }
  const { features, excluded } = selectFeatures(table, target, input.features);
  const params = resolveParams(trainer, input.params);
  const nClasses = classes?.length;

  const { train, test } = trainTestSplit({
    n: encoded.rows.length,
    testSize: split.testSize,
    seed: split.seed,
    stratify: task === 'classification' ? encoded.y : undefined,
  });
  const trainTableRows = train.map((p) => encoded.rows[p]!);
  const testTableRows = test.map((p) => encoded.rows[p]!);
  const specs = fitFeatureSpecs(
    table,
    features,
    encoded.rows,
    trainTableRows,
    trainer.missingValues === 'nan' ? 'nan' : 'median',
  );
  const nFeatures = specs.length;
  const xTrain = encodeTable(table, specs, trainTableRows);
  const yTrain = pick(encoded.y, train);
  const xTest = encodeTable(table, specs, testTableRows);
  const yTest = pick(encoded.y, test);
  onProgress?.({ fraction: 0, message: `training on ${train.length} rows x ${nFeatures} features` });

  const model = await runTrainer(trainer, {
    x: xTrain,
    nRows: train.length,
    nFeatures,
    featureNames: features,
    features: specs,
    y: yTrain,
    task,
    nClasses,
    params,
    seed: split.seed,
    signal,
    onProgress,
  });
  // Between the steps after the fit (scoring the test rows, writing the native JSON: each a few
  // hundred ms on deep forests) an abort is seen: a timer, unlike setImmediate, lets due timers run.
  const checkpoint = async (): Promise<void> => {
    if (!signal) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwIfAborted(signal, 'train');
  };
  await checkpoint();
  if (model.kind !== TREE_ENSEMBLE_KIND && model.kind !== trainer.name) {
    throw invalidArgument(
      `trainer "${trainer.name}" returned a model of kind "${model.kind}"; kind must be "${trainer.name}" or "${TREE_ENSEMBLE_KIND}"`,
      'train',
    );
  }

  input.onFitted?.(model, { x: xTest, y: yTest, nRows: test.length }, classes);
  const predicted = model.predict(xTest, test.length);
  if (predicted.length !== test.length) {
    throw invalidArgument(
      `trainer "${trainer.name}" predicted ${predicted.length} values for ${test.length} rows`,
      'train',
    );
  }
  let metrics: Record<string, number>;
  let confusion: FitModelResult['confusionMatrix'];
  if (task === 'classification') {
    const proba = model.predictProba?.(xTest, test.length);
    metrics = classificationMetrics(yTest, predicted, nClasses!, proba);
    confusion = { labels: classes!, matrix: confusionMatrix(yTest, predicted, nClasses!) };
  } else {
    metrics = regressionMetrics(yTest, predicted);
  }
  const importance = measureImportance(model, {
    names: features,
    train: { x: xTrain, y: yTrain, nRows: train.length },
    test: { x: xTest, y: yTest, nRows: test.length },
    nFeatures,
    task,
    seed: split.seed,
  });
  onProgress?.({ fraction: 1, message: `evaluated on ${test.length} test rows` });
  await checkpoint();

  const manifest: ModelManifest = {
    formatVersion: 1,
    task,
    target,
    features: specs,
    ...(classes ? { classes } : {}),
    files: [],
    trainer: {
      name: trainer.name,
      params,
      ...(model.fitInfo?.info ? { info: { ...model.fitInfo.info } } : {}),
    },
    metrics,
    createdAt: input.createdAt ?? Date.now(),
    signature: describeSignature({ task, features: specs, classes }),
    values: { version: VALUE_RULES_VERSION, missing: [...MISSING_MARKERS] },
    training: {
      seed: split.seed,
      testSize: split.testSize,
      trainRows: train.length,
      testRows: test.length,
      droppedRows: encoded.droppedRows,
      stratified: task === 'classification',
      excludedColumns: excluded,
    },
    ...(importance ? { importance } : {}),
    ...(isLinearModel(model) ? { coefficients: describeCoefficients(model.linear, specs, classes) } : {}),
  };
  const nativeJson = toNativeModelFile(model);
  await checkpoint();
  return {
    manifest,
    nativeJson,
    model,
    metrics,
    ...(confusion ? { confusionMatrix: confusion } : {}),
    params,
    testSet: { x: xTest, y: yTest, nRows: test.length },
    trainRows: train.length,
    testRows: test.length,
    droppedRows: encoded.droppedRows,
    excludedColumns: excluded,
  };
}

const byName = (names: readonly string[], values: Float64Array): Record<string, number> => {
  const out: Record<string, number> = {};
  names.forEach((name, j) =>
    Object.defineProperty(out, name, {
      value: values[j]!,
      enumerable: true,
      writable: true,
      configurable: true,
    }),
  );
  return out;
};

/**
 * Gain and permutation importance for the built-in model kinds (tree ensembles, linear models) and
 * models that report their own gain (`fitInfo.importance.gain`, e.g. gradient boosting); none for other user models.
 */
function measureImportance(
  model: NativeModel,
  data: {
    names: readonly string[];
    train: { x: Float64Array; y: Float64Array; nRows: number };
    test: { x: Float64Array; y: Float64Array; nRows: number };
    nFeatures: number;
    task: Task;
    seed: number;
  },
): FeatureImportance | undefined {
  let gain: FeatureImportance['gain'];
  const own = model.fitInfo?.importance?.['gain'];
  if (own) {
    gain = { method: 'gain', values: byName(data.names, Float64Array.from(own)) };
  } else if (isTreeEnsembleModel(model)) {
    gain = {
      method: 'impurity-decrease',
      values: byName(data.names, treeGainImportance(model.ensemble, data.train)),
    };
  } else if (isLinearModel(model)) {
    gain = {
      method: 'abs-standardised-coef',
      values: byName(data.names, linearCoefficientImportance(model.linear, data.train)),
    };
  } else return undefined;
  if (data.test.nRows === 0) return { gain };
  const p = permutationImportance({
    predict: (x, n) => model.predict(x, n),
    ...data.test,
    nFeatures: data.nFeatures,
    task: data.task,
    seed: data.seed,
  });
  return {
    gain,
    permutation: {
      metric: p.metric,
      baseline: p.baseline,
      rows: p.rows,
      repeats: p.repeats,
      mean: byName(data.names, p.mean),
      std: byName(data.names, p.std),
    },
  };
}

/** The readable coefficient table of a linear model for MODEL.json. */
function describeCoefficients(
  linear: LinearModelJson,
  specs: readonly FeatureSpec[],
  classes: readonly Label[] | undefined,
): LinearCoefficients {
  const offsets = designOffsets(linear.inputs);
  const column = (c: number) => linear.coef.map((row) => row[c]!);
  const terms: LinearCoefficients['terms'] = [];
  linear.inputs.forEach((input, j) => {
    if (input.type === 'numeric') {
      terms.push({
        feature: specs[j]!.name,
        mean: input.mean,
        scale: input.scale,
        coef: column(offsets[j]!),
      });
    }
  });
  linear.inputs.forEach((input, j) => {
    if (input.type !== 'onehot') return;
    const spec = specs[j]!;
    const categories = spec.type === 'categorical' ? spec.categories : [];
    for (let c = 0; c < input.codes; c++) {
      terms.push({
        feature: spec.name,
        category: categories[c] ?? MISSING_CATEGORY,
        coef: column(offsets[j]! + c),
      });
    }
  });
  const outputs: Label[] =
    linear.link === 'identity' ? ['value'] : linear.link === 'logistic' ? [classes![1]!] : [...classes!];
  return { link: linear.link, outputs, intercept: [...linear.intercept], terms };
}
