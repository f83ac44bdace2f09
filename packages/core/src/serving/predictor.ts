import type { z } from 'zod';
import { RegistryError, invalidArgument } from '../errors.js';
import type { ModelManifest, ModelSignature } from '../formats/manifest.js';
import { isTreeEnsembleModel } from '../formats/native/native-model.js';
import { isLinearModel } from '../formats/linear.js';
import type { Label, NativeModel, Task } from '../training/trainer.js';
import { describeSignature } from '../formats/manifest.js';
import { createInputEncoder, inputRecordSchema } from './signature.js';
import type { EncodedInput, PredictInput } from './signature.js';

/**
 * Class probabilities of one row keyed by `String(label)`, in `classes` order (for labels that are
 * integers JavaScript lists keys in numeric order, which is the same order since classes are sorted).
 */
export type ClassProbabilities = Record<string, number>;

/** The signature plus a zod schema of one input record (for docs; predict does not run it per row). */
export interface PredictorSignature extends ModelSignature {
  schema: z.ZodObject;
}

/** A model ready to predict: validation and encoding from the manifest, numbers from the native model. */
export interface Predictor {
  readonly manifest: ModelManifest;
  readonly task: Task;
  /** Classification: the labels; `predictProba` columns follow this order. */
  readonly classes: readonly Label[] | undefined;
  readonly signature: PredictorSignature;
  /** Validates and encodes input into the model matrix (shared with the ONNX path). */
  encode(input: PredictInput): EncodedInput;
  /** Classification: one label per row (with its original type). Regression: one number per row. */
  predict(input: PredictInput): Label[];
  /** Classification only (`UNSUPPORTED` for regression): per row, the probability of each class. */
  predictProba(input: PredictInput): ClassProbabilities[];
  /** `predict` of rows `encode` made (or several of its results put end to end). */
  predictEncoded(x: Float64Array, nRows: number): Label[];
  /** `predictProba` of rows `encode` made. */
  predictProbaEncoded(x: Float64Array, nRows: number): ClassProbabilities[];
}

function checkLength(what: string, got: number, want: number): void {
  if (got !== want) throw invalidArgument(`the model returned ${got} ${what}, expected ${want}`, 'predict');
}

/** Maps raw `NativeModel.predict` output to labels (classification) or numbers (regression). */
export function decodePredictions(manifest: ModelManifest, raw: ArrayLike<number>, nRows: number): Label[] {
  checkLength('predictions', raw.length, nRows);
  if (manifest.task === 'regression') {
    // Started as a one-double array and lengthened: V8 then allocates the double backing store once.
    // `new Array(n)` allocates a tagged one that the first double store replaces, and an array this
    // large is a fresh mapping each time: twice the page faults (about 0.9 ms less for 25k rows).
    const values: number[] = [0.5];
    values.length = nRows;
    for (let i = 0; i < nRows; i++) values[i] = raw[i]!;
    return values;
  }
  const out = new Array<Label>(nRows);
  const classes = manifest.classes!;
  for (let i = 0; i < nRows; i++) {
    const label = classes[raw[i]!];
    if (label === undefined)
      throw invalidArgument(`the model returned class index ${raw[i]} at row ${i}`, 'predict');
    out[i] = label;
  }
  return out;
}

/** Maps a row-major `nRows * nClasses` probability matrix to one record per row. */
export function decodeProbabilities(
  manifest: ModelManifest,
  proba: ArrayLike<number>,
  nRows: number,
): ClassProbabilities[] {
  const classes = manifest.classes!;
  const k = classes.length;
  checkLength('probabilities', proba.length, nRows * k);
  const keys = classes.map(String);
  // Assigning to `__proto__` would set the prototype instead of a key: that label is defined as an own property.
  const proto = keys.indexOf('__proto__');
  const out = new Array<ClassProbabilities>(nRows);
  for (let i = 0; i < nRows; i++) {
    const row: ClassProbabilities = {};
    for (let j = 0; j < k; j++) {
      if (j === proto) {
        Object.defineProperty(row, '__proto__', {
          value: proba[i * k + j]!,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else row[keys[j]!] = proba[i * k + j]!;
    }
    out[i] = row;
  }
  return out;
}

/** The most values (float64 native, float32 ONNX: 8 or 4 MiB) a loaded model's batch buffer keeps between calls. */
export const KEPT_VALUES = 1 << 20;

/**
 * Builds a predictor from a parsed MODEL.json and the loaded native model
 * (`loadNativeModel(JSON.parse(model.native.json), trainers)`). Checks that they agree.
 */
export function createNativePredictor(manifest: ModelManifest, model: NativeModel): Predictor {
  const { features, task } = manifest;
  if (isTreeEnsembleModel(model)) {
    const e = model.ensemble;
    const nOutputs = task === 'classification' ? manifest.classes!.length : 1;
    if (e.nFeatures !== features.length || e.nOutputs !== nOutputs || e.task !== task) {
      throw invalidArgument(
        `the native model (${e.task}, ${e.nFeatures} features, ${e.nOutputs} outputs) does not match MODEL.json (${task}, ${features.length} features, ${nOutputs} outputs)`,
        'model',
      );
    }
  }
  if (isLinearModel(model)) {
    const l = model.linear;
    const nClasses = l.link === 'identity' ? 1 : l.link === 'logistic' ? 2 : l.coef.length;
    const expected = task === 'classification' ? manifest.classes!.length : 1;
    if (l.inputs.length !== features.length || l.task !== task || nClasses !== expected) {
      throw invalidArgument(
        `the native linear model (${l.task}, ${l.inputs.length} features, ${nClasses} outputs) does not match MODEL.json (${task}, ${features.length} features, ${expected} outputs)`,
        'model',
      );
    }
  }
  const signature: PredictorSignature = {
    ...describeSignature(manifest),
    schema: inputRecordSchema(features),
  };
  const encoder = createInputEncoder(features, manifest.values);
  const encode = (input: PredictInput): EncodedInput => encoder(input);
  const width = features.length;
  // The single-row buffer, and one for arrays of rows up to KEPT_VALUES values: native prediction is
  // synchronous, so a buffer of the model is never shared by two calls at once, and the model's
  // answer is copied out before the next call. A fresh large Float64Array costs about as much as
  // encoding into it (zeroed, and a new mapping faulted in page by page).
  const row = new Float64Array(width);
  let kept: Float64Array | null = null;
  const encodeKept = (input: PredictInput): EncodedInput => {
    if (!Array.isArray(input) || input.length * width > KEPT_VALUES) return encode(input);
    const rows: ReadonlyArray<unknown> = input;
    if (kept === null || kept.length < rows.length * width) kept = new Float64Array(rows.length * width);
    const nRows = encoder.into(rows, kept);
    // A view of exactly the rows: a trainer's own model may read x.length.
    return { x: kept.subarray(0, nRows * width), nRows };
  };
  return {
    manifest,
    task,
    classes: manifest.classes,
    signature,
    encode,
    predict(input) {
      if (encoder.one(input, row)) return decodePredictions(manifest, model.predict(row, 1), 1);
      const { x, nRows } = encodeKept(input);
      return predictEncoded(x, nRows);
    },
    predictEncoded,
    predictProba(input) {
      checkProba();
      const { x, nRows } = encodeKept(input);
      return predictProbaEncoded(x, nRows);
    },
    predictProbaEncoded,
  };
  function predictEncoded(x: Float64Array, nRows: number): Label[] {
    if (nRows === 0) return [];
    return decodePredictions(manifest, model.predict(x, nRows), nRows);
  }
  function checkProba(): void {
    if (task !== 'classification') {
      throw new RegistryError('UNSUPPORTED', 'predictProba is only available for classification models', {
        where: 'predict',
      });
    }
    if (!model.predictProba) {
      throw new RegistryError('UNSUPPORTED', `native models of kind "${model.kind}" have no predictProba`, {
        where: 'predict',
      });
    }
  }
  function predictProbaEncoded(x: Float64Array, nRows: number): ClassProbabilities[] {
    checkProba();
    if (nRows === 0) return [];
    return decodeProbabilities(manifest, model.predictProba!(x, nRows), nRows);
  }
}
