import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FileRecord, ModelVersion } from '../domain/types.js';
import { RegistryError, isRegistryError } from '../errors.js';
import { parseArg } from '../domain/names.js';
import type { ModelManifest } from '../formats/manifest.js';
import { parseManifest } from '../formats/manifest.js';
import { loadNativeModel } from '../formats/native/native-model.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import { isOnnxRuntimeAvailable } from '../formats/onnx/session.js';
import { verifyChunks } from '../stores/body.js';
import type { Label, Task, TrainerRegistry } from '../training/trainer.js';
import type { ClassProbabilities, PredictorSignature } from './predictor.js';
import { createNativePredictor } from './predictor.js';
import type { ModelCache } from './model-cache.js';
import type { ModelSource } from './ports.js';
import type { EncodedInput, PredictInput } from './signature.js';
import { manifestFromMlmodel, onnxFileOf, parseMlmodel } from './mlmodel.js';

const where = 'load';

export const loadOptionsSchema = z
  .object({
    /** Which model file to serve. Default: ONNX when the model has one, else native. */
    format: z.enum(['native', 'onnx']).optional(),
    /**
     * `fresh` (default): the URI is resolved in the metadata store on every call. `cached`: what it
     * resolved to is kept, as `registry.predict(uri)` keeps it, so a hot path (a server's predict
     * route) reads no store per call; a stage, alias or version change is seen at once when this
     * process made it, else when its event arrives (the event feed's delay), and after 30 s at most.
     */
    resolution: z.enum(['fresh', 'cached']).optional(),
  })
  .strict();
export type LoadOptions = z.input<typeof loadOptionsSchema>;

/** What the cache holds: one per model content (MODEL.json digest) and format. */
export interface ModelRuntime {
  readonly manifest: ModelManifest;
  readonly format: 'native' | 'onnx';
  readonly signature: PredictorSignature;
  predict(input: PredictInput): Promise<Label[]>;
  predictProba(input: PredictInput): Promise<ClassProbabilities[]>;
  /** Validates and encodes input as `predictEncoded` takes it (float64 native, float32 ONNX). */
  encode(input: PredictInput): EncodedInput<Float64Array | Float32Array>;
  /** `predict` of rows `encode` made, or of several of its results put end to end (batching). */
  predictEncoded(x: Float64Array | Float32Array, nRows: number): Promise<Label[]>;
  dispose(): Promise<void>;
}

/** A model ready to predict, as returned by `registry.load(uri)`. */
export interface LoadedModel {
  /** The URI it was loaded from. */
  readonly uri: string;
  /** The registered version the URI resolved to (`null` for `runs:/` URIs). */
  readonly version: ModelVersion | null;
  readonly runId: string | null;
  readonly manifest: ModelManifest;
  /** Inputs (names, types, categories) and output; `signature.schema` is a zod schema of one record. */
  readonly signature: PredictorSignature;
  readonly task: Task;
  /** Classification: the labels, in `predictProba` order. */
  readonly classes: readonly Label[] | undefined;
  readonly format: 'native' | 'onnx';
  /** sha256 of MODEL.json (of the files' digests for an MLflow `MLmodel` folder): the identity of the model's content. */
  readonly digest: string;
  /** Labels (classification) or numbers (regression), one per row. Inputs are records, `number[][]` or `{ csv }`. */
  predict(input: PredictInput): Promise<Label[]>;
  /** Classification only: per row, the probability of each class. */
  predictProba(input: PredictInput): Promise<ClassProbabilities[]>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a recorded file and checks its size and sha256 against the record: `INTEGRITY` on any mismatch. */
export async function readVerified(
  artifacts: Pick<ArtifactStore, 'get'>,
  file: FileRecord,
  label: string,
): Promise<Uint8Array> {
  const bytes = await artifacts.get(file.key);
  if (!bytes) {
    throw new RegistryError(
      'INTEGRITY',
      `${label}: file "${file.path}" is missing from the artifact store (key ${file.key})`,
      { where },
    );
  }
  const actual = sha256(bytes);
  if (bytes.length !== file.size || actual !== file.sha256) {
    throw new RegistryError(
      'INTEGRITY',
      `${label}: file "${file.path}" has sha256 ${actual.slice(0, 16)}… and ${bytes.length} bytes, but the registry recorded ${file.sha256.slice(0, 16)}… and ${file.size} bytes`,
      { where, details: { path: file.path, key: file.key, expected: file.sha256, actual } },
    );
  }
  return bytes;
}

/**
 * Streams a recorded file through {@link verifyChunks} without keeping it: `INTEGRITY` when it is
 * missing or its bytes differ from the record.
 */
async function verifyStored(
  artifacts: Pick<ArtifactStore, 'getStream'>,
  file: FileRecord,
  label: string,
): Promise<void> {
  const stream = await artifacts.getStream(file.key);
  if (!stream) {
    throw new RegistryError(
      'INTEGRITY',
      `${label}: file "${file.path}" is missing from the artifact store (key ${file.key})`,
      { where },
    );
  }
  const chunks = verifyChunks(
    stream as AsyncIterable<Uint8Array>,
    file,
    `${label}: file "${file.path}"`,
    where,
  );
  for await (const _chunk of chunks) {
    // Reading is the check.
  }
}

function parseJson(bytes: Uint8Array, label: string, path: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new RegistryError('INVALID_ARGUMENT', `${label}: ${path} is not valid JSON`, { where, cause: e });
  }
}

/**
 * Builds a runtime for one format. The registry passes {@link loadNativeRuntime} and, for ONNX,
 * `createOnnxRuntimeLoader` (serving/onnx-runtime.ts).
 */
export type RuntimeLoader = (input: {
  artifacts: Pick<ArtifactStore, 'get'>;
  manifest: ModelManifest;
  files: FileRecord[];
  label: string;
  trainers: TrainerRegistry;
}) => Promise<ModelRuntime>;

export function fileOf(
  files: FileRecord[],
  manifest: ModelManifest,
  format: 'native' | 'onnx',
  label: string,
): FileRecord {
  const entry = manifest.files.find((f) => f.format === format);
  const record = entry && files.find((f) => f.path === entry.path);
  if (!entry || !record) {
    throw new RegistryError('NOT_FOUND', `${label} has no ${format} model file`, { where });
  }
  if (record.sha256 !== entry.sha256) {
    throw new RegistryError(
      'INTEGRITY',
      `${label}: ${entry.path} is recorded with another sha256 than MODEL.json lists`,
      { where },
    );
  }
  return record;
}

export const loadNativeRuntime: RuntimeLoader = async ({ artifacts, manifest, files, label, trainers }) => {
  const record = fileOf(files, manifest, 'native', label);
  const json = parseJson(await readVerified(artifacts, record, label), label, record.path);
  const predictor = createNativePredictor(manifest, loadNativeModel(json, trainers));
  return {
    manifest,
    format: 'native',
    signature: predictor.signature,
    predict: async (input) => predictor.predict(input),
    predictProba: async (input) => predictor.predictProba(input),
    encode: (input) => predictor.encode(input),
    predictEncoded: async (x, nRows) =>
      predictor.predictEncoded(x instanceof Float64Array ? x : new Float64Array(x), nRows),
    dispose: async () => undefined,
  };
};

export interface LoadDeps {
  source: ModelSource;
  trainers: TrainerRegistry;
  cache: ModelCache<ModelRuntime>;
  loaders: { native: RuntimeLoader; onnx?: RuntimeLoader };
}

/** Reads, verifies and parses MODEL.json: `INTEGRITY` on a digest mismatch, `INVALID_ARGUMENT` when invalid. */
async function readManifest(
  artifacts: Pick<ArtifactStore, 'get'>,
  record: FileRecord,
  label: string,
): Promise<ModelManifest> {
  const json = parseJson(await readVerified(artifacts, record, label), label, 'MODEL.json');
  return parseManifest(json, label, where);
}

/** The runtime behind a handle; referencing the handle from its own methods keeps it (and the pin) alive. */
const runtimes = new WeakMap<LoadedModel, ModelRuntime>();
const pinned = (handle: LoadedModel): ModelRuntime => runtimes.get(handle)!;

/** The runtime serving a handle `loadModel` made (`undefined` for any other object). */
export const runtimeOf = (handle: LoadedModel): ModelRuntime | undefined => runtimes.get(handle);

/**
 * The MODEL.json of the model a URI points at, read, checked against its recorded size and sha256
 * (`INTEGRITY`) and parsed (`INVALID_ARGUMENT` when malformed); the model itself is not loaded.
 */
export async function readModelManifest(source: ModelSource, uri: string): Promise<ModelManifest> {
  const resolved = await source.resolve(uri);
  const label = resolved.modelVersion
    ? `model "${resolved.modelVersion.name}" version ${resolved.modelVersion.version}`
    : uri;
  return manifestSource(source.artifacts, resolved.files, label).read();
}

/**
 * Where a model folder's manifest comes from: its MODEL.json, or for a model logged by an MLflow
 * client its `MLmodel` file (see `mlmodel.ts`). `record` identifies the content (the cache key).
 */
function manifestSource(
  artifacts: Pick<ArtifactStore, 'get'>,
  files: FileRecord[],
  label: string,
): { record: FileRecord; digest: string; read: () => Promise<ModelManifest> } {
  const record = files.find((f) => f.path === 'MODEL.json');
  if (record) return { record, digest: record.sha256, read: () => readManifest(artifacts, record, label) };
  const mlmodel = files.find((f) => f.path === 'MLmodel');
  if (mlmodel) {
    // MLmodel does not list its files' digests as MODEL.json does: the content is every file's.
    const all = files.map((f) => `${f.path}\0${f.sha256}`).sort();
    return {
      record: mlmodel,
      digest: createHash('sha256').update(all.join('\n')).digest('hex'),
      read: async () => {
        const parsed = parseMlmodel(await readVerified(artifacts, mlmodel, label), label);
        const onnxFile = onnxFileOf(parsed, files, label);
        const onnxBytes = await readVerified(artifacts, onnxFile, label);
        return manifestFromMlmodel({ mlmodel: parsed, onnxFile, onnxBytes, label });
      },
    };
  }
  throw new RegistryError('UNSUPPORTED', `${label} has no MODEL.json, so modelreg cannot load it`, {
    where,
  });
}

/**
 * Resolves the URI, then returns the cached runtime of that content (MODEL.json digest + format),
 * loading it once however many callers ask at the same time. Every file is verified against its
 * recorded sha256 before use.
 */
export async function loadModel(deps: LoadDeps, uri: string, options?: LoadOptions): Promise<LoadedModel> {
  const opts = parseArg(loadOptionsSchema, options ?? {}, 'load options', where);
  const { artifacts } = deps.source;
  const resolved = await deps.source.resolve(uri);
  const label = resolved.modelVersion
    ? `model "${resolved.modelVersion.name}" version ${resolved.modelVersion.version}`
    : uri;
  const { record: manifestRecord, digest, read } = manifestSource(artifacts, resolved.files, label);
  const cacheKey = `${digest}:${opts.format ?? 'auto'}`;
  const { value: runtime, pin } = await deps.cache.get(cacheKey, async () => {
    const manifest = await read();
    const hasOnnx = manifest.files.some((f) => f.format === 'onnx');
    const hasNative = manifest.files.some((f) => f.format === 'native');
    // Without onnxruntime-node (an optional peer dependency), a model with a native file serves that.
    const serveOnnx =
      hasOnnx && deps.loaders.onnx !== undefined && (!hasNative || (await isOnnxRuntimeAvailable()));
    const format = opts.format ?? (serveOnnx ? 'onnx' : 'native');
    // Every file of the model folder is verified, not only the one served: a damaged native file
    // behind a good ONNX one fails the load now, not the day someone loads the native format.
    const served = manifest.files.find((f) => f.format === format)?.path;
    for (const file of resolved.files) {
      if (file.path !== manifestRecord.path && file.path !== served)
        await verifyStored(artifacts, file, label);
    }
    const loader = deps.loaders[format];
    if (!loader)
      throw new RegistryError('UNSUPPORTED', `${format} models cannot be served by this build`, { where });
    try {
      return await loader({ artifacts, manifest, files: resolved.files, label, trainers: deps.trainers });
    } catch (e) {
      if (isRegistryError(e)) throw e;
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `${label}: the ${format} model could not be loaded: ${(e as Error)?.message ?? e}`,
        { where, cause: e },
      );
    }
  });
  const loaded: LoadedModel = {
    uri,
    version: resolved.modelVersion,
    runId: resolved.runId,
    manifest: runtime.manifest,
    signature: runtime.signature,
    task: runtime.manifest.task,
    classes: runtime.manifest.classes,
    format: runtime.format,
    digest,
    // The methods close over the handle, so a caller holding only `predict` keeps the runtime pinned.
    predict: (input) => pinned(loaded).predict(input),
    predictProba: (input) => pinned(loaded).predictProba(input),
  };
  runtimes.set(loaded, runtime);
  pin(loaded);
  return loaded;
}
