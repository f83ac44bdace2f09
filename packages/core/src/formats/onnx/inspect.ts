import { RegistryError } from '../../errors.js';
import {
  decodeOnnxModel,
  fromUtf8,
  ONNX_DATA_LOCATION_EXTERNAL,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxSparseTensor,
  type OnnxStringStringEntry,
  type OnnxTensor,
  type OnnxTypeProto,
  type OnnxValueInfo,
} from './proto.js';

export type OnnxElemType =
  | 'float'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'double'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'unknown';

const elemTypes: readonly OnnxElemType[] = [
  'unknown',
  'float',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'double',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
];

export interface OnnxValueSummary {
  name: string;
  /** `tensor` for plain tensors; ZipMap outputs are `sequence` (of `map`). */
  kind: 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional' | 'unknown';
  /** Element type of a (sparse) tensor; `unknown` for other kinds or codes modelreg does not name. */
  elemType: OnnxElemType;
  /** Dimensions: a number, a symbolic name, or `null` when unspecified; `null` when the rank is unknown. */
  shape: (number | string | null)[] | null;
}

export interface OnnxModelInfo {
  irVersion: number;
  /** Operator sets imported by the model (`''` is the default ONNX domain). */
  opsets: { domain: string; version: number }[];
  producer: string;
  producerVersion: string;
  /** Graph inputs that are not initializers: what a caller must feed. */
  inputs: OnnxValueSummary[];
  outputs: OnnxValueSummary[];
  /** `metadata_props` of the model. */
  metadata: Record<string, string>;
  /** Number of nodes in the main graph. */
  nodeCount: number;
}

const WHERE = 'onnx';
const invalid = (message: string, cause?: unknown): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', message, { where: WHERE, cause });

/**
 * Strings that reference files outside the model: absolute POSIX or Windows paths, `~/`, `..`
 * segments, `file:` URLs. Models are loaded from bytes, so such a reference could only resolve
 * against the host process's working directory; modelreg refuses them.
 */
export function looksLikeFileReference(value: string): boolean {
  const s = value.trim();
  if (s.length === 0) return false;
  return (
    /^file:/i.test(s) ||
    /^\/[^\s/]/.test(s) ||
    /^~[\\/]/.test(s) ||
    /^[a-zA-Z]:[\\/]/.test(s) ||
    /^\\\\/.test(s) ||
    /(^|[\\/])\.\.([\\/]|$)/.test(s)
  );
}

/** Metadata keys that announce external data; any non-empty value under them is refused. */
const EXTERNAL_KEY = /(^|[._-])(location|external[._-]?data|data[._-]?file|weights?[._-]?file)$/i;

function checkEntries(entries: OnnxStringStringEntry[] | undefined, where: string): void {
  for (const { key = '', value = '' } of entries ?? []) {
    if (
      (EXTERNAL_KEY.test(key) && value.trim() !== '') ||
      looksLikeFileReference(value) ||
      looksLikeFileReference(key)
    ) {
      throw invalid(`${where}: metadata "${key}" references a file ("${value.slice(0, 80)}")`);
    }
  }
}

function checkTensor(tensor: OnnxTensor, where: string): void {
  const name = `${where} tensor "${tensor.name ?? ''}"`;
  if (tensor.dataLocation === ONNX_DATA_LOCATION_EXTERNAL || (tensor.externalData ?? []).length > 0) {
    throw invalid(`${name} stores its data in an external file; external data is not supported`);
  }
  checkEntries(tensor.metadataProps, name);
}

function checkSparse(tensor: OnnxSparseTensor, where: string): void {
  if (tensor.values) checkTensor(tensor.values, `${where} sparse values`);
  if (tensor.indices) checkTensor(tensor.indices, `${where} sparse indices`);
}

/**
 * Walks every graph reachable from the model (main graph, subgraphs in attributes, functions,
 * training graphs) with an explicit stack, so hostile nesting cannot overflow the call stack.
 */
function checkModel(model: OnnxModel): void {
  checkEntries(model.metadataProps, 'model');
  const graphs: { graph: OnnxGraph; where: string }[] = [];
  const nodeLists: { nodes: OnnxNode[]; where: string }[] = [];
  if (model.graph) graphs.push({ graph: model.graph, where: 'graph' });
  for (const [i, info] of (model.trainingInfo ?? []).entries()) {
    if (info.initialization)
      graphs.push({ graph: info.initialization, where: `training_info[${i}].initialization` });
    if (info.algorithm) graphs.push({ graph: info.algorithm, where: `training_info[${i}].algorithm` });
  }
  for (const fn of model.functions ?? []) {
    const where = `function "${fn.name ?? ''}"`;
    checkEntries(fn.metadataProps, where);
    nodeLists.push({ nodes: fn.node ?? [], where });
    nodeLists.push({ nodes: [{ attribute: fn.attributeProto ?? [] }], where });
  }
  const checkAttribute = (a: OnnxAttribute, where: string): void => {
    const at = `${where} attribute "${a.name ?? ''}"`;
    if (a.t) checkTensor(a.t, at);
    for (const t of a.tensors ?? []) checkTensor(t, at);
    if (a.sparseTensor) checkSparse(a.sparseTensor, at);
    for (const t of a.sparseTensors ?? []) checkSparse(t, at);
    if (a.g) graphs.push({ graph: a.g, where: at });
    for (const g of a.graphs ?? []) graphs.push({ graph: g, where: at });
    for (const bytes of [...(a.s ? [a.s] : []), ...(a.strings ?? [])]) {
      const s = fromUtf8(bytes);
      if (looksLikeFileReference(s)) throw invalid(`${at} references a file ("${s.slice(0, 80)}")`);
    }
  };
  while (graphs.length > 0 || nodeLists.length > 0) {
    const next = graphs.pop();
    if (next) {
      const { graph, where } = next;
      checkEntries(graph.metadataProps, where);
      for (const t of graph.initializer ?? []) checkTensor(t, `${where} initializer`);
      for (const t of graph.sparseInitializer ?? []) checkSparse(t, `${where} initializer`);
      for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
        checkEntries(v.metadataProps, `${where} value "${v.name ?? ''}"`);
      }
      nodeLists.push({ nodes: graph.node ?? [], where });
      continue;
    }
    const { nodes, where } = nodeLists.pop()!;
    for (const node of nodes) {
      const at = `${where} node "${node.name || node.opType || ''}"`;
      checkEntries(node.metadataProps, at);
      for (const a of node.attribute ?? []) checkAttribute(a, at);
    }
  }
}

function summarizeType(type: OnnxTypeProto | undefined): Omit<OnnxValueSummary, 'name'> {
  const tensor = type?.tensorType ?? type?.sparseTensorType;
  if (tensor) {
    const code = tensor.elemType ?? 0;
    const dims = tensor.shape?.dim;
    return {
      kind: type?.tensorType ? 'tensor' : 'sparse_tensor',
      elemType: elemTypes[code] ?? 'unknown',
      shape: tensor.shape ? (dims ?? []).map((d) => d.dimValue ?? (d.dimParam || null)) : null,
    };
  }
  const kind = type?.sequenceType
    ? 'sequence'
    : type?.mapType
      ? 'map'
      : type?.optionalType
        ? 'optional'
        : 'unknown';
  return { kind, elemType: 'unknown', shape: null };
}

const summarize = (v: OnnxValueInfo): OnnxValueSummary => ({ name: v.name ?? '', ...summarizeType(v.type) });

/**
 * Reads an ONNX model's interface (inputs, outputs, opsets, producer) without running it, and
 * checks that it is self-contained. Throws `INVALID_ARGUMENT` for bytes that are not an ONNX model
 * (empty, truncated, corrupt, no graph/nodes/opsets, `ir_version` 0) and for models that reference
 * files: tensors with external data (anywhere, subgraphs included) and path-like attribute or
 * metadata strings (see {@link looksLikeFileReference}).
 */
export function inspectOnnxModel(bytes: Uint8Array): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw invalid('the ONNX model is empty');
  let model: OnnxModel;
  try {
    model = decodeOnnxModel(bytes, { structureOnly: true });
  } catch (e) {
    throw invalid(`the bytes are not a valid ONNX model: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const irVersion = model.irVersion ?? 0;
  if (!(irVersion > 0)) throw invalid('the ONNX model has no ir_version');
  const graph = model.graph;
  if (!graph) throw invalid('the ONNX model has no graph');
  if ((graph.node ?? []).length === 0) throw invalid('the ONNX graph has no nodes');
  const opsets = (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 }));
  if (opsets.length === 0) throw invalid('the ONNX model imports no operator set');
  if ((graph.output ?? []).length === 0) throw invalid('the ONNX graph has no outputs');
  try {
    checkModel(model);
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    throw invalid(`the ONNX model is malformed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const initializers = new Set([
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.sparseInitializer ?? []).map((t) => t.values?.name ?? ''),
  ]);
  const metadata: Record<string, string> = Object.fromEntries(
    (model.metadataProps ?? []).map(({ key = '', value = '' }) => [key, value]),
  );
  return {
    irVersion,
    opsets,
    producer: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(summarize),
    outputs: (graph.output ?? []).map(summarize),
    metadata,
    nodeCount: (graph.node ?? []).length,
  };
}
