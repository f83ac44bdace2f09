import { parse as parseYaml } from 'yaml';
import { MISSING_MARKERS, VALUE_RULES_VERSION } from '../datasets/values.js';
import type { FileRecord } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { FeatureSpec } from '../formats/features.js';
import type { ModelManifest } from '../formats/manifest.js';
import { describeSignature } from '../formats/manifest.js';
import { inspectOnnxModel } from '../formats/onnx/inspect.js';
import { decodeOnnxModel, fromUtf8 } from '../formats/onnx/proto.js';

/**
 * Models logged by MLflow clients: a folder with an `MLmodel` file (YAML) naming its flavors. The
 * `onnx` flavor is data and loads like a modelreg ONNX model, its manifest made from `MLmodel` (the
 * signature's column names and types) and the ONNX graph (input name, task, class labels). Pickle
 * flavors (sklearn, python_function over a pickle, ...) are code: they are refused with `UNSUPPORTED`.
 */

const where = 'load';

const unsupported = (message: string): RegistryError => new RegistryError('UNSUPPORTED', message, { where });
const invalid = (message: string, cause?: unknown): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', message, { where, cause });

type Yaml = Record<string, unknown>;
const isObject = (v: unknown): v is Yaml => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses an `MLmodel` file: plain YAML data (no custom tags are resolved, aliases are bounded). */
export function parseMlmodel(bytes: Uint8Array, label: string): Yaml {
  let doc: unknown;
  try {
    doc = parseYaml(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), {
      schema: 'core',
      maxAliasCount: 100,
      uniqueKeys: true,
    });
  } catch (e) {
    throw invalid(`${label}: MLmodel is not valid YAML: ${(e as Error).message}`, e);
  }
  if (!isObject(doc) || !isObject(doc['flavors'])) {
    throw invalid(`${label}: MLmodel has no "flavors" mapping`);
  }
  return doc;
}

/** The ONNX file of the `onnx` flavor, or `UNSUPPORTED` naming the flavors and why they are refused. */
export function onnxFileOf(mlmodel: Yaml, files: FileRecord[], label: string): FileRecord {
  const flavors = mlmodel['flavors'] as Yaml;
  const onnx = flavors['onnx'];
  if (!isObject(onnx)) {
    const names = Object.keys(flavors);
    const pickled = Object.values(flavors)
      .filter(isObject)
      .flatMap((f) => [f['pickled_model'], f['model_path'], f['data'], f['serialization_format']])
      .filter((v): v is string => typeof v === 'string');
    throw unsupported(
      `${label} is an MLflow model with the flavor(s) ${names.join(', ')}` +
        (pickled.length > 0 ? ` stored as ${pickled.join(', ')}` : '') +
        ': loading it would run Python code (pickle), and a model is data, never code. Log it with the onnx flavor (mlflow.onnx.log_model) to serve it here',
    );
  }
  const path = typeof onnx['data'] === 'string' ? onnx['data'] : 'model.onnx';
  const record = files.find((f) => f.path === path);
  if (!record)
    throw invalid(`${label}: MLmodel names the ONNX file "${path}", which the model folder does not have`);
  return record;
}

const columnTypes: Record<string, FeatureSpec['type']> = {
  double: 'number',
  float: 'number',
  long: 'integer',
  integer: 'integer',
  boolean: 'boolean',
  datetime: 'datetime',
};

/** Input columns of the MLmodel signature (`signature.inputs`, a JSON string of column specs), if any. */
function signatureColumns(
  mlmodel: Yaml,
  label: string,
): { name: string; type: FeatureSpec['type'] }[] | null {
  const signature = mlmodel['signature'];
  if (!isObject(signature) || typeof signature['inputs'] !== 'string') return null;
  let specs: unknown;
  try {
    specs = JSON.parse(signature['inputs']);
  } catch (e) {
    throw invalid(`${label}: MLmodel signature.inputs is not valid JSON`, e);
  }
  if (!Array.isArray(specs) || specs.length === 0) return null;
  // A tensor signature names no columns: the inputs are named from the ONNX width instead.
  if (specs.some((s) => isObject(s) && s['type'] === 'tensor')) return null;
  return specs.map((s, i) => {
    if (!isObject(s) || typeof s['type'] !== 'string')
      throw invalid(`${label}: MLmodel signature input ${i} has no type`);
    const type = columnTypes[s['type']];
    if (!type) {
      throw unsupported(
        `${label}: MLmodel signature input ${JSON.stringify(s['name'] ?? i)} has type ${s['type']}; modelreg feeds ONNX models numbers (double, float, long, integer, boolean, datetime)`,
      );
    }
    return { name: typeof s['name'] === 'string' ? s['name'] : `x${i}`, type };
  });
}

const classifierOps = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier', 'ZipMap']);

/** The class labels in a classifier node of the graph (`classlabels_strings` / `classlabels_int64s`). */
function classLabelsOf(onnxBytes: Uint8Array): (string | number)[] | undefined {
  const model = decodeOnnxModel(onnxBytes);
  for (const node of model.graph?.node ?? []) {
    if (!classifierOps.has(node.opType ?? '')) continue;
    for (const a of node.attribute ?? []) {
      if (a.name === 'classlabels_strings' && a.strings?.length) return a.strings.map((s) => fromUtf8(s));
      if ((a.name === 'classlabels_int64s' || a.name === 'classlabels_ints') && a.ints?.length) {
        return a.ints.map(Number);
      }
    }
  }
  return undefined;
}

/**
 * The manifest of an MLflow ONNX model: features from the MLmodel signature (or `x0..x{n-1}`), the
 * task from the ONNX outputs (a label output is a classifier), the classes from the classifier node.
 */
export function manifestFromMlmodel(input: {
  mlmodel: Yaml;
  onnxFile: FileRecord;
  onnxBytes: Uint8Array;
  label: string;
}): ModelManifest {
  const { mlmodel, onnxFile, onnxBytes, label } = input;
  const info = inspectOnnxModel(onnxBytes);
  if (info.inputs.length !== 1) {
    throw unsupported(
      `${label}: the ONNX model has ${info.inputs.length} inputs; modelreg feeds one [rows, features] tensor`,
    );
  }
  const onnxInput = info.inputs[0]!;
  const width = onnxInput.shape?.[1];
  const columns = signatureColumns(mlmodel, label);
  if (columns && typeof width === 'number' && columns.length !== width) {
    throw invalid(
      `${label}: MLmodel's signature lists ${columns.length} inputs but the ONNX input "${onnxInput.name}" is ${width} wide`,
    );
  }
  if (!columns && typeof width !== 'number') {
    throw invalid(
      `${label}: neither MLmodel's signature nor the ONNX input "${onnxInput.name}" gives the number of features`,
    );
  }
  const features: FeatureSpec[] = (
    columns ?? Array.from({ length: width as number }, (_, i) => ({ name: `x${i}`, type: 'number' as const }))
  ).map((c) => ({ name: c.name, type: c.type as 'number', fill: 0 }));
  const labelOutput = info.outputs.some(
    (o) => o.kind === 'tensor' && ['int64', 'int32', 'string'].includes(o.elemType),
  );
  let classes: (string | number)[] | undefined;
  if (labelOutput) {
    classes = classLabelsOf(onnxBytes);
    if (!classes) {
      const proba = info.outputs.find(
        (o) => o.kind === 'tensor' && o.elemType === 'float' && typeof o.shape?.[1] === 'number',
      );
      const k = proba?.shape?.[1];
      if (typeof k === 'number' && k >= 2) classes = Array.from({ length: k }, (_, i) => i);
    }
    if (!classes || classes.length < 2) {
      throw invalid(
        `${label}: the ONNX model has a label output but its classes cannot be read from the graph`,
      );
    }
  }
  const task = classes ? 'classification' : 'regression';
  const flavors = mlmodel['flavors'] as Yaml;
  const onnxFlavor = flavors['onnx'] as Yaml;
  const created = Date.parse(String(mlmodel['utc_time_created'] ?? '').replace(' ', 'T') + 'Z');
  return {
    formatVersion: 1,
    task,
    target: 'prediction',
    features,
    ...(classes ? { classes } : {}),
    files: [{ path: onnxFile.path, sha256: onnxFile.sha256, size: onnxFile.size, format: 'onnx' }],
    trainer: {
      name: 'mlflow',
      params: {
        flavor: 'onnx',
        ...(typeof onnxFlavor['onnx_version'] === 'string'
          ? { onnx_version: onnxFlavor['onnx_version'] }
          : {}),
        ...(typeof mlmodel['mlflow_version'] === 'string'
          ? { mlflow_version: mlmodel['mlflow_version'] }
          : {}),
      },
    },
    metrics: {},
    createdAt: Number.isFinite(created) ? created : 0,
    signature: describeSignature({ task, features, classes }),
    values: { version: VALUE_RULES_VERSION, missing: [...MISSING_MARKERS] },
    onnx: { inputName: onnxInput.name },
  };
}
