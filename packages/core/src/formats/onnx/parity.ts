import { RegistryError, abortedError, throwIfAborted } from '../../errors.js';
import type { TreeEnsemble } from '../tree-ensemble.js';
import { argmaxRows, predictEnsemble } from '../tree-ensemble.js';
import { predictEnsembleFast } from '../native/fast-predict.js';
import type { Label } from '../model.js';
import {
  exportTreeEnsembleToOnnx,
  exportTreeEnsembleToOnnxAsync,
  exportsTreeEnsembleOperator,
  treeEnsembleExportVersions,
} from './export-tree-ensemble.js';
import type { OnnxModelInfo } from './inspect.js';
import { createOnnxPredictorWithInfo } from './session.js';
import { createLinearModel } from '../linear.js';
import type { LinearModelJson } from '../linear.js';
import { exportedLinearInfo, exportLinearToOnnx } from './export-linear.js';
import { evaluateTreeEnsembleFile } from './read-tree-ensemble.js';

/** Rows whose two best native class probabilities are closer than this are near-ties: float32 summation may order them either way. */
export const NEAR_TIE = 1e-6;
/**
 * Regression tolerance, relative to the target's scale on the checked rows: the largest of its range
 * (max − min), |max| and 1e-12.
 */
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
  /**
   * Set when onnxruntime ran the ensemble's first `runtimeTrees` trees only (of `trees`), exported
   * the same way, and modelreg's reader of the operator evaluated the whole file (see
   * {@link runTreeParity}); absent when onnxruntime ran the whole file.
   */
  runtimeTrees?: number;
  trees?: number;
}

/**
 * The most nodes of a tree ensemble whose whole file the parity check runs through onnxruntime. An
 * onnxruntime session takes about 30 bytes of memory per byte of a tree ensemble's file while it is
 * built (a 100-tree forest on 100k rows: a 102 MB file, 3.1 GB at the peak, 9 s), which a server's
 * training must not take from the machine it shares: past this, see {@link runTreeParity}.
 */
export const PARITY_RUNTIME_NODES = 16_384;

/** The interface of the model `exportTreeEnsembleToOnnx` writes for `ensemble` (see there). */
export function exportedInfo(ensemble: TreeEnsemble, labels: string[] | number[] | undefined): OnnxModelInfo {
  const n = ensemble.nOutputs;
  const outputs: OnnxModelInfo['outputs'] =
    ensemble.task === 'regression'
      ? [{ name: 'variable', kind: 'tensor', elemType: 'float', shape: ['N', n] }]
      : [
          {
            name: 'label',
            kind: 'tensor',
            elemType: labels?.every((l) => typeof l === 'string') && labels.length > 0 ? 'string' : 'int64',
            shape: ['N'],
          },
          { name: 'probabilities', kind: 'tensor', elemType: 'float', shape: ['N', n] },
        ];
  const v5 = exportsTreeEnsembleOperator(ensemble);
  return {
    ...treeEnsembleExportVersions(ensemble),
    producer: 'modelreg',
    producerVersion: '',
    inputs: [{ name: 'input', kind: 'tensor', elemType: 'float', shape: ['N', ensemble.nFeatures] }],
    outputs,
    metadata: {},
    nodeCount: v5 ? (ensemble.boost ? 2 : 1) : ensemble.task === 'classification' && n === 2 ? 3 : 1,
  };
}

/** Class labels as the ONNX export takes them: integers stay integers, others become strings. */
export function classLabels(classes: readonly Label[]): string[] | number[] {
  return classes.every((c) => typeof c === 'number' && Number.isInteger(c))
    ? (classes as number[])
    : classes.map(String);
}

/** Lets due timers run (an abort among them), then throws `ABORTED` if the signal fired. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  throwIfAborted(signal, 'train');
}

/** Settles like `promise`, or rejects with `ABORTED` as soon as `signal` fires. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal, 'train'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(signal, 'train'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

interface ParityOptions {
  classes?: readonly Label[];
  x: Float64Array;
  nRows: number;
  y: Float64Array;
  signal?: AbortSignal;
  onPhase?: (phase: 'checking') => void;
}

/**
 * Exports a tree ensemble to ONNX and checks, on the given rows, that onnxruntime predicts what the
 * native predictor does (on the same float32-rounded inputs): regression within 1e-4 of the target's
 * scale, classification with identical labels except documented near-ties. Throws `INTEGRITY` otherwise.
 * With a `signal`, it is checked between the steps and raced against the onnxruntime calls (which
 * run off the main thread): an abort rejects with `ABORTED` and the session is released after.
 * Without one (the train worker, which is terminated to abort), the export runs in one synchronous call.
 * The session is asked for before the native predictions are computed (onnxruntime-node builds it in
 * a `setImmediate` on this thread). `onPhase('checking')` is called once the ONNX bytes exist.
 */
export async function exportWithParity(
  ensemble: TreeEnsemble,
  options: ParityOptions,
): Promise<{ bytes: Uint8Array; report: ParityReport }> {
  const { signal } = options;
  const labels = options.classes ? classLabels(options.classes) : undefined;
  const exportOptions = { ...(labels ? { classes: labels } : {}) };
  const bytes = signal
    ? await exportTreeEnsembleToOnnxAsync(ensemble, exportOptions, signal)
    : exportTreeEnsembleToOnnx(ensemble, exportOptions);
  options.onPhase?.('checking');
  return checkParity(
    bytes,
    options,
    (x32, nRows) => runTreeParity(ensemble, labels, bytes, x32, nRows),
    (out, x32, nRows) => compareTreeParity(ensemble, out, x32, options.y, nRows),
  );
}

/** {@link exportWithParity} for a linear model (see `exportLinearToOnnx`), under the same check. */
export async function exportLinearWithParity(
  model: LinearModelJson,
  options: ParityOptions,
): Promise<{ bytes: Uint8Array; report: ParityReport }> {
  throwIfAborted(options.signal, 'train');
  const labels = options.classes ? classLabels(options.classes) : undefined;
  const { bytes, nodeCount } = exportLinearToOnnx(model, labels ? { classes: labels } : {});
  options.onPhase?.('checking');
  const native = createLinearModel(model);
  const nOutputs = model.task === 'regression' ? 1 : model.link === 'logistic' ? 2 : model.coef.length;
  const info = exportedLinearInfo(model, labels, nodeCount);
  const nFeatures = model.inputs.length;
  return checkParity(
    bytes,
    options,
    (x32, nRows) => runOnnxForParity(bytes, info, model.task, x32, nRows, nFeatures),
    (onnx, x32, nRows) => {
      const x = Float64Array.from(x32);
      const values = model.task === 'regression' ? native.predict(x, nRows) : native.predictProba!(x, nRows);
      return compareParity(nOutputs, values, onnx, options.y, nRows);
    },
  );
}

/** What onnxruntime predicted on the parity rows: regression values, or class label indices. */
export type OnnxParityOutput = { values: Float32Array | Float64Array } | { labelIndex: Int32Array };

/** The ONNX side of a tree ensemble's parity check (see {@link runTreeParity}). */
export interface TreeParityOutput {
  /** onnxruntime's predictions: of the whole file, or of the first `runtimeTrees` trees' file. */
  onnx: OnnxParityOutput;
  runtimeTrees?: number;
  /** With `runtimeTrees`: the whole file's predictions, as modelreg's reader evaluates them. */
  file?: Float64Array;
}

/**
 * The first whole rounds of trees of `ensemble` that hold at most `maxNodes` nodes (one round at
 * least), when the ensemble has more nodes and its file uses the `TreeEnsemble` operator, which
 * modelreg's reader evaluates; else `null`.
 */
export function parityPrefix(ensemble: TreeEnsemble, maxNodes: number): TreeEnsemble | null {
  if (!exportsTreeEnsembleOperator(ensemble)) return null;
  const columns = ensemble.boost ? ensemble.boost.baseScore.length : 1;
  const { trees } = ensemble;
  let nodes = 0;
  let k = 0;
  while (k < trees.length) {
    let round = 0;
    for (let t = k; t < k + columns && t < trees.length; t++) round += trees[t]!.feature.length;
    if (k > 0 && nodes + round > maxNodes) break;
    nodes += round;
    k += columns;
  }
  return k < trees.length ? { ...ensemble, trees: trees.slice(0, k) } : null;
}

/**
 * The ONNX side of a tree ensemble's parity check on `x32` (`nRows` float32 rows), for `bytes`, the
 * ensemble's export. Up to `maxNodes` nodes, onnxruntime runs the file. Past that, for files with the
 * `TreeEnsemble` operator (regressions): onnxruntime runs the file of the first trees up to
 * `maxNodes` nodes (see {@link parityPrefix}), exported the same way, which checks that onnxruntime
 * reads the operator as modelreg writes it; and modelreg's reader evaluates the whole file by the
 * operator's specification, which checks every tree of the file. The memory is then the file's few
 * times over instead of its thirty.
 */
export async function runTreeParity(
  ensemble: TreeEnsemble,
  labels: string[] | number[] | undefined,
  bytes: Uint8Array,
  x32: Float32Array,
  nRows: number,
  maxNodes: number = PARITY_RUNTIME_NODES,
): Promise<TreeParityOutput> {
  const { task, nFeatures } = ensemble;
  const prefix = parityPrefix(ensemble, maxNodes);
  if (!prefix) {
    return {
      onnx: await runOnnxForParity(bytes, exportedInfo(ensemble, labels), task, x32, nRows, nFeatures),
    };
  }
  const options = labels ? { classes: labels } : {};
  const prefixBytes = exportTreeEnsembleToOnnx(prefix, options);
  const onnx = await runOnnxForParity(prefixBytes, exportedInfo(prefix, labels), task, x32, nRows, nFeatures);
  const file = evaluateTreeEnsembleFile(bytes, x32, nRows, nFeatures);
  return { onnx, runtimeTrees: prefix.trees.length, file };
}

/**
 * Compares {@link runTreeParity}'s output with the native predictions of the ensemble (and of its
 * first trees, for onnxruntime's part) on the same float32 rows, as {@link compareParity} does.
 */
export function compareTreeParity(
  ensemble: TreeEnsemble,
  out: TreeParityOutput,
  x32: Float32Array,
  y: Float64Array,
  nRows: number,
): ParityReport {
  const native = predictEnsembleFast(ensemble, x32, nRows);
  const { runtimeTrees, file } = out;
  if (runtimeTrees === undefined || !file)
    return compareParity(ensemble.nOutputs, native, out.onnx, y, nRows);
  const prefix = { ...ensemble, trees: ensemble.trees.slice(0, runtimeTrees) };
  // The general walk for the first trees: the packed predictor would pack them first (its packing is
  // cached per ensemble, and this one is new), which cost more than the walk of a few trees.
  const runtime = compareParity(ensemble.nOutputs, predictEnsemble(prefix, x32, nRows), out.onnx, y, nRows);
  const whole = compareParity(ensemble.nOutputs, native, { values: file }, y, nRows);
  return {
    ...whole,
    maxAbsDiff: Math.max(whole.maxAbsDiff ?? 0, runtime.maxAbsDiff ?? 0),
    runtimeTrees,
    trees: ensemble.trees.length,
  };
}

/**
 * The onnxruntime side of the parity check, for bytes modelreg has just exported (their `info` is
 * known): a session without graph optimization (there is little to fuse, and the optimizer's passes
 * over a large tree node's attributes cost more than this one run), one run on `x32`, released after.
 * It takes no signal: the ONNX helper thread is ended to abort, and the in-process check races it
 * against its signal (the session is released when the run is over).
 */
export async function runOnnxForParity(
  bytes: Uint8Array,
  info: OnnxModelInfo,
  task: 'classification' | 'regression',
  x32: Float32Array,
  nRows: number,
  nFeatures: number,
): Promise<OnnxParityOutput> {
  const predictor = await createOnnxPredictorWithInfo(bytes, info, {}, 'disabled');
  try {
    return task === 'regression'
      ? { values: await predictor.regressionOutput(x32, nRows, nFeatures) }
      : { labelIndex: (await predictor.predictClassification(x32, nRows, nFeatures)).labelIndex };
  } finally {
    await predictor.release();
  }
}

/**
 * Compares onnxruntime's predictions with the native ones on the same float32 rows: regression within
 * {@link REGRESSION_TOLERANCE} of the target's scale (from `y`), classification with identical labels
 * except near-ties. Throws `INTEGRITY` otherwise.
 */
export function compareParity(
  nOutputs: number,
  native: Float64Array,
  onnx: OnnxParityOutput,
  y: Float64Array,
  nRows: number,
): ParityReport {
  if ('values' in onnx) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of y) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const allowed = REGRESSION_TOLERANCE * Math.max(max - min, Math.abs(max), 1e-12);
    let maxAbsDiff = 0;
    for (let i = 0; i < nRows; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(onnx.values[i]! - native[i]!));
    if (!(maxAbsDiff <= allowed)) {
      throw new RegistryError(
        'INTEGRITY',
        `the ONNX export does not match the native model: max |difference| ${maxAbsDiff.toExponential(3)} > allowed ${allowed.toExponential(3)} on ${nRows} test rows`,
        { where: 'onnx-export' },
      );
    }
    return { rows: nRows, maxAbsDiff, allowed };
  }
  const k = nOutputs;
  const nativeLabels = argmaxRows(native, k);
  let mismatches = 0;
  let nearTies = 0;
  for (let i = 0; i < nRows; i++) {
    const row = Array.from(native.subarray(i * k, i * k + k)).sort((a, b) => b - a);
    if (row.length > 1 && row[0]! - row[1]! < NEAR_TIE) {
      nearTies++;
      continue;
    }
    if (onnx.labelIndex[i] !== nativeLabels[i]) mismatches++;
  }
  if (mismatches > 0) {
    throw new RegistryError(
      'INTEGRITY',
      `the ONNX export does not match the native model: ${mismatches} of ${nRows} test rows get another label`,
      { where: 'onnx-export' },
    );
  }
  return { rows: nRows, mismatches, nearTies };
}

/**
 * Runs the ONNX side (`run`, raced against the signal: after an abort its session is released when its
 * run is over, in the background) on the float32-rounded rows, then `compare`s it with the native side.
 */
async function checkParity<T>(
  bytes: Uint8Array,
  options: ParityOptions,
  run: (x32: Float32Array, nRows: number) => Promise<T>,
  compare: (out: T, x32: Float32Array, nRows: number) => ParityReport,
): Promise<{ bytes: Uint8Array; report: ParityReport }> {
  const { signal, nRows } = options;
  if (nRows === 0) return { bytes, report: { rows: 0 } };
  await checkpoint(signal);
  const x32 = Float32Array.from(options.x);
  const running = run(x32, nRows);
  running.catch(() => undefined);
  await checkpoint(signal);
  const out = await raceAbort(running, signal);
  return { bytes, report: compare(out, x32, nRows) };
}
