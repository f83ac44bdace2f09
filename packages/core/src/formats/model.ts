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
 * order of the model's feature list and already encoded (see `FeatureSpec`): no missing values.
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
   * Optional: the model's own importance of each input feature (e.g. the split gain a booster
   * accumulated), normalised to sum to 1. Stored in `MODEL.json#importance.gain`, next to the
   * permutation importance modelreg measures on the test split for such models.
   */
  featureImportance?(): Float64Array;
}

/** Who can read a non-built-in native model back: the trainer of that name (see `TrainerRegistry`). */
export interface NativeModelLoaders {
  has(kind: string): boolean;
  get(kind: string): { load(json: unknown): NativeModel };
}
