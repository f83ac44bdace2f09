import { RegistryError } from '../../errors.js';
import type { TreeEnsemble } from '../tree-ensemble.js';
import { argmaxRows, predictEnsemble } from '../tree-ensemble.js';
import type { Label } from '../../training/trainer.js';
import { exportTreeEnsembleToOnnx } from './export-tree-ensemble.js';
import { createOnnxPredictor } from './session.js';

/** Rows whose two best native class probabilities are closer than this are near-ties: float32 summation may order them either way. */
export const NEAR_TIE = 1e-6;
/** Regression tolerance, relative to the target's scale (its range on the test rows, at least 1e-12). */
export const REGRESSION_TOLERANCE = 1e-4;

export interface ParityReport {
  rows: number;
  /** Regression: the largest |onnx - native|. */
  maxAbsDiff?: number;
  /** Regression: the allowed difference (tolerance × target scale). */
  allowed?: number;
  /** Classification: rows whose labels differ (near-ties excluded). */
  mismatches?: number;
  /** Classification: near-tie rows where the labels were not compared. */
  nearTies?: number;
}

function classLabels(classes: readonly Label[]): string[] | number[] {
  return classes.every((c) => typeof c === 'number' && Number.isInteger(c))
    ? (classes as number[])
    : classes.map(String);
}

/**
 * Exports a tree ensemble to ONNX and checks, on the given rows, that onnxruntime predicts what the
 * native predictor does (on the same float32-rounded inputs): regression within 1e-4 of the target's
 * scale, classification with identical labels except documented near-ties. Throws `INTEGRITY` otherwise.
 */
export async function exportWithParity(
  ensemble: TreeEnsemble,
  options: { classes?: readonly Label[]; x: Float64Array; nRows: number; y: Float64Array },
): Promise<{ bytes: Uint8Array; report: ParityReport }> {
  const bytes = exportTreeEnsembleToOnnx(ensemble, {
    ...(options.classes ? { classes: classLabels(options.classes) } : {}),
  });
  const { nRows } = options;
  if (nRows === 0) return { bytes, report: { rows: 0 } };
  const x32 = Float32Array.from(options.x);
  const native = predictEnsemble(ensemble, x32, nRows);
  const predictor = await createOnnxPredictor(bytes);
  try {
    if (ensemble.task === 'regression') {
      const onnx = await predictor.predictRegression(x32, nRows, ensemble.nFeatures);
      let min = Infinity;
      let max = -Infinity;
      for (const v of options.y) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const allowed = REGRESSION_TOLERANCE * Math.max(max - min, Math.abs(max), 1e-12);
      let maxAbsDiff = 0;
      for (let i = 0; i < nRows; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(onnx[i]! - native[i]!));
      if (!(maxAbsDiff <= allowed)) {
        throw new RegistryError(
          'INTEGRITY',
          `the ONNX export does not match the native model: max |difference| ${maxAbsDiff.toExponential(3)} > allowed ${allowed.toExponential(3)} on ${nRows} test rows`,
          { where: 'onnx-export' },
        );
      }
      return { bytes, report: { rows: nRows, maxAbsDiff, allowed } };
    }
    const k = ensemble.nOutputs;
    const { labelIndex } = await predictor.predictClassification(x32, nRows, ensemble.nFeatures);
    const nativeLabels = argmaxRows(native, k);
    let mismatches = 0;
    let nearTies = 0;
    for (let i = 0; i < nRows; i++) {
      const row = Array.from(native.subarray(i * k, i * k + k)).sort((a, b) => b - a);
      if (row.length > 1 && row[0]! - row[1]! < NEAR_TIE) {
        nearTies++;
        continue;
      }
      if (labelIndex[i] !== nativeLabels[i]) mismatches++;
    }
    if (mismatches > 0) {
      throw new RegistryError(
        'INTEGRITY',
        `the ONNX export does not match the native model: ${mismatches} of ${nRows} test rows get another label`,
        { where: 'onnx-export' },
      );
    }
    return { bytes, report: { rows: nRows, mismatches, nearTies } };
  } finally {
    await predictor.release();
  }
}
