/**
 * What a stored model is, independent of how it was trained: the task, the labels and the in-memory
 * native model. Formats read and write these; training produces them; serving predicts with them.
 */

/** What a model predicts: a class among known labels, or a number. */
export type Task = 'classification' | 'regression';

/** A class label, kept with the type it had in the data (`'setosa'`, `3`, `true`). */
export type Label = string | number | boolean;

/**
 * A fitted model in memory. It is data, never code: `toJSON()` must return plain JSON that the
 * trainer's `load` turns back into an equal model, so models can be stored and loaded without
 * running stored code.
 *
 * All matrices are row-major `Float64Array`s of `nRows * nFeatures` values, with features in the
 * order of the model's feature list and already encoded (see `FeatureSpec`): no missing values, except
 * NaN for a missing numeric or boolean cell of a feature with `fill: null` (see `Trainer.missingValues`).
 */
export interface NativeModel {
  /**
   * The native format: `'tree-ensemble'` for the built-in tree format (loadable without a trainer,
   * exportable to ONNX; see `createTreeEnsembleModel`), otherwise the name of the trainer that
   * fitted it, whose `load` reads `toJSON()` back. `fitModel` rejects any other value.
   */
  readonly kind: string;
  /** A JSON-serializable description of the model (no functions, no class instances, no typed arrays). */
  toJSON(): unknown;
  /** Regression: one value per row. Classification: one class index (0..nClasses-1) per row. */
  predict(x: Float64Array, nRows: number): Float64Array;
  /** Classification only: `nRows * nClasses` probabilities row-major, each row summing to 1. */
  predictProba?(x: Float64Array, nRows: number): Float64Array;
  /**
   * What the fit found besides the model, set by the trainer on the model it returns (not stored in
   * the native file): `train` writes it into MODEL.json (`importance`, `trainer.info`).
   */
  readonly fitInfo?: ModelFitInfo;
}

/** See {@link NativeModel.fitInfo}. */
export interface ModelFitInfo {
  /** Importance per feature in model input order, by method (e.g. `gain`), normalized to sum 1. */
  importance?: Record<string, number[]>;
  /** JSON facts of the fit, e.g. `{ rounds, bestIteration }` of gradient boosting with early stopping. */
  info?: Record<string, number | string | boolean>;
}

/** Who can read a non-built-in native model back: the trainer of that name (see `TrainerRegistry`). */
export interface NativeModelLoaders {
  has(kind: string): boolean;
  get(kind: string): { load(json: unknown): NativeModel };
}
