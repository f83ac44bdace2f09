import { RegistryError } from '../errors.js';
import { createOnnxPredictor } from '../formats/onnx/session.js';
import { decodePredictions, decodeProbabilities } from './predictor.js';
import type { ModelRuntime, RuntimeLoader } from './load.js';
import { fileOf, readVerified } from './load.js';
import { describeSignature } from '../formats/manifest.js';
import { createInputEncoder, inputRecordSchema } from './signature.js';

/** Class labels as the ONNX label output carries them: integers stay integers, others become strings. */
function onnxClassList(classes: readonly (string | number | boolean)[]): string[] | number[] {
  return classes.every((c) => typeof c === 'number') ? (classes as number[]) : classes.map(String);
}

/**
 * Serves `model.onnx` through one onnxruntime-node session per loaded model: inputs are validated
 * and encoded from MODEL.json exactly as for native models, then fed as one float32 tensor (large
 * batches are split by the predictor). The session is released when the model leaves the cache.
 */
export function createOnnxRuntimeLoader(options: { intraOpNumThreads: number }): RuntimeLoader {
  return async ({ artifacts, manifest, files, label }): Promise<ModelRuntime> => {
    const encoder = createInputEncoder(manifest.features, manifest.values);
    const record = fileOf(files, manifest, 'onnx', label);
    const bytes = await readVerified(artifacts, record, label);
    const predictor = await createOnnxPredictor(bytes, {
      intraOpNumThreads: options.intraOpNumThreads,
      ...(manifest.onnx ? { inputName: manifest.onnx.inputName } : {}),
      ...(manifest.classes ? { classes: onnxClassList(manifest.classes) } : {}),
    });
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
    const encode = (input: Parameters<ModelRuntime['predict']>[0]) => encoder(input, 'float32');
    // Single-row input buffers. onnxruntime reads a buffer while its run is in flight, so each call
    // takes one from this free list (or makes one) and gives it back when its run has finished: a
    // buffer is never shared by two runs. The predictor keeps one tensor per buffer.
    const free: Float32Array[] = [];
    const run = (x: Float32Array, nRows: number): Promise<ArrayLike<number>> =>
      task === 'regression'
        ? predictor.predictRegression(x, nRows, width)
        : predictor.predictClassification(x, nRows, width).then((c) => c.labelIndex);
    return {
      manifest,
      format: 'onnx',
      signature: { ...describeSignature(manifest), schema: inputRecordSchema(features) },
      async predict(input) {
        const row = free.pop() ?? new Float32Array(width);
        let single: boolean;
        try {
          single = encoder.one(input, row);
        } catch (e) {
          free.push(row);
          throw e;
        }
        if (single) {
          try {
            return decodePredictions(manifest, await run(row, 1), 1);
          } finally {
            free.push(row);
          }
        }
        free.push(row);
        const { x, nRows } = encode(input);
        if (nRows === 0) return [];
        return decodePredictions(manifest, await run(x, nRows), nRows);
      },
      encode,
      async predictEncoded(x, nRows) {
        if (nRows === 0) return [];
        const x32 = x instanceof Float32Array ? x : Float32Array.from(x);
        return decodePredictions(manifest, await run(x32, nRows), nRows);
      },
      async predictProba(input) {
        if (task !== 'classification') {
          throw new RegistryError('UNSUPPORTED', 'predictProba is only available for classification models', {
            where: 'predict',
          });
        }
        const { x, nRows } = encode(input);
        if (nRows === 0) return [];
        const { proba } = await predictor.predictClassification(x, nRows, width);
        if (!proba)
          throw new RegistryError('UNSUPPORTED', `${label}: model.onnx has no probabilities output`, {
            where: 'predict',
          });
        return decodeProbabilities(manifest, proba, nRows);
      },
      dispose: () => predictor.release(),
    };
  };
}
