import { createHash } from 'node:crypto';
import type { SpooledBytes } from './train-process.js';
import type { ColumnInfo } from '../domain/types.js';
import type { DataTable } from '../domain/table.js';
import type { ModelManifest } from '../formats/manifest.js';
import { profileCsv } from '../datasets/infer-schema.js';
import { loadTable, tableFromRecords } from '../datasets/table.js';
import { RegistryError, throwIfAborted } from '../errors.js';
import { isTreeEnsembleModel } from '../formats/native/native-model.js';
import { compareTreeParity, exportLinearWithParity, exportWithParity } from '../formats/onnx/parity.js';
import { isLinearModel } from '../formats/linear.js';
import type { ParityReport } from '../formats/onnx/parity.js';
import { requireOnnxRuntime } from '../formats/onnx/session.js';
import { fitModel } from '../training/fit.js';
import { sampleRows, takeRows } from '../training/importance.js';
import type { FitModelInput, FitModelResult } from '../training/fit.js';
import type { Task, Trainer, TrainPhase } from '../training/trainer.js';
import type { OnnxHelper, PendingOnnx } from './onnx-helper.js';

const where = 'train';

/**
 * Test rows the ONNX parity check runs on at most (an evenly spaced sample of the test split). A
 * wrong export (a threshold, a child, a leaf weight or a label) changes the prediction of every row
 * that reaches the node, so a few thousand rows catch it; checking all 18,750 test rows of a 75k-row
 * forest cost more than the export itself.
 */
export const PARITY_MAX_ROWS = 4096;

/**
 * The test rows the parity check runs on: all of them up to `max`; past that, an evenly spaced
 * sample that keeps rows with missing values (NaN cells, which a boosted model routes by its learned
 * directions) in it: up to half the sample is taken, evenly spaced, from those rows.
 */
export function paritySample(
  x: Float64Array,
  y: Float64Array,
  nRows: number,
  nFeatures: number,
  max: number,
): { x: Float64Array; y: Float64Array; nRows: number } {
  if (nRows <= max) return { x, y, nRows };
  const withMissing: number[] = [];
  const complete: number[] = [];
  for (let r = 0; r < nRows; r++) {
    let missing = false;
    for (let j = r * nFeatures, end = j + nFeatures; j < end; j++) {
      if (x[j] !== x[j]) {
        missing = true;
        break;
      }
    }
    (missing ? withMissing : complete).push(r);
  }
  if (withMissing.length === 0) return sampleRows(x, y, nRows, nFeatures, max);
  const nMissing = Math.min(withMissing.length, Math.max(max >> 1, max - complete.length));
  const picked: number[] = [];
  const spread = (from: number[], k: number): void => {
    for (let i = 0; i < k; i++) picked.push(from[Math.floor((i * from.length) / k)]!);
  };
  spread(withMissing, nMissing);
  spread(complete, max - nMissing);
  picked.sort((a, b) => a - b);
  return takeRows(x, y, picked, nFeatures);
}

type ParityRows = ReturnType<typeof paritySample>;

/** Whether a training asks for ONNX (explicitly or by default) and onnxruntime-node loads. */
const wantsOnnx = (input: TrainComputeInput): boolean =>
  input.onnxRuntime && (input.formats === undefined || input.formats.includes('onnx'));

/** The dataset of a training, as the thread that computes it receives it (bytes, never a store). */
export type TrainDataSource =
  /** A catalog dataset's stored CSV, checked against the record's sha256 and size while parsed. */
  | {
      kind: 'catalog';
      bytes: Uint8Array;
      columns: readonly ColumnInfo[];
      label: string;
      expected: { sha256: string; size: number };
      tags: Record<string, string>;
    }
  | { kind: 'csv'; csv: string | Uint8Array }
  | { kind: 'rows'; rows: readonly Record<string, unknown>[] };

/** Everything the compute phases need; structured-cloneable (it crosses to the train worker). */
export interface TrainComputeInput {
  source: TrainDataSource;
  target: string;
  features?: string[];
  task?: Task;
  params: Record<string, unknown>;
  split: { testSize?: number; seed?: number };
  formats?: ('native' | 'onnx')[];
  /**
   * Whether onnxruntime-node loads, as the calling thread found (an optional peer dependency; the
   * answer of the thread that owns the registry is the one that counts).
   */
  onnxRuntime: boolean;
  createdAt: number;
}

/**
 * A result's bytes as the host holds them: an array, or, from a train process, a file to read in
 * slices (see {@link SpooledBytes}).
 */
export type ResultBytes = Uint8Array | SpooledBytes;

/**
 * What the compute phases give the writing phase; structured-cloneable, big parts as bytes (`B`:
 * arrays where they are computed, {@link ResultBytes} in the host).
 */
export interface TrainComputed<B extends ResultBytes = Uint8Array> {
  manifest: ModelManifest;
  params: FitModelResult['params'];
  metrics: Record<string, number>;
  confusionMatrix?: FitModelResult['confusionMatrix'];
  /** `model.native.json`, UTF-8. */
  nativeBytes: B;
  onnx: { bytes: B; report: ParityReport } | null;
  datasetTags: Record<string, string>;
}

/**
 * What the caller of {@link computeTraining} lends it: an abort signal, a phase reporter, the last
 * table it kept, and its ONNX helper thread (the train worker has one).
 */
export interface ComputeHooks {
  signal?: AbortSignal;
  report?: PhaseReporter;
  kept?: LastTable;
  onnxHelper?: OnnxHelper;
}

/** A phase report: `fraction` within the phase (the fit's own fraction while fitting). */
export type PhaseReporter = (phase: TrainPhase, fraction: number, message?: string) => void;

/** Cells past which a parsed table is not kept (about 80 MB of numbers). */
const MAX_KEPT_CELLS = 10_000_000;

/**
 * The last catalog table a thread parsed, kept for the next training on the same dataset version
 * (hyperparameter sweeps, retries): parsing is most of a training's time on big CSVs. The train
 * worker keeps one; it goes with the worker when the worker is let go. Nothing a training does
 * changes a table.
 */
export class LastTable {
  private entry: { key: string; table: DataTable } | undefined;

  get(key: string): DataTable | undefined {
    return this.entry?.key === key ? this.entry.table : undefined;
  }

  set(key: string, table: DataTable): void {
    this.entry = table.rowCount * table.columns.length <= MAX_KEPT_CELLS ? { key, table } : undefined;
  }
}

async function readTable(
  source: TrainDataSource,
  kept: LastTable | undefined,
): Promise<{ table: DataTable; tags: Record<string, string>; reused: boolean }> {
  if (source.kind === 'catalog') {
    const { expected, bytes } = source;
    const key = `${expected.sha256} ${expected.size} ${JSON.stringify(source.columns)}`;
    const table = kept?.get(key);
    // The stored bytes are still checked against the record (hashing costs a few % of parsing).
    if (
      table &&
      bytes.byteLength === expected.size &&
      createHash('sha256').update(bytes).digest('hex') === expected.sha256
    ) {
      return { table, tags: source.tags, reused: true };
    }
    const parsed = await loadTable(bytes, source.columns, { label: source.label, expected });
    kept?.set(key, parsed);
    return { table: parsed, tags: source.tags, reused: false };
  }
  if (source.kind === 'rows') {
    const table = tableFromRecords(source.rows, { label: 'inline dataset' });
    const sha256 = createHash('sha256').update(JSON.stringify(source.rows)).digest('hex');
    return {
      table,
      tags: { 'modelreg.dataset.name': '(inline)', 'modelreg.dataset.sha256': sha256 },
      reused: false,
    };
  }
  const profile = await profileCsv(source.csv, { label: 'inline dataset' });
  const table = await loadTable(source.csv, profile.columns, { label: 'inline dataset' });
  return {
    table,
    tags: { 'modelreg.dataset.name': '(inline)', 'modelreg.dataset.sha256': profile.sha256 },
    reused: false,
  };
}

/**
 * The CPU-heavy phases of `train`, touching no store: parse the dataset, fit and evaluate, and for
 * tree models export to ONNX and check it against the native model on the test rows. Runs in the
 * train worker for the built-in trainers and on the calling thread for trainers registered with
 * `registerTrainer` (functions cannot cross threads).
 */
export async function computeTraining(
  input: TrainComputeInput,
  trainer: Trainer,
  hooks: ComputeHooks = {},
): Promise<TrainComputed> {
  try {
    return await computeTrainingPhases(input, trainer, hooks);
  } finally {
    // The result or the failure is reported once the ONNX helper is idle (its warm-up done, say, for a
    // model it had no export for): a caller that exits then (a CLI) must not exit while the helper is
    // inside onnxruntime (see OnnxHelper.idle).
    await hooks.onnxHelper?.idle();
  }
}

async function computeTrainingPhases(
  input: TrainComputeInput,
  trainer: Trainer,
  hooks: ComputeHooks,
): Promise<TrainComputed> {
  const { signal, report } = hooks;
  throwIfAborted(signal, where);
  report?.('reading', 0);
  const source = await readTable(input.source, hooks.kept);
  report?.(
    'reading',
    1,
    `read ${source.table.rowCount} rows${source.reused ? ' (parsed by the last training on this dataset version)' : ''}`,
  );
  throwIfAborted(signal, where);
  // With a helper thread (the train worker has one), a tree ensemble's ONNX export and the parity
  // check's onnxruntime side start as soon as the model exists, and run while this thread scores the
  // test rows, measures importance and serializes the native model.
  const { onnxHelper } = hooks;
  let ahead: { pending: PendingOnnx; rows: ParityRows } | undefined;
  const onFitted: FitModelInput['onFitted'] = (model, testSet, classes) => {
    if (!onnxHelper || !isTreeEnsembleModel(model)) return;
    const { nFeatures } = model.ensemble;
    const rows = paritySample(testSet.x, testSet.y, testSet.nRows, nFeatures, PARITY_MAX_ROWS);
    if (rows.nRows === 0) return;
    const pending = onnxHelper.submit({
      ensemble: model.ensemble,
      ...(classes ? { classes } : {}),
      x32: Float32Array.from(rows.x),
      nRows: rows.nRows,
    });
    ahead = { pending, rows };
  };
  const fit = await fitModel({
    ...(onnxHelper && wantsOnnx(input) ? { onFitted } : {}),
    table: source.table,
    target: input.target,
    ...(input.features ? { features: input.features } : {}),
    ...(input.task ? { task: input.task } : {}),
    trainer,
    params: input.params,
    split: input.split,
    ...(signal ? { signal } : {}),
    onProgress: (p) => report?.('fitting', p.fraction, p.message),
    createdAt: input.createdAt,
  });
  throwIfAborted(signal, where);
  const onnx = await exportOnnx(fit, input, trainer.name, signal, report, ahead);
  throwIfAborted(signal, where);
  return {
    manifest: fit.manifest,
    params: fit.params,
    metrics: fit.metrics,
    ...(fit.confusionMatrix ? { confusionMatrix: fit.confusionMatrix } : {}),
    nativeBytes: new TextEncoder().encode(JSON.stringify(fit.nativeJson)),
    onnx,
    datasetTags: source.tags,
  };
}

/**
 * Exports tree models to ONNX with a parity check on the test rows (`INTEGRITY` when it fails, before
 * any run exists). Returns `null` when ONNX was not asked for, or was only a default and the model is
 * not a tree ensemble or onnxruntime-node (an optional peer dependency, needed for the parity check)
 * is not installed; asked for explicitly without it, `UNSUPPORTED` names the install command.
 */
async function exportOnnx(
  fit: FitModelResult,
  { formats, onnxRuntime }: Pick<TrainComputeInput, 'formats' | 'onnxRuntime'>,
  trainerName: string,
  signal: AbortSignal | undefined,
  report: PhaseReporter | undefined,
  ahead: { pending: PendingOnnx; rows: ParityRows } | undefined,
): Promise<{ bytes: Uint8Array; report: ParityReport } | null> {
  const wanted = formats === undefined || formats.includes('onnx');
  if (!wanted) return null;
  const { model } = fit;
  if (!isTreeEnsembleModel(model) && !isLinearModel(model)) {
    if (formats === undefined) return null;
    throw new RegistryError(
      'UNSUPPORTED',
      `models of trainer "${trainerName}" cannot be exported to ONNX; use formats: ['native']`,
      { where },
    );
  }
  if (!onnxRuntime) {
    if (formats === undefined) return null;
    await requireOnnxRuntime();
  }
  report?.('exporting', 0);
  if (ahead && isTreeEnsembleModel(model)) {
    const { pending, rows } = ahead;
    await pending.exported;
    report?.('exporting', 1);
    report?.('checking', 0);
    const { bytes, output: onnx } = await pending.ran;
    // The native side on the same float32 rows, with the packed predictor that serves native models.
    const parity = compareTreeParity(model.ensemble, onnx, Float32Array.from(rows.x), rows.y, rows.nRows);
    report?.('checking', 1, `checked the ONNX export on ${parity.rows} test rows`);
    return { bytes, report: parity };
  }
  const nFeatures = fit.manifest.features.length;
  const rows = paritySample(fit.testSet.x, fit.testSet.y, fit.testSet.nRows, nFeatures, PARITY_MAX_ROWS);
  const parityOptions = {
    ...(fit.manifest.classes ? { classes: fit.manifest.classes } : {}),
    ...rows,
    ...(signal ? { signal } : {}),
    onPhase: () => {
      report?.('exporting', 1);
      report?.('checking', 0);
    },
  };
  const exported = isTreeEnsembleModel(model)
    ? await exportWithParity(model.ensemble, parityOptions)
    : await exportLinearWithParity(model.linear, parityOptions);
  report?.('checking', 1, `checked the ONNX export on ${exported.report.rows} test rows`);
  return exported;
}
