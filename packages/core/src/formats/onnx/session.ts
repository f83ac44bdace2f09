import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { z } from 'zod';
import { parseInput } from '../../domain/parse.js';
import { RegistryError } from '../../errors.js';
import { inspectOnnxModel, type OnnxModelInfo, type OnnxValueSummary } from './inspect.js';
import { loadOrtBinding, type BindingSession } from './binding.js';

export const onnxPredictorOptionsSchema = z
  .object({
    /** Threads onnxruntime uses inside one operator. Default 1 (predictors usually share a process). */
    intraOpNumThreads: z.number().int().min(1).max(1024).optional(),
    /** The input to feed. Default: the model's only input (see `inspectOnnxModel`). */
    inputName: z.string().min(1).optional(),
    /** Outputs `run` fetches. Default: every tensor output of the model. */
    outputNames: z.array(z.string().min(1)).min(1).readonly().optional(),
    /** Class labels in class-index order; `predictClassification` maps the model's labels to indices with them. */
    classes: z.union([z.array(z.string()).readonly(), z.array(z.number()).readonly()]).optional(),
    /**
     * Take `labelIndex` from the model's label output mapped through `classes`, instead of the argmax of
     * its probability tensor (for foreign models whose label is not that argmax). Default false; the
     * label output is always used when the model has no probability tensor.
     */
    useLabelOutput: z.boolean().optional(),
    /** Rows per onnxruntime call; larger batches are split to bound memory. Default 65536. */
    maxBatchRows: z.number().int().min(1).optional(),
  })
  .strict();

export type OnnxPredictorOptions = z.input<typeof onnxPredictorOptionsSchema>;

/** Data of one output tensor: a typed array (`Float32Array`, `BigInt64Array`, ...) or `string[]`. */
export type OnnxOutputData = Tensor.DataType;
export type OnnxOutputs = Record<string, OnnxOutputData>;

export interface OnnxClassification {
  /**
   * Class index per row: the argmax of `proba` (lowest index on ties; for modelreg exports this is
   * exactly the model's label), or the model's label mapped through `classes` (see `useLabelOutput`).
   */
  labelIndex: Int32Array;
  /** Class probabilities row-major (`nRows × nClasses`), when the model has a float probability output. */
  proba: Float32Array | null;
  nClasses: number;
}

export interface OnnxPredictor {
  readonly info: OnnxModelInfo;
  readonly inputName: string;
  /** Features per row the model declares, or `null` when its input width is symbolic. */
  readonly nFeatures: number | null;
  readonly outputNames: readonly string[];
  /** How runs reach onnxruntime (see {@link OnnxRunPath}). */
  readonly path: OnnxRunPath;
  /** Runs the model on `nRows × nFeatures` float32 values, row-major. Returns the data of each fetched output. */
  run(x: Float32Array, nRows: number, nFeatures: number): Promise<OnnxOutputs>;
  /** The first float output (`variable` for modelreg exports), row-major, as float64. */
  predictRegression(x: Float32Array, nRows: number, nFeatures: number): Promise<Float64Array>;
  /** {@link predictRegression} as onnxruntime returns it (float32 for modelreg exports), without the float64 copy. */
  regressionOutput(x: Float32Array, nRows: number, nFeatures: number): Promise<Float32Array | Float64Array>;
  predictClassification(x: Float32Array, nRows: number, nFeatures: number): Promise<OnnxClassification>;
  /**
   * Frees the native session once the calls already running have finished. Idempotent; calls made
   * after it fail with `CONFLICT`.
   */
  release(): Promise<void>;
}

const WHERE = 'onnx';
const DEFAULT_MAX_BATCH_ROWS = 65_536;
const LABEL_TYPES = new Set(['string', 'int64', 'int32']);

type Ort = typeof OrtModule;
let ortModule: Promise<Ort> | undefined;

/** The command that installs the optional peer dependency ONNX models need. */
export const ONNX_RUNTIME_INSTALL = 'npm install onnxruntime-node';

/**
 * onnxruntime-node is an optional peer dependency that loads its native library on import, so it is
 * imported on first use only. Missing (or unloadable), it is `UNSUPPORTED` naming the install command.
 */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').catch((e: unknown) => {
    ortModule = undefined;
    const missing = (e as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND';
    throw new RegistryError(
      'UNSUPPORTED',
      `ONNX models need onnxruntime-node, which ${missing ? 'is not installed' : `could not be loaded (${message(e)})`}: run \`${ONNX_RUNTIME_INSTALL}\``,
      { where: WHERE, cause: e },
    );
  });
  return ortModule;
}

/** Whether onnxruntime-node can be loaded in this process (it is then loaded, once). */
export async function isOnnxRuntimeAvailable(): Promise<boolean> {
  return loadOrt().then(
    () => true,
    () => false,
  );
}

/** Throws `UNSUPPORTED` naming the install command unless onnxruntime-node can be loaded. */
export async function requireOnnxRuntime(): Promise<void> {
  await loadOrt();
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const invalid = (text: string, cause?: unknown, details?: Record<string, unknown>): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', text, { where: WHERE, cause, details });
const unsupported = (text: string): RegistryError => new RegistryError('UNSUPPORTED', text, { where: WHERE });

function parseOptions(options: OnnxPredictorOptions): z.output<typeof onnxPredictorOptionsSchema> {
  return parseInput(onnxPredictorOptionsSchema, options, {
    code: 'INVALID_CONFIG',
    what: 'ONNX predictor option',
    where: WHERE,
  });
}

function pickInput(info: OnnxModelInfo, inputName: string | undefined): OnnxValueSummary {
  const input = inputName === undefined ? info.inputs[0] : info.inputs.find((i) => i.name === inputName);
  if (!input) {
    throw invalid(`the model has no input "${inputName ?? ''}"`, undefined, {
      inputs: info.inputs.map((i) => i.name),
    });
  }
  if (info.inputs.length !== 1) {
    throw unsupported(`the model has ${info.inputs.length} inputs; modelreg feeds exactly one [N, F] tensor`);
  }
  if (input.kind !== 'tensor' || (input.elemType !== 'float' && input.elemType !== 'double')) {
    throw unsupported(
      `input "${input.name}" is ${input.kind} of ${input.elemType}; expected a float or double tensor`,
    );
  }
  if (input.shape !== null && input.shape.length !== 2) {
    throw unsupported(`input "${input.name}" has rank ${input.shape.length}; expected [N, nFeatures]`);
  }
  return input;
}

type TypedOutput = Exclude<OnnxOutputData, string[]>;

function concatOutputs(parts: OnnxOutputData[]): OnnxOutputData {
  const first = parts[0]!;
  if (Array.isArray(first)) return (parts as string[][]).flat();
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new (first.constructor as new (length: number) => TypedOutput)(total);
  const target = out as unknown as { set(source: ArrayLike<unknown>, offset: number): void };
  let offset = 0;
  for (const p of parts) {
    target.set(p as ArrayLike<unknown>, offset);
    offset += p.length;
  }
  return out;
}

function argmaxRows(proba: Float32Array, nRows: number, k: number): Int32Array {
  const out = new Int32Array(nRows);
  for (let r = 0, o = 0; r < nRows; r++, o += k) {
    let best = 0;
    let bestValue = proba[o]!;
    for (let j = 1; j < k; j++) {
      if (proba[o + j]! > bestValue) {
        best = j;
        bestValue = proba[o + j]!;
      }
    }
    out[r] = best;
  }
  return out;
}

function labelIndexer(
  classes: readonly (string | number)[],
): (labels: OnnxOutputData, n: number) => Int32Array {
  const byString = new Map(classes.map((c, i) => [String(c), i]));
  const ints = classes.every((c) => typeof c === 'number' && Number.isSafeInteger(c));
  const byBigInt = ints ? new Map(classes.map((c, i) => [BigInt(c), i])) : null;
  return (labels, n) => {
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const v = labels[r];
      const index = typeof v === 'bigint' && byBigInt ? byBigInt.get(v) : byString.get(String(v));
      if (index === undefined) {
        throw invalid(
          `the model predicted label "${String(v)}", which is not one of the classes`,
          undefined,
          {
            label: String(v),
          },
        );
      }
      out[r] = index;
    }
    return out;
  };
}

/**
 * Loads ONNX bytes into an onnxruntime-node CPU session. The bytes are checked with
 * {@link inspectOnnxModel} first (no external data); a model onnxruntime rejects is
 * `INVALID_ARGUMENT` with onnxruntime's error as `cause`.
 */
export async function createOnnxPredictor(
  bytes: Uint8Array,
  options: OnnxPredictorOptions = {},
): Promise<OnnxPredictor> {
  return createOnnxPredictorOnPath(bytes, options, 'auto');
}

/** {@link createOnnxPredictor} kept to the public `InferenceSession` with `'session'` (tests run both paths). */
export async function createOnnxPredictorOnPath(
  bytes: Uint8Array,
  options: OnnxPredictorOptions,
  path: 'auto' | 'session',
): Promise<OnnxPredictor> {
  parseOptions(options);
  return createOnnxPredictorWithInfo(bytes, inspectOnnxModel(bytes), options, 'all', path);
}

/**
 * How a predictor's runs reach onnxruntime: `binding`, the native session of onnxruntime-node called
 * synchronously (see {@link loadOrtBinding}); `session`, its public `InferenceSession.run`, which
 * defers every run to the next turn of the event loop and wraps it in promises (about 8 µs a call,
 * more than one row of a forest takes).
 */
export type OnnxRunPath = 'binding' | 'session';

/** Output names to fetch, and the `{ name: null }` object the native session takes for them. */
interface Fetch {
  readonly names: readonly string[];
  readonly spec: Readonly<Record<string, null>>;
}
// Output names come from the model file: build with fromEntries so `__proto__` stays a key.
const fetchOf = (names: readonly string[]): Fetch => ({
  names,
  spec: Object.fromEntries(names.map((name) => [name, null])),
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * {@link createOnnxPredictor} for bytes modelreg has just exported itself, whose `info` it knows:
 * the inspection (a decode of the whole model, a quarter of a second for a deep forest) is skipped.
 * Not for bytes from anywhere else. `graphOptimizationLevel` `'disabled'` suits a session used once
 * (the parity check): onnxruntime then skips its optimizer passes at load. `path` `'session'` keeps
 * to the public `InferenceSession` (tests); the default takes the native binding when it is the one
 * modelreg knows.
 */
export async function createOnnxPredictorWithInfo(
  bytes: Uint8Array,
  info: OnnxModelInfo,
  options: OnnxPredictorOptions = {},
  graphOptimizationLevel: 'disabled' | 'all' = 'all',
  path: 'auto' | 'session' = 'auto',
): Promise<OnnxPredictor> {
  const opts = parseOptions(options);
  const input = pickInput(info, opts.inputName);
  const inputName = input.name;
  const nFeatures = typeof input.shape?.[1] === 'number' ? input.shape[1] : null;
  const feedDouble = input.elemType === 'double';
  const tensorOutputs = info.outputs.filter((o) => o.kind === 'tensor');
  const outputNames = opts.outputNames ? [...opts.outputNames] : tensorOutputs.map((o) => o.name);
  for (const name of outputNames) {
    if (!info.outputs.some((o) => o.name === name)) throw invalid(`the model has no output "${name}"`);
  }
  if (outputNames.length === 0) throw unsupported('the model has no tensor output');
  const maxBatchRows = opts.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS;
  if (opts.useLabelOutput && !opts.classes) {
    throw new RegistryError('INVALID_CONFIG', 'useLabelOutput needs the classes list', { where: WHERE });
  }

  const regressionOutput =
    tensorOutputs.find((o) => o.name === 'variable') ??
    tensorOutputs.find((o) => o.elemType === 'float' || o.elemType === 'double');
  const labelOutput =
    tensorOutputs.find((o) => o.name === 'label') ?? tensorOutputs.find((o) => LABEL_TYPES.has(o.elemType));
  const probaOutput =
    tensorOutputs.find((o) => o.name === 'probabilities' && o.elemType === 'float') ??
    tensorOutputs.find((o) => o.elemType === 'float' && o !== labelOutput);
  const declaredClasses = typeof probaOutput?.shape?.[1] === 'number' ? probaOutput.shape[1] : null;
  const useLabels = labelOutput !== undefined && (opts.useLabelOutput === true || !probaOutput);
  const toIndex = useLabels && opts.classes ? labelIndexer(opts.classes) : null;
  const classifyNames = toIndex && labelOutput ? [labelOutput.name] : probaOutput ? [probaOutput.name] : [];
  if (toIndex && labelOutput && probaOutput) classifyNames.push(probaOutput.name);
  const allFetch = fetchOf(outputNames);
  const regressionFetch = fetchOf(regressionOutput ? [regressionOutput.name] : []);
  const classifyFetch = fetchOf(classifyNames);

  const ort = await loadOrt();
  const OrtTensor = ort.Tensor;
  const sessionOptions: InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel,
    executionProviders: ['cpu'],
    logSeverityLevel: 4, // failures reach the caller as errors; keep stderr quiet
  };
  const binding = path === 'auto' ? await loadOrtBinding() : null;
  let direct: BindingSession | null = null;
  let session: InferenceSession | null = null;
  try {
    const fetched = [...new Set([...outputNames, ...tensorOutputs.map((o) => o.name)])];
    direct = binding?.load(bytes, sessionOptions, { input: inputName, outputs: fetched }) ?? null;
    if (!direct) session = await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (e) {
    throw invalid(`onnxruntime could not load the model: ${message(e)}`, e);
  }
  let released = false;

  function check(x: Float32Array, nRows: number, f: number): void {
    if (released) throw new RegistryError('CONFLICT', 'the ONNX predictor was released', { where: WHERE });
    if (!(x instanceof Float32Array)) throw invalid('x must be a Float32Array');
    if (!Number.isSafeInteger(nRows) || nRows < 0 || !Number.isSafeInteger(f) || f < 1) {
      throw invalid('nRows must be an integer ≥ 0 and nFeatures an integer ≥ 1', undefined, {
        nRows,
        nFeatures: f,
      });
    }
    if (nFeatures !== null && f !== nFeatures) {
      throw invalid(`the model expects ${nFeatures} features per row, got ${f}`, undefined, { nFeatures: f });
    }
    if (x.length < nRows * f) throw invalid(`x holds ${x.length} values, fewer than nRows × nFeatures`);
  }

  const rowFeeds = new WeakMap<Float32Array, InferenceSession.FeedsType>();

  function feedsOf(x: Float32Array, nRows: number, f: number): InferenceSession.FeedsType {
    if (feedDouble) return { [inputName]: new OrtTensor('float64', new Float64Array(x), [nRows, f]) };
    if (nRows === 1 && x.length === f) {
      // A caller that reuses a one-row buffer (the serving runtime's single-row path) reuses its feeds too.
      let cached = rowFeeds.get(x);
      if (!cached) rowFeeds.set(x, (cached = { [inputName]: new OrtTensor('float32', x, [1, f]) }));
      return cached;
    }
    return { [inputName]: new OrtTensor('float32', x, [nRows, f]) };
  }

  const failed = (e: unknown): RegistryError =>
    invalid(`onnxruntime failed to run the model: ${message(e)}`, e);

  function outputsOf(
    result: Record<string, { readonly data: unknown } | undefined>,
    fetch: Fetch,
  ): OnnxOutputs {
    return Object.fromEntries(
      fetch.names.map((name) => {
        const data = result[name]?.data;
        if (data === undefined) throw invalid(`onnxruntime returned no output "${name}"`);
        return [name, data as OnnxOutputData];
      }),
    );
  }

  /** One chunk through the native session, in this call. */
  function runDirect(
    s: BindingSession,
    x: Float32Array,
    nRows: number,
    f: number,
    fetch: Fetch,
  ): OnnxOutputs {
    let result: Record<string, { readonly data: unknown } | undefined>;
    try {
      result = s.run(feedsOf(x, nRows, f), fetch.spec);
    } catch (e) {
      throw failed(e);
    }
    return outputsOf(result, fetch);
  }

  function runChunk(x: Float32Array, nRows: number, f: number, fetch: Fetch): Promise<OnnxOutputs> {
    if (direct) {
      try {
        return Promise.resolve(runDirect(direct, x, nRows, f, fetch));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return session!.run(feedsOf(x, nRows, f), fetch.names).then(
      (result) => outputsOf(result, fetch),
      (e: unknown) => {
        throw failed(e);
      },
    );
  }

  // Runs in flight; release() waits for them so a hot swap never frees a session under a running call.
  let inFlight = 0;
  let drained: (() => void) | null = null;

  const done = (): void => {
    if (--inFlight === 0 && drained) drained();
  };

  /**
   * Runs `nRows` rows. Through the native binding a batch of at most `maxBatchRows` rows runs in this
   * call and its outputs are returned as they are (no promise); otherwise a promise of them.
   */
  function runRows(
    x: Float32Array,
    nRows: number,
    f: number,
    fetch: Fetch,
  ): OnnxOutputs | Promise<OnnxOutputs> {
    check(x, nRows, f);
    const size = nRows * f;
    if (nRows > maxBatchRows) return runBatches(x, nRows, f, fetch);
    const rows = x.length === size ? x : x.subarray(0, size);
    if (direct) return runDirect(direct, rows, nRows, f, fetch);
    inFlight++;
    let run: Promise<OnnxOutputs>;
    try {
      run = runChunk(rows, nRows, f, fetch);
    } catch (e) {
      done();
      throw e;
    }
    return run.then(
      (out) => {
        done();
        return out;
      },
      (e: unknown) => {
        done();
        throw e;
      },
    );
  }

  async function runBatches(x: Float32Array, nRows: number, f: number, fetch: Fetch): Promise<OnnxOutputs> {
    inFlight++;
    try {
      const parts: OnnxOutputs[] = [];
      for (let start = 0; start < nRows; start += maxBatchRows) {
        // Synchronous runs give the event loop a turn between chunks, as the public session does.
        if (direct && start > 0) await nextTurn();
        const rows = Math.min(maxBatchRows, nRows - start);
        parts.push(await runChunk(x.subarray(start * f, (start + rows) * f), rows, f, fetch));
      }
      return Object.fromEntries(fetch.names.map((name) => [name, concatOutputs(parts.map((p) => p[name]!))]));
    } finally {
      done();
    }
  }

  /** {@link runRows} as a promise. */
  async function runAsync(x: Float32Array, nRows: number, f: number, fetch: Fetch): Promise<OnnxOutputs> {
    return runRows(x, nRows, f, fetch);
  }

  async function regression(x: Float32Array, nRows: number, f: number): Promise<Float32Array | Float64Array> {
    if (!regressionOutput) throw unsupported('the model has no float output to read as a regression');
    const pending = runRows(x, nRows, f, regressionFetch);
    const out = pending instanceof Promise ? await pending : pending;
    return out[regressionOutput.name] as Float32Array | Float64Array;
  }

  return {
    info,
    inputName,
    nFeatures,
    outputNames,
    path: direct ? 'binding' : 'session',
    run: (x, nRows, f) => runAsync(x, nRows, f, allFetch),
    async predictRegression(x, nRows, f) {
      const data = await regression(x, nRows, f);
      return data instanceof Float64Array ? data : new Float64Array(data);
    },
    regressionOutput: (x, nRows, f) => regression(x, nRows, f),
    async predictClassification(x, nRows, f) {
      if (classifyFetch.names.length === 0) {
        throw unsupported(
          'the model has no probability tensor output, and no classes were given to map its labels',
        );
      }
      const pending = runRows(x, nRows, f, classifyFetch);
      const out = pending instanceof Promise ? await pending : pending;
      const proba = probaOutput && out[probaOutput.name] ? (out[probaOutput.name] as Float32Array) : null;
      const nClasses =
        proba && nRows > 0 ? proba.length / nRows : (declaredClasses ?? opts.classes?.length ?? 0);
      const labelIndex =
        toIndex && labelOutput ? toIndex(out[labelOutput.name]!, nRows) : argmaxRows(proba!, nRows, nClasses);
      return { labelIndex, proba, nClasses };
    },
    async release() {
      if (released) return;
      released = true;
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      if (direct) direct.dispose();
      else await session!.release();
    },
  };
}
