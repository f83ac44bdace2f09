import { afterAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { exportTreeEnsembleToOnnx } from '../../src/formats/onnx/export-tree-ensemble.js';
import { inspectOnnxModel } from '../../src/formats/onnx/inspect.js';
import {
  createOnnxPredictorOnPath,
  type OnnxPredictor,
  type OnnxPredictorOptions,
} from '../../src/formats/onnx/session.js';
import { argmaxRows, predictEnsemble } from '../../src/formats/tree-ensemble.js';
import {
  externalReferenceModels,
  linearRegressionModel,
  prng,
  randomForest,
  rowsNearThresholds,
  zipMapClassifierModel,
} from './fixtures.js';

const open: OnnxPredictor[] = [];
afterAll(async () => {
  await Promise.all(open.map((p) => p.release()));
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const regressor = randomForest({ seed: 11, task: 'regression', mode: 'leq' });
const classifier = randomForest({ seed: 12, task: 'classification', mode: 'lt', nClasses: 4 });
const classes = ['w', 'x', 'y', 'z'];

// Every behaviour holds on both paths to onnxruntime: its native session called synchronously (what
// createOnnxPredictor takes when it recognizes onnxruntime-node's binding) and the public InferenceSession.
describe.each([
  ['native binding', 'auto', 'binding'],
  ['public InferenceSession', 'session', 'session'],
] as const)('createOnnxPredictor through the %s', (_, path, expectedPath) => {
  const create = (bytes: Uint8Array, options: OnnxPredictorOptions = {}) =>
    createOnnxPredictorOnPath(bytes, options, path);
  async function predictor(bytes: Uint8Array, options: OnnxPredictorOptions = {}): Promise<OnnxPredictor> {
    const p = await create(bytes, options);
    open.push(p);
    return p;
  }

  it(`runs through the ${expectedPath} path`, async () => {
    expect((await predictor(linearRegressionModel([1], 0))).path).toBe(expectedPath);
  });

  it('predicts a foreign model whose input is named float_input, using the name inspect reads', async () => {
    const bytes = linearRegressionModel([1, -2, 0.5], 3);
    const [input] = inspectOnnxModel(bytes).inputs;
    const p = await predictor(bytes, { inputName: input!.name });
    expect(p.inputName).toBe('float_input');
    expect(p.nFeatures).toBe(3);
    const y = await p.predictRegression(Float32Array.from([1, 1, 1, 2, 0, 4]), 2, 3);
    expect(Array.from(y)).toEqual([2.5, 7]);
    const out = await p.run(Float32Array.from([0, 0, 0]), 1, 3);
    expect(Object.keys(out)).toEqual(['variable']);
  });

  it('regression through the predictor equals predictEnsemble on float32 inputs', async () => {
    const x = rowsNearThresholds(regressor, 3000, 1);
    const p = await predictor(exportTreeEnsembleToOnnx(regressor));
    const y = await p.predictRegression(x, 3000, 10);
    const expected = predictEnsemble(regressor, x, 3000);
    expect(y).toBeInstanceOf(Float64Array);
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThanOrEqual(1e-4 * 100);
  });

  it('regressionOutput is the output onnxruntime returns, predictRegression its float64 copy', async () => {
    const x = rowsNearThresholds(regressor, 200, 8);
    const p = await predictor(exportTreeEnsembleToOnnx(regressor));
    const raw = await p.regressionOutput(x, 200, 10);
    expect(raw).toBeInstanceOf(Float32Array);
    expect(Array.from(await p.predictRegression(x, 200, 10))).toEqual(Array.from(raw));
  });

  it('classification can map the string label output back to class indices', async () => {
    const x = rowsNearThresholds(classifier, 3000, 2);
    const p = await predictor(exportTreeEnsembleToOnnx(classifier, { classes }), {
      classes,
      useLabelOutput: true,
    });
    const { labelIndex, proba, nClasses } = await p.predictClassification(x, 3000, 10);
    const expected = predictEnsemble(classifier, x, 3000);
    expect(nClasses).toBe(4);
    expect(Array.from(labelIndex)).toEqual(Array.from(argmaxRows(expected, 4)));
    for (let i = 0; i < expected.length; i++)
      expect(Math.abs(proba![i]! - expected[i]!)).toBeLessThanOrEqual(1e-5);
  });

  it('by default the label index is the argmax of the probabilities, which is the exported label', async () => {
    const x = rowsNearThresholds(classifier, 500, 3);
    const bytes = exportTreeEnsembleToOnnx(classifier, { classes });
    const p = await predictor(bytes, { classes });
    const { labelIndex } = await p.predictClassification(x, 500, 10);
    expect(Array.from(labelIndex)).toEqual(Array.from(argmaxRows(predictEnsemble(classifier, x, 500), 4)));
    const viaLabels = await (
      await predictor(bytes, { classes, useLabelOutput: true })
    ).predictClassification(x, 500, 10);
    expect(viaLabels.labelIndex).toEqual(labelIndex);
    const binary = randomForest({ seed: 13, task: 'classification', mode: 'leq', nClasses: 2 });
    const xb = rowsNearThresholds(binary, 500, 4);
    const binaryBytes = exportTreeEnsembleToOnnx(binary, { classes: ['n', 'y'] });
    const a = await (await predictor(binaryBytes)).predictClassification(xb, 500, 10);
    const b = await (
      await predictor(binaryBytes, { classes: ['n', 'y'], useLabelOutput: true })
    ).predictClassification(xb, 500, 10);
    expect(a.labelIndex).toEqual(b.labelIndex);
    expect(Array.from(a.labelIndex)).toEqual(Array.from(argmaxRows(predictEnsemble(binary, xb, 500), 2)));
  });

  it('integer labels of a ZipMap classifier map to indices; the non-tensor output is not fetched', async () => {
    const bytes = zipMapClassifierModel(
      [
        [1, 0],
        [0, 1],
        [-1, -1],
      ],
      [0, 0, 0],
      [10, 20, 30],
    );
    const p = await predictor(bytes, { classes: [10, 20, 30] });
    expect(p.outputNames).toEqual(['output_label']);
    const { labelIndex, proba } = await p.predictClassification(
      Float32Array.from([5, 0, 0, 5, -5, -5]),
      3,
      2,
    );
    expect(Array.from(labelIndex)).toEqual([0, 1, 2]);
    expect(proba).toBeNull();
  });

  it('splits large batches into chunks with identical results', async () => {
    const bytes = exportTreeEnsembleToOnnx(classifier, { classes });
    const x = rowsNearThresholds(classifier, 1000, 4);
    const whole = await (await predictor(bytes, { classes })).run(x, 1000, 10);
    const chunked = await (await predictor(bytes, { classes, maxBatchRows: 7 })).run(x, 1000, 10);
    expect(chunked.label).toEqual(whole.label);
    expect(chunked.probabilities).toEqual(whole.probabilities);
    const regBytes = exportTreeEnsembleToOnnx(regressor);
    const xr = rowsNearThresholds(regressor, 1000, 5);
    const regWhole = await (await predictor(regBytes)).predictRegression(xr, 1000, 10);
    const regChunked = await (
      await predictor(regBytes, { maxBatchRows: 64 })
    ).predictRegression(xr, 1000, 10);
    expect(regChunked).toEqual(regWhole);
  });

  it('reads only the first nRows × nFeatures values of x, and accepts zero rows', async () => {
    const p = await predictor(linearRegressionModel([1, 1], 0));
    expect(Array.from(await p.predictRegression(Float32Array.from([1, 2, 99, 99]), 1, 2))).toEqual([3]);
    expect((await p.predictRegression(new Float32Array(0), 0, 2)).length).toBe(0);
  });

  it('refuses a wrong feature count before calling onnxruntime', async () => {
    const p = await predictor(exportTreeEnsembleToOnnx(regressor));
    const error = await rejection(p.predictRegression(new Float32Array(9), 1, 9));
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(isRegistryError(await rejection(p.run(new Float32Array(5), 1, 10)), 'INVALID_ARGUMENT')).toBe(
      true,
    );
  });

  it('refuses bytes onnxruntime cannot load as INVALID_ARGUMENT with the cause attached', async () => {
    const bytes = exportTreeEnsembleToOnnx(regressor);
    const error = await rejection(create(bytes.subarray(0, bytes.length - 40)));
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    const unknownOp = linearRegressionModel([1], 0).slice();
    // Rename MatMul to MatMuX: a valid protobuf that onnxruntime refuses.
    const at = Buffer.from(unknownOp).lastIndexOf('MatMul'); // op_type follows the node name
    unknownOp[at + 5] = 'X'.charCodeAt(0);
    const ortError = await rejection(create(unknownOp));
    expect(isRegistryError(ortError, 'INVALID_ARGUMENT')).toBe(true);
    expect((ortError as Error).cause).toBeInstanceOf(Error);
  });

  it('corrupted and truncated models either load and run, or fail with a RegistryError', async () => {
    const small = randomForest({
      seed: 5,
      task: 'classification',
      mode: 'leq',
      nClasses: 3,
      nTrees: 3,
      maxDepth: 4,
    });
    const bytes = exportTreeEnsembleToOnnx(small, { classes: ['a', 'b', 'c'] });
    const rng = prng(17);
    const candidates: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) candidates.push(bytes.subarray(0, Math.floor(rng() * bytes.length)));
    for (let i = 0; i < 240; i++) {
      const corrupt = bytes.slice();
      corrupt[Math.floor(rng() * corrupt.length)] = Math.floor(rng() * 256);
      candidates.push(corrupt);
    }
    const outcomes = { ran: 0, refused: 0 };
    for (const candidate of candidates) {
      try {
        const p = await create(candidate);
        try {
          await p.predictClassification(new Float32Array(20), 2, 10);
          outcomes.ran++;
        } catch (e) {
          if (!isRegistryError(e)) throw e;
          outcomes.refused++;
        } finally {
          await p.release();
        }
      } catch (e) {
        if (!isRegistryError(e)) throw e;
        outcomes.refused++;
      }
    }
    expect(outcomes.ran + outcomes.refused).toBe(candidates.length);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('refuses models that reference external files before onnxruntime sees them', async () => {
    for (const bytes of Object.values(externalReferenceModels())) {
      expect(isRegistryError(await rejection(create(bytes)), 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('checks its options', async () => {
    const bytes = linearRegressionModel([1], 0);
    expect(isRegistryError(await rejection(create(bytes, { intraOpNumThreads: 0 })), 'INVALID_CONFIG')).toBe(
      true,
    );
    expect(isRegistryError(await rejection(create(bytes, { inputName: 'input' })), 'INVALID_ARGUMENT')).toBe(
      true,
    );
    expect(
      isRegistryError(await rejection(create(bytes, { outputNames: ['nope'] })), 'INVALID_ARGUMENT'),
    ).toBe(true);
    expect(isRegistryError(await rejection(create(bytes, { useLabelOutput: true })), 'INVALID_CONFIG')).toBe(
      true,
    );
  });

  it('release waits for runs in flight, which complete normally', async () => {
    const p = await create(exportTreeEnsembleToOnnx(regressor), { maxBatchRows: 100 });
    const x = rowsNearThresholds(regressor, 1000, 6);
    const running = [p.predictRegression(x, 1000, 10), p.run(x, 1000, 10)];
    const released = p.release();
    const [y] = await Promise.all(running);
    await released;
    expect((y as Float64Array).length).toBe(1000);
    expect(isRegistryError(await rejection(p.predictRegression(x, 1, 10)), 'CONFLICT')).toBe(true);
  });

  it('release is idempotent and later runs fail with CONFLICT', async () => {
    const p = await create(linearRegressionModel([1], 0));
    await p.release();
    await p.release();
    expect(isRegistryError(await rejection(p.run(Float32Array.from([1]), 1, 1)), 'CONFLICT')).toBe(true);
  });
});
