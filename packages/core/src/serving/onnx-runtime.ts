import { RegistryError } from '../errors.js';
import { createOnnxPredictorOnPath } from '../formats/onnx/session.js';
import { decodePredictions, decodeProbabilities, KEPT_VALUES } from './predictor.js';
import type { ModelRuntime, RuntimeLoader } from './load.js';
import { fileOf, readVerified } from './load.js';
import { describeSignature } from '../formats/manifest.js';
import { createInputEncoder, inputRecordSchema } from './signature.js';
import type { PredictInput } from './signature.js';

/** Class labels as the ONNX label output carries them: integers stay integers, others become strings. */
function onnxClassList(classes: readonly (string | number | boolean)[]): string[] | number[] {
  return classes.every((c) => typeof c === 'number') ? (classes as number[]) : classes.map(String);
}

/**
 * Serves `model.onnx` through one onnxruntime-node session per loaded model: inputs are validated
 * and encoded from MODEL.json exactly as for native models, then fed as one float32 tensor (large
 * batches are split by the predictor). The session is released when the model leaves the cache.
 */
export function createOnnxRuntimeLoader(options: {
  intraOpNumThreads: number;
  /** `'session'` keeps to onnxruntime-node's public `InferenceSession` (tests run both paths). */
  path?: 'auto' | 'session';
}): RuntimeLoader {
  return async ({ artifacts, manifest, files, label }): Promise<ModelRuntime> => {
    const encoder = createInputEncoder(manifest.features, manifest.values);
    const record = fileOf(files, manifest, 'onnx', label);
    const bytes = await readVerified(artifacts, record, label);
    const predictor = await createOnnxPredictorOnPath(
      bytes,
      {
        intraOpNumThreads: options.intraOpNumThreads,
        ...(manifest.onnx ? { inputName: manifest.onnx.inputName } : {}),
        ...(manifest.classes ? { classes: onnxClassList(manifest.classes) } : {}),
      },
      options.path ?? 'auto',
    );
    const { features, task } = manifest;
    const width = features.length;
    if (predictor.nFeatures !== null && predictor.nFeatures !== width) {
      await predictor.release();
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `${label}: model.onnx takes ${predictor.nFeatures} features but MODEL.json lists ${width}`,
        { where: 'load' },
      );
    }
    const encode = (input: PredictInput) => encoder(input, 'float32');
    // Input buffers. onnxruntime reads a buffer until its run has finished (through the public
    // session, in a later turn of the event loop), so each call takes one and gives it back when its
    // run is over: a buffer is never shared by two runs. Single rows take one of exactly `width`
    // values (the predictor keeps one tensor per such buffer); arrays of rows take the one spare
    // buffer kept, when it is large enough, else a new one. A fresh large Float32Array costs about as
    // much as encoding into it (the memory is zeroed and faulted in), which a batch no longer pays.
    const rowBuffers: Float32Array[] = [];
    let spare: Float32Array | null = null;
    const run = (x: Float32Array, nRows: number): Promise<ArrayLike<number>> =>
      task === 'regression'
        ? predictor.regressionOutput(x, nRows, width)
        : predictor.predictClassification(x, nRows, width).then((c) => c.labelIndex);

    /** Encodes `input` into a pooled buffer (arrays) or a new one (CSV), then `use`s it. */
    async function withEncoded<T>(
      input: PredictInput,
      use: (x: Float32Array, nRows: number) => Promise<T>,
    ): Promise<T> {
      if (!Array.isArray(input) || input.length * width > KEPT_VALUES) {
        const { x, nRows } = encode(input);
        return use(x, nRows);
      }
      const rows: ReadonlyArray<unknown> = input;
      const size = rows.length * width;
      const x = spare !== null && spare.length >= size ? spare : new Float32Array(size);
      if (x === spare) spare = null;
      try {
        return await use(x, encoder.into(rows, x));
      } finally {
        if (spare === null || x.length > spare.length) spare = x;
      }
    }

    return {
      manifest,
      format: 'onnx',
      signature: { ...describeSignature(manifest), schema: inputRecordSchema(features) },
      async predict(input) {
        const row = rowBuffers.pop() ?? new Float32Array(width);
        let single: boolean;
        try {
          single = encoder.one(input, row);
        } catch (e) {
          rowBuffers.push(row);
          throw e;
        }
        if (single) {
          try {
            return decodePredictions(manifest, await run(row, 1), 1);
          } finally {
            rowBuffers.push(row);
          }
        }
        rowBuffers.push(row);
        return withEncoded(input, async (x, nRows) =>
          nRows === 0 ? [] : decodePredictions(manifest, await run(x, nRows), nRows),
        );
      },
      encode,
      async predictEncoded(x, nRows) {
        if (nRows === 0) return [];
        const x32 = x instanceof Float32Array ? x : new Float32Array(x);
        return decodePredictions(manifest, await run(x32, nRows), nRows);
      },
      async predictProba(input) {
        if (task !== 'classification') {
          throw new RegistryError('UNSUPPORTED', 'predictProba is only available for classification models', {
            where: 'predict',
          });
        }
        return withEncoded(input, async (x, nRows) => {
          if (nRows === 0) return [];
          const { proba } = await predictor.predictClassification(x, nRows, width);
          if (!proba)
            throw new RegistryError('UNSUPPORTED', `${label}: model.onnx has no probabilities output`, {
              where: 'predict',
            });
          return decodeProbabilities(manifest, proba, nRows);
        });
      },
      dispose: () => predictor.release(),
    };
  };
}
