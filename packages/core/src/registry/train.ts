import { z } from 'zod';
import { aliasSchema, nameSchema, parseArg } from '../domain/names.js';
import type { DatasetVersion, FileRecord, ModelVersion, Run } from '../domain/types.js';
import type { ArtifactBody } from '../stores/artifact-store.js';
import { sliceBody } from '../stores/body.js';
import type { NewRunRecord } from '../stores/metadata-store.js';
import { callLimits, tagsArgSchema } from '../domain/limits.js';
import { ownRecordSchema, setOwn } from '../domain/records.js';
import { RegistryError, abortedError, isRegistryError, throwIfAborted } from '../errors.js';
import type { ManifestFile, ModelManifest } from '../formats/manifest.js';
import { builtinTrainers } from '../training/trainers/index.js';
import { resolveModelOption } from '../training/sklearn-names.js';
import type { Trainer, TrainerRegistry, TrainPhase, TrainProgress } from '../training/trainer.js';
import type { DatasetCatalog } from '../datasets/dataset-catalog.js';
import type { RegistryContext } from './context.js';
import { canonicalStage } from './models.js';
import { newId, putRunFiles, registerVersion } from './register.js';
import { logArtifacts } from './run-artifacts.js';
import { isOnnxRuntimeAvailable, requireOnnxRuntime } from '../formats/onnx/session.js';
import { startRun } from './runs.js';
import { authorize } from './access.js';
import { computeTraining } from './train-compute.js';
import type { PhaseReporter, ResultBytes, TrainComputed, TrainDataSource } from './train-compute.js';
import { computeInWorker, trainWorkerAvailable } from './train-in-worker.js';
import { releaseSpooled } from './train-process.js';

/** A result's bytes as a store body, in slices (see sliceBody and SpooledBytes). */
const inSlices = (bytes: ResultBytes): AsyncIterable<Uint8Array> =>
  bytes instanceof Uint8Array ? sliceBody(bytes) : bytes.slices();

const where = 'train';

const finiteSchema = z.number().refine(Number.isFinite, 'must be a finite number (not NaN or Infinity)');
const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const trainOptionsSchema = z.strictObject({
  /** Experiment of the run (created when missing). Default `Default`. */
  experiment: nameSchema.default('Default'),
  /** Name of the run. */
  runName: z.string().max(256).optional(),
  /** A catalog dataset (`'name'` = latest, or `{ name, version }`), inline CSV text, or records. */
  dataset: z.union([
    nameSchema,
    z.object({ name: nameSchema, version: z.number().int().min(1).optional() }).strict(),
    z.object({ csv: z.union([z.string(), z.custom<Uint8Array>((v) => v instanceof Uint8Array)]) }).strict(),
    z.object({ rows: z.array(z.record(z.string(), cellSchema)).min(1) }).strict(),
  ]),
  /** The column to predict. */
  target: z.string().min(1),
  /** Feature columns; default every usable column but the target (datetime and id-like columns are left out). */
  features: z.array(z.string().min(1)).min(1).optional(),
  /** Default: inferred from the target (strings, booleans or few distinct integers mean classification). */
  task: z.enum(['classification', 'regression']).optional(),
  /**
   * The model: a trainer and its params (`{ type: 'random-forest', params: { nEstimators: 100 } }`),
   * or a scikit-learn class and its params (`{ class: 'RandomForestClassifier', params: { n_estimators:
   * 100 } }`, optionally with `module: 'ensemble'`), mapped to modelreg's (see `SKLEARN_CLASSES`).
   */
  model: z.union([
    z
      .object({
        /** A trainer name: `random-forest`, `decision-tree`, `linear`, or one added with `registerTrainer`. */
        type: z.string().min(1),
        params: ownRecordSchema(z.string(), z.unknown()).default({}),
      })
      .strict(),
    z
      .object({
        /** scikit-learn's module of the class: `ensemble`, `tree`, `linear_model`. */
        module: z.string().min(1).optional(),
        /** A scikit-learn estimator class, e.g. `RandomForestClassifier`, `LogisticRegression`. */
        class: z.string().min(1),
        params: ownRecordSchema(z.string(), z.unknown()).default({}),
      })
      .strict(),
  ]),
  split: z.object({ testSize: z.number().optional(), seed: z.number().optional() }).strict().default({}),
  /**
   * Register the model as the next version of `name`, optionally in a stage (archiving the others
   * with `archiveExisting`) and with an alias. All or nothing: the run and the version are created in
   * one metadata transaction, so a failure leaves neither (only unreferenced files, for `gc()`).
   */
  register: z
    .object({
      name: nameSchema,
      stage: z.string().optional(),
      archiveExisting: z.boolean().default(false),
      alias: aliasSchema.optional(),
      description: z.string().max(10_000).default(''),
    })
    .strict()
    .optional(),
  /**
   * Model files to write. Default: `['native', 'onnx']` for tree and linear models (the ONNX export is checked
   * against the native model on the test rows), `['native']` for models of user trainers and when
   * onnxruntime-node (an optional peer dependency) is not installed; `'onnx'` without it is `UNSUPPORTED`.
   */
  formats: z
    .array(z.enum(['native', 'onnx']))
    .min(1)
    .optional(),
  tags: tagsArgSchema.default({}),
  onProgress: z.custom<(p: TrainProgress) => void>((v) => typeof v === 'function').optional(),
  /**
   * Stops the call. Until the files are written (reading, fitting, exporting, checking) an abort
   * rejects with `ABORTED` at once and leaves nothing behind: for the built-in trainers the train
   * worker running those phases is terminated; trainers added with `registerTrainer` run on the
   * calling thread and see the signal in their `fit`. While writing, an abort is seen before the
   * metadata commit with `register`; without it, once the run is being written, the call completes.
   */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
});
export type TrainOptions = z.input<typeof trainOptionsSchema>;

export interface TrainResult {
  /** The finished run holding params, metrics, tags and the model files. */
  run: Run;
  metrics: Record<string, number>;
  /** The registered version, when `register` was given. */
  version: ModelVersion | null;
  /** MODEL.json as stored. */
  manifest: ModelManifest;
  /** `runs:/<runId>/model`. */
  modelUri: string;
}

/**
 * The catalog dataset a train option names (`'name'` = latest, or `{ name, version }`);
 * `NOT_FOUND` when it does not exist. Jobs check it at submit, train when it reads it.
 */
export async function catalogDataset(
  datasets: DatasetCatalog,
  dataset: string | { name: string; version?: number | undefined },
): Promise<DatasetVersion> {
  const name = typeof dataset === 'string' ? dataset : dataset.name;
  const version = typeof dataset === 'string' ? undefined : dataset.version;
  const record = await datasets.get(name, version);
  if (!record) {
    throw new RegistryError(
      'NOT_FOUND',
      version === undefined
        ? `dataset "${name}" does not exist`
        : `dataset "${name}" has no version ${version}`,
      { where },
    );
  }
  return record;
}

/**
 * The dataset as bytes or records for the compute phases: a catalog dataset's stored CSV is read
 * here (I/O only) and parsed and checked against its sha256 where the model is fitted.
 */
async function sourceFromOptions(
  ctx: RegistryContext,
  datasets: DatasetCatalog,
  dataset: z.output<typeof trainOptionsSchema>['dataset'],
  raw: TrainOptions['dataset'],
): Promise<TrainDataSource> {
  if (typeof dataset === 'string' || 'name' in dataset) {
    const record = await catalogDataset(datasets, dataset);
    // Read here, checked against the record's sha256 and size while it is parsed in the worker.
    const bytes = await ctx.artifacts.get(record.key);
    if (!bytes) {
      throw new RegistryError(
        'INTEGRITY',
        `dataset "${record.name}" version ${record.version}: the stored file ${record.key} is missing`,
        { where },
      );
    }
    return {
      kind: 'catalog',
      bytes,
      columns: record.columns,
      label: `dataset "${record.name}" version ${record.version}`,
      expected: { sha256: record.sha256, size: record.size },
      tags: {
        'modelreg.dataset.name': record.name,
        'modelreg.dataset.version': String(record.version),
        'modelreg.dataset.sha256': record.sha256,
      },
    };
  }
  if ('rows' in dataset) {
    // The caller's records, not zod's copy: parsing a record drops a `__proto__` key.
    const rows = typeof raw === 'object' && 'rows' in raw ? raw.rows : dataset.rows;
    return { kind: 'rows', rows };
  }
  return { kind: 'csv', csv: dataset.csv };
}

/** Where each phase sits in `overall`, the progress of the whole call. */
const PHASE_SPANS: Record<TrainPhase, [number, number]> = {
  reading: [0, 0.1],
  fitting: [0.1, 0.8],
  exporting: [0.8, 0.88],
  checking: [0.88, 0.95],
  writing: [0.95, 1],
};

/** Turns phase reports into `TrainProgress` (see its fields) for the user's `onProgress`. */
function progressReporter(onProgress: ((p: TrainProgress) => void) | undefined): PhaseReporter | undefined {
  if (!onProgress) return undefined;
  let fitFraction = 0;
  let overall = 0;
  return (phase, fraction, message) => {
    if (phase === 'fitting') fitFraction = Math.max(fitFraction, fraction);
    else if (phase !== 'reading') fitFraction = 1;
    const [from, to] = PHASE_SPANS[phase];
    overall = Math.max(overall, from + (to - from) * Math.min(1, Math.max(0, fraction)));
    onProgress({ fraction: fitFraction, ...(message !== undefined ? { message } : {}), phase, overall });
  };
}

/**
 * Built-in trainers run in the train worker; others are closures of this thread, and so is every
 * trainer when core was bundled into an application file without its worker module beside it.
 */
function runsInWorker(trainer: Trainer): boolean {
  return builtinTrainers.includes(trainer) && trainWorkerAvailable();
}

/** Splits a record into records of at most `size` entries (none for an empty record). */
function batches<V>(record: Record<string, V>, size: number): Record<string, V>[] {
  const entries = Object.entries(record);
  const out: Record<string, V>[] = [];
  for (let i = 0; i < entries.length; i += size) out.push(Object.fromEntries(entries.slice(i, i + size)));
  return out;
}

function featureList(names: string[]): string {
  const joined = names.join(',');
  return joined.length <= 6000 ? joined : `${names.length} features (listed in MODEL.json)`;
}

function paramsToLog(
  fit: Pick<TrainComputed, 'manifest' | 'params'>,
  options: z.output<typeof trainOptionsSchema>,
): Record<string, string> {
  const out: Record<string, string> = {
    model_type: fit.manifest.trainer.name,
    ...('class' in options.model ? { model_class: options.model.class } : {}),
    target: fit.manifest.target,
    task: fit.manifest.task,
    // Params hold at most 6,000 characters; very wide tables log the count (MODEL.json lists them all).
    features: featureList(fit.manifest.features.map((f) => f.name)),
    test_size: String(fit.manifest.training?.testSize ?? ''),
    seed: String(fit.manifest.training?.seed ?? ''),
  };
  for (const [k, v] of Object.entries(fit.params)) {
    if (/^[A-Za-z0-9._-]{1,128}$/.test(k)) setOwn(out, k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return out;
}

/**
 * Trains a model in two phases. First nothing is written: the dataset is read, the model fitted and,
 * for tree models, exported to ONNX and checked for parity on the test split — so bad input or an
 * abort leaves nothing behind. Then the files are written (`model/model.native.json`,
 * `model/model.onnx` when exported, then `model/MODEL.json` with their digests, and
 * `confusion_matrix.json` beside the folder for classifiers) and recorded: as one run with params,
 * metrics and tags, or, with `register`, in one metadata transaction that creates the finished run
 * together with the version (see {@link trainAndRegister}).
 */
export async function train(
  ctx: RegistryContext,
  datasets: DatasetCatalog,
  trainers: TrainerRegistry,
  options: TrainOptions,
): Promise<TrainResult> {
  const opts = parseArg(trainOptionsSchema, options, 'train options', where);
  // Checked before fitting: the stores would refuse the writes, but only after the work.
  authorize(ctx.principal, 'edit', 'train', opts.register?.name);
  const model = resolveModelOption(opts.model, opts.task);
  const trainer = trainers.get(model.type);
  const registerStage =
    opts.register?.stage === undefined ? undefined : canonicalStage(ctx, opts.register.stage);
  const { signal } = opts;
  // Everything before anything is written is pure, and runs in the train worker for the built-in
  // trainers: an abort terminates it in any phase and leaves nothing behind. The store phase after
  // it is short and not interrupted.
  const report = progressReporter(opts.onProgress);
  let computed: TrainComputed<ResultBytes> | undefined;
  try {
    throwIfAborted(signal, where);
    report?.('reading', 0);
    const input = {
      source: await sourceFromOptions(ctx, datasets, opts.dataset, options.dataset),
      target: opts.target,
      ...(opts.features ? { features: opts.features } : {}),
      ...(model.task ? { task: model.task } : {}),
      params: model.params,
      split: opts.split,
      ...(opts.formats ? { formats: opts.formats } : {}),
      onnxRuntime:
        (opts.formats === undefined || opts.formats.includes('onnx')) && (await isOnnxRuntimeAvailable()),
      createdAt: ctx.now(),
    };
    throwIfAborted(signal, where);
    const inWorker = runsInWorker(trainer);
    // onnxruntime-node (optional) is looked for here: the worker runs what this thread can load.
    // Built-in trainers always fit tree ensembles, so an explicit 'onnx' without it fails at once.
    if (inWorker && opts.formats?.includes('onnx')) await requireOnnxRuntime();
    throwIfAborted(signal, where);
    const hooks = { ...(signal ? { signal } : {}), ...(report ? { report } : {}) };
    computed = inWorker
      ? await computeInWorker(trainer.name, input, { ...hooks, isolation: ctx.trainIsolation })
      : await computeTraining(input, trainer, hooks);
    throwIfAborted(signal, where);
  } catch (e) {
    // An abort seen after the result came: the result's spooled bytes are released.
    if (computed) await releaseSpooled(computed.nativeBytes, computed.onnx?.bytes);
    throw signal?.aborted && !isRegistryError(e, 'ABORTED') ? abortedError(signal, where) : e;
  }
  try {
    report?.('writing', 0);
    throwIfAborted(signal, where);
    return await writeTraining(ctx, opts, { trainer: trainer.name, registerStage, report }, computed);
  } finally {
    await releaseSpooled(computed.nativeBytes, computed.onnx?.bytes);
  }
}

/**
 * The writing phase of {@link train}: the model files, then the run (and the version, with
 * `register`). Model files reach the store in slices: hashing and copying a 100-tree model in one
 * step would stall the host's event loop for a second or more (see sliceBody); a train process's
 * large result is read from its file slice by slice (see SpooledBytes).
 */
async function writeTraining(
  ctx: RegistryContext,
  opts: z.output<typeof trainOptionsSchema>,
  {
    trainer,
    registerStage,
    report,
  }: { trainer: string; registerStage: string | undefined; report: PhaseReporter | undefined },
  computed: TrainComputed<ResultBytes>,
): Promise<TrainResult> {
  const { onnx } = computed;
  const formats = opts.formats ?? (onnx ? ['native', 'onnx'] : ['native']);
  const fit = computed;

  const runTags = {
    ...opts.tags,
    ...computed.datasetTags,
    'modelreg.trainer': trainer,
    'modelreg.task': fit.manifest.task,
    'modelreg.formats': formats.join(','),
    ...(onnx ? { 'modelreg.onnx.parity': JSON.stringify(onnx.report) } : {}),
  };
  const modelFiles = [
    ...(formats.includes('native')
      ? [
          {
            path: 'model/model.native.json',
            body: inSlices(computed.nativeBytes),
            format: 'native' as const,
          },
        ]
      : []),
    ...(onnx && formats.includes('onnx')
      ? [{ path: 'model/model.onnx', body: inSlices(onnx.bytes), format: 'onnx' as const }]
      : []),
  ];
  /** Writes the model folder (files, then MODEL.json with their digests) and the extras with `write`. */
  const writeModel = async (
    write: (files: { path: string; body: ArtifactBody }[]) => Promise<FileRecord[]>,
  ): Promise<{ manifest: ModelManifest; files: FileRecord[] }> => {
    const written = await write(modelFiles);
    const files: ManifestFile[] = written.map((f, i) => ({
      path: f.path.slice('model/'.length),
      sha256: f.sha256,
      size: f.size,
      format: modelFiles[i]!.format,
    }));
    const manifest = { ...fit.manifest, files, ...(onnx ? { onnx: { inputName: 'input' } } : {}) };
    const extra = fit.confusionMatrix
      ? [{ path: 'confusion_matrix.json', body: JSON.stringify(fit.confusionMatrix) }]
      : [];
    const rest = await write([
      { path: 'model/MODEL.json', body: JSON.stringify(manifest, null, 2) },
      ...extra,
    ]);
    return { manifest, files: [...written, ...rest] };
  };

  if (opts.register) {
    const { run, manifest, version } = await trainAndRegister(ctx, opts, {
      registerStage,
      tags: runTags,
      params: paramsToLog(fit, opts),
      metrics: fit.metrics,
      writeModel,
    });
    report?.('writing', 1, `registered version ${version.version} of "${version.name}"`);
    return { run, metrics: fit.metrics, version, manifest, modelUri: `runs:/${run.id}/model` };
  }

  // The user's tags (up to 100) plus modelreg's own go in batches within the per-call limits.
  const [firstTags, ...moreTags] = batches(runTags, callLimits.tagsPerCall);
  const run = await startRun(ctx, {
    experiment: opts.experiment,
    ...(opts.runName ? { name: opts.runName } : {}),
    tags: firstTags ?? {},
  });
  let manifest: ModelManifest;
  try {
    for (const tags of moreTags) await run.setTags(tags);
    for (const params of batches(paramsToLog(fit, opts), callLimits.paramsPerCall)) {
      await run.logParams(params);
    }
    for (const metrics of batches(fit.metrics, callLimits.metricsPerCall)) await run.logMetrics(metrics);
    ({ manifest } = await writeModel((files) => logArtifacts(ctx, run.id, files)));
    await run.end('finished');
  } catch (e) {
    await run.end('failed').catch(() => undefined);
    throw e;
  }
  report?.('writing', 1, `wrote run ${run.id}`);
  return {
    run: await run.info(),
    metrics: fit.metrics,
    version: null,
    manifest,
    modelUri: `runs:/${run.id}/model`,
  };
}

/**
 * Train with `register`: the model files are written first (unreferenced until the commit), then one
 * metadata transaction creates the finished run (experiment, params, metrics, tags, files) together
 * with the version, its model, stage (archiving others), alias and tags. A failure at any step leaves
 * the metadata exactly as it was — no run, no version — and at most unreferenced files for `gc`.
 */
async function trainAndRegister(
  ctx: RegistryContext,
  opts: z.output<typeof trainOptionsSchema>,
  parts: {
    registerStage: string | undefined;
    tags: Record<string, string>;
    params: Record<string, string>;
    metrics: Record<string, number>;
    writeModel: (
      write: (files: { path: string; body: ArtifactBody }[]) => Promise<FileRecord[]>,
    ) => Promise<{ manifest: ModelManifest; files: FileRecord[] }>;
  },
): Promise<{ run: Run; manifest: ModelManifest; version: ModelVersion }> {
  const register = opts.register!;
  const metrics = parseArg(ownRecordSchema(nameSchema, finiteSchema), parts.metrics, 'metrics', where);
  const runId = newId();
  const startTime = ctx.now();
  const { manifest, files } = await parts.writeModel((f) => putRunFiles(ctx, runId, f));
  throwIfAborted(opts.signal, where);
  const endTime = ctx.now();
  const experiment = await ctx.metadata.getExperimentByName(opts.experiment);
  const record: NewRunRecord = {
    experiment: { id: experiment?.id ?? newId(), name: opts.experiment, tags: {}, createdAt: startTime },
    run: {
      id: runId,
      name: opts.runName ?? `run-${new Date(startTime).toISOString().replace(/[:.]/g, '-')}`,
      parentRunId: null,
      startTime,
      tags: parts.tags,
    },
    params: parts.params,
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: endTime })),
    status: 'finished',
    endTime,
  };
  const version = await registerVersion(ctx, {
    name: register.name,
    runId,
    path: 'model',
    files: files
      .filter((f) => f.path.startsWith('model/'))
      .map((f) => ({ ...f, path: f.path.slice('model/'.length) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    description: register.description,
    tags: {},
    ...(parts.registerStage !== undefined ? { stage: parts.registerStage } : {}),
    archiveExisting: register.archiveExisting,
    ...(register.alias !== undefined ? { alias: register.alias } : {}),
    comment: `registered by train (run ${runId})`,
    run: record,
    runArtifacts: files,
  });
  // Committed: a failing read-back must not turn the success into an error.
  const run = await ctx.metadata.getRun(runId).catch(() => null);
  return { run: run ?? localRun(record, experiment?.id ?? record.experiment.id), manifest, version };
}

function localRun(record: NewRunRecord, experimentId: string): Run {
  const latestMetrics: Record<string, number> = {};
  for (const p of record.metrics) latestMetrics[p.key] = p.value;
  return {
    ...record.run,
    experimentId,
    status: record.status,
    endTime: record.endTime,
    params: record.params,
    latestMetrics,
    deletedAt: null,
  };
}
