import protobuf from 'protobufjs';

/**
 * The part of `onnx.proto` that modelreg reads and writes, as a protobufjs reflection root. Field
 * numbers are exactly those of onnx.proto (IR version 10); field names are camelCase. Enums are
 * declared as `int32`, which is the same varint on the wire. Fields not listed here are skipped on
 * decode, so only fields that can hold tensors, graphs or paths matter for validation.
 */

type FieldSpec = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };

const f = (type: string, id: number): FieldSpec => ({ type, id });
const r = (type: string, id: number): FieldSpec => {
  const scalar = ['float', 'double', 'int32', 'int64', 'uint64'].includes(type);
  return scalar ? { type, id, rule: 'repeated', options: { packed: true } } : { type, id, rule: 'repeated' };
};

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            refAttrName: f('string', 21),
            docString: f('string', 13),
            type: f('int32', 20),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            g: f('GraphProto', 6),
            sparseTensor: f('SparseTensorProto', 22),
            tp: f('TypeProto', 14),
            floats: r('float', 7),
            ints: r('int64', 8),
            strings: r('bytes', 9),
            tensors: r('TensorProto', 10),
            graphs: r('GraphProto', 11),
            sparseTensors: r('SparseTensorProto', 23),
            typeProtos: r('TypeProto', 15),
          },
        },
        ValueInfoProto: {
          fields: {
            name: f('string', 1),
            type: f('TypeProto', 2),
            docString: f('string', 3),
            metadataProps: r('StringStringEntryProto', 4),
          },
        },
        NodeProto: {
          fields: {
            input: r('string', 1),
            output: r('string', 2),
            name: f('string', 3),
            opType: f('string', 4),
            domain: f('string', 7),
            overload: f('string', 8),
            attribute: r('AttributeProto', 5),
            docString: f('string', 6),
            metadataProps: r('StringStringEntryProto', 9),
          },
        },
        TrainingInfoProto: {
          fields: {
            initialization: f('GraphProto', 1),
            algorithm: f('GraphProto', 2),
            initializationBinding: r('StringStringEntryProto', 3),
            updateBinding: r('StringStringEntryProto', 4),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            opsetImport: r('OperatorSetIdProto', 8),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            domain: f('string', 4),
            modelVersion: f('int64', 5),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            metadataProps: r('StringStringEntryProto', 14),
            trainingInfo: r('TrainingInfoProto', 20),
            functions: r('FunctionProto', 25),
          },
        },
        GraphProto: {
          fields: {
            node: r('NodeProto', 1),
            name: f('string', 2),
            initializer: r('TensorProto', 5),
            sparseInitializer: r('SparseTensorProto', 15),
            docString: f('string', 10),
            input: r('ValueInfoProto', 11),
            output: r('ValueInfoProto', 12),
            valueInfo: r('ValueInfoProto', 13),
            metadataProps: r('StringStringEntryProto', 16),
          },
        },
        TensorProto: {
          fields: {
            dims: r('int64', 1),
            dataType: f('int32', 2),
            segment: f('Segment', 3),
            floatData: r('float', 4),
            int32Data: r('int32', 5),
            stringData: r('bytes', 6),
            int64Data: r('int64', 7),
            name: f('string', 8),
            docString: f('string', 12),
            rawData: f('bytes', 9),
            externalData: r('StringStringEntryProto', 13),
            dataLocation: f('int32', 14),
            doubleData: r('double', 10),
            uint64Data: r('uint64', 11),
            metadataProps: r('StringStringEntryProto', 16),
          },
          nested: { Segment: { fields: { begin: f('int64', 1), end: f('int64', 2) } } },
        },
        SparseTensorProto: {
          fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: r('int64', 3) },
        },
        TensorShapeProto: {
          fields: { dim: r('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: {
            value: {
              oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'],
            },
          },
          fields: {
            tensorType: f('Tensor', 1),
            sequenceType: f('Sequence', 4),
            mapType: f('Map', 5),
            optionalType: f('Optional', 9),
            sparseTensorType: f('SparseTensor', 8),
            denotation: f('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
            SparseTensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
            Sequence: { fields: { elemType: f('TypeProto', 1) } },
            Optional: { fields: { elemType: f('TypeProto', 1) } },
            Map: { fields: { keyType: f('int32', 1), valueType: f('TypeProto', 2) } },
          },
        },
        FunctionProto: {
          fields: {
            name: f('string', 1),
            input: r('string', 4),
            output: r('string', 5),
            attribute: r('string', 6),
            attributeProto: r('AttributeProto', 11),
            node: r('NodeProto', 7),
            docString: f('string', 8),
            opsetImport: r('OperatorSetIdProto', 9),
            domain: f('string', 10),
            overload: f('string', 13),
            valueInfo: r('ValueInfoProto', 12),
            metadataProps: r('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

const modelType = protobuf.Root.fromJSON(descriptor).lookupType('onnx.ModelProto');

/**
 * The same schema without bulk numeric payloads (tensor data, int/float attribute lists): decoding
 * for inspection skips them in O(1) instead of materializing millions of values.
 */
const withoutFields = (message: { fields: Record<string, FieldSpec> }, drop: string[]) => ({
  ...message,
  fields: Object.fromEntries(Object.entries(message.fields).filter(([name]) => !drop.includes(name))),
});
const types = descriptor.nested.onnx.nested;
const inspectionType = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ...types,
        AttributeProto: withoutFields(types.AttributeProto, ['f', 'i', 'floats', 'ints']),
        TensorProto: {
          ...withoutFields(types.TensorProto, [
            'dims',
            'segment',
            'floatData',
            'int32Data',
            'stringData',
            'int64Data',
            'rawData',
            'doubleData',
            'uint64Data',
          ]),
          nested: {},
        },
        SparseTensorProto: withoutFields(types.SparseTensorProto, ['dims']),
      },
    },
  },
}).lookupType('onnx.ModelProto');

/** `TensorProto.DataType` codes. */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** `AttributeProto.AttributeType` codes. */
export const OnnxAttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** `TensorProto.DataLocation.EXTERNAL`. */
export const ONNX_DATA_LOCATION_EXTERNAL = 1;

// Plain-object views of the messages: what `encodeOnnxModel` accepts and `decodeOnnxModel` returns
// (int64 as number, bytes as Uint8Array, unset scalars absent, repeated fields always arrays on decode).

export interface OnnxStringStringEntry {
  key?: string;
  value?: string;
}
export interface OnnxOperatorSetId {
  domain?: string;
  version?: number;
}
export interface OnnxTensor {
  dims?: number[];
  dataType?: number;
  segment?: { begin?: number; end?: number };
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: OnnxStringStringEntry[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: number[];
  metadataProps?: OnnxStringStringEntry[];
}
export interface OnnxSparseTensor {
  values?: OnnxTensor;
  indices?: OnnxTensor;
  dims?: number[];
}
export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}
export interface OnnxTensorShape {
  dim?: OnnxDimension[];
}
export interface OnnxTypeProto {
  tensorType?: { elemType?: number; shape?: OnnxTensorShape };
  sparseTensorType?: { elemType?: number; shape?: OnnxTensorShape };
  sequenceType?: { elemType?: OnnxTypeProto };
  optionalType?: { elemType?: OnnxTypeProto };
  mapType?: { keyType?: number; valueType?: OnnxTypeProto };
  denotation?: string;
}
export interface OnnxAttribute {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  sparseTensor?: OnnxSparseTensor;
  tp?: OnnxTypeProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  sparseTensors?: OnnxSparseTensor[];
  typeProtos?: OnnxTypeProto[];
}
export interface OnnxValueInfo {
  name?: string;
  type?: OnnxTypeProto;
  docString?: string;
  metadataProps?: OnnxStringStringEntry[];
}
export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: OnnxAttribute[];
  docString?: string;
  metadataProps?: OnnxStringStringEntry[];
}
export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  sparseInitializer?: OnnxSparseTensor[];
  docString?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
  metadataProps?: OnnxStringStringEntry[];
}
export interface OnnxTrainingInfo {
  initialization?: OnnxGraph;
  algorithm?: OnnxGraph;
  initializationBinding?: OnnxStringStringEntry[];
  updateBinding?: OnnxStringStringEntry[];
}
export interface OnnxFunction {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attributeProto?: OnnxAttribute[];
  node?: OnnxNode[];
  docString?: string;
  opsetImport?: OnnxOperatorSetId[];
  domain?: string;
  overload?: string;
  valueInfo?: OnnxValueInfo[];
  metadataProps?: OnnxStringStringEntry[];
}
export interface OnnxModel {
  irVersion?: number;
  opsetImport?: OnnxOperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: OnnxGraph;
  metadataProps?: OnnxStringStringEntry[];
  trainingInfo?: OnnxTrainingInfo[];
  functions?: OnnxFunction[];
}

/**
 * Serializes a ModelProto given as a plain object. Returns a plain `Uint8Array` that owns its
 * memory: protobufjs returns a Node `Buffer`, possibly a slice of a shared pool, whose `slice()`
 * does not copy and whose `.buffer` holds unrelated bytes.
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  // Plain objects encode directly (numbers are valid int64 values); fromObject would first convert
  // every int64 into a Long, which dominates the cost for large ensembles.
  const encoded = modelType.encode(model).finish();
  const out = new Uint8Array(encoded.length);
  out.set(encoded);
  return out;
}

const root = modelType.root;
const graphType = root.lookupType('onnx.GraphProto');
const nodeType = root.lookupType('onnx.NodeProto');
const attributeType = root.lookupType('onnx.AttributeProto');

/** Whether this machine stores numbers little-endian, as ONNX's raw tensor data does. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * An attribute as the fast encoders take it: the lists may be typed arrays (an exporter fills them
 * by index, no boxed numbers), and `strings` may share entries (one encoded `LEAF` for every leaf).
 */
export type OnnxEncodableAttribute = Omit<OnnxAttribute, 'floats' | 'ints' | 'strings'> & {
  floats?: readonly number[] | Float32Array;
  ints?: readonly number[] | Int32Array;
  strings?: readonly Uint8Array[];
};
export type OnnxEncodableNode = Omit<OnnxNode, 'attribute'> & { attribute?: OnnxEncodableAttribute[] };
export type OnnxEncodableGraph = Omit<OnnxGraph, 'node'> & { node?: OnnxEncodableNode[] };
export type OnnxEncodableModel = Omit<OnnxModel, 'graph'> & { graph?: OnnxEncodableGraph };

function varintSize(v: number): number {
  if (v >= 0 && v <= 0x7fffffff)
    return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
  if (v < 0) return 10;
  let n = 1;
  for (let x = v; x > 0x7f; x = Math.floor(x / 0x80)) n++;
  return n;
}

/** Writes `v` (a safe integer; negatives as 64-bit two's complement) at `at`; returns the next offset. */
function writeVarint(out: Uint8Array, at: number, v: number): number {
  let o = at;
  if (v >= 0 && v <= 0x7fffffff) {
    let x = v;
    while (x > 0x7f) {
      out[o++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    out[o++] = x;
    return o;
  }
  if (v < 0) {
    let big = BigInt.asUintN(64, BigInt(v));
    while (big > 0x7fn) {
      out[o++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    out[o++] = Number(big);
    return o;
  }
  let x = v;
  while (x > 0x7f) {
    out[o++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  out[o++] = x;
  return o;
}

/** Field numbers of the messages {@link encodeModelSteps} writes itself. */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_FLOATS = 7;
const ATTRIBUTE_INTS = 8;
const ATTRIBUTE_STRINGS = 9;
/** List entries encoded per step. */
const ENCODE_SLICE = 50_000;
const lengthTag = (field: number): number => (field << 3) | 2;

/** One run of at most ENCODE_SLICE list entries: a packed run of `ints` or `floats`, or `strings` entries. */
interface ListRun {
  field: number;
  start: number;
  end: number;
  /** Bytes of the packed payload (ints, floats) or of all the entries (strings). */
  payload: number;
  /** Bytes of the whole run as written. */
  size: number;
}

interface AttributePlan {
  attribute: OnnxEncodableAttribute;
  head: Uint8Array;
  runs: ListRun[];
  size: number;
}

/** The encoded size of the entries `start..end` of a list field, and of the run that holds them. */
function planRun(a: OnnxEncodableAttribute, field: number, start: number, end: number): ListRun {
  let payload = 0;
  if (field === ATTRIBUTE_INTS) {
    const values = a.ints!;
    for (let i = start; i < end; i++) payload += varintSize(values[i]!);
  } else if (field === ATTRIBUTE_FLOATS) {
    payload = (end - start) * 4;
  } else {
    const values = a.strings!;
    for (let i = start; i < end; i++) {
      const n = values[i]!.length;
      payload += 1 + varintSize(n) + n;
    }
    return { field, start, end, payload, size: payload };
  }
  return { field, start, end, payload, size: 1 + varintSize(payload) + payload };
}

function writeRun(out: Uint8Array, at: number, a: OnnxEncodableAttribute, run: ListRun): number {
  const { start, end } = run;
  let o = at;
  if (run.field === ATTRIBUTE_STRINGS) {
    const values = a.strings!;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      out[o++] = lengthTag(ATTRIBUTE_STRINGS);
      o = writeVarint(out, o, v.length);
      if (v.length <= 32) for (let j = 0; j < v.length; j++) out[o++] = v[j]!;
      else {
        out.set(v, o);
        o += v.length;
      }
    }
    return o;
  }
  out[o++] = lengthTag(run.field);
  o = writeVarint(out, o, run.payload);
  if (run.field === ATTRIBUTE_INTS) {
    const values = a.ints!;
    for (let i = start; i < end; i++) {
      let x = values[i]!;
      if (x >= 0 && x <= 0x7fffffff) {
        while (x > 0x7f) {
          out[o++] = (x & 0x7f) | 0x80;
          x >>>= 7;
        }
        out[o++] = x;
      } else o = writeVarint(out, o, x);
    }
    return o;
  }
  const values = a.floats!;
  const n = end - start;
  if (LITTLE_ENDIAN && values instanceof Float32Array) {
    out.set(new Uint8Array(values.buffer, values.byteOffset + start * 4, n * 4), o);
  } else {
    const view = new DataView(out.buffer, out.byteOffset + o, n * 4);
    for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[start + i]!, true);
  }
  return o + n * 4;
}

/**
 * Serializes a ModelProto like {@link encodeOnnxModel} (the same message, with the fields of nested
 * messages in another order and long attribute lists in several packed runs, both of which protobuf
 * parsers read as one), yielding after each run of at most 50,000 list entries. The attribute lists
 * (hundreds of thousands of entries for a deep forest) are written directly as packed runs:
 * protobufjs's int64 path took most of the export time. Sizes are computed first, so the model is
 * written into one buffer of its final size (no parts to concatenate: on a deep forest, allocating
 * and copying them cost as much as encoding).
 */
function* encodeModelSteps(model: OnnxEncodableModel): Generator<void, Uint8Array> {
  const { graph, ...rest } = model;
  const modelHead = modelType.encode(rest).finish();
  if (!graph) return Uint8Array.from(modelHead);
  const { node = [], ...graphRest } = graph;
  const graphHead = graphType.encode(graphRest).finish();
  // First pass: the size of every attribute, node and the graph.
  const nodes: { head: Uint8Array; attributes: AttributePlan[]; size: number }[] = [];
  let graphSize = graphHead.length;
  for (const n of node) {
    const { attribute = [], ...nodeRest } = n;
    const head = nodeType.encode(nodeRest).finish();
    const attributes: AttributePlan[] = [];
    let nodeSize = head.length;
    for (const a of attribute) {
      // Concatenated encodings of one message merge, and repeated fields append: a long list is
      // encoded in runs, with a step between them.
      const { ints, floats, strings, ...attributeRest } = a;
      const attributeHead = attributeType.encode(attributeRest).finish();
      const runs: ListRun[] = [];
      let size = attributeHead.length;
      const lists: [number, number][] = [
        [ATTRIBUTE_INTS, ints?.length ?? 0],
        [ATTRIBUTE_FLOATS, floats?.length ?? 0],
        [ATTRIBUTE_STRINGS, strings?.length ?? 0],
      ];
      for (const [field, length] of lists) {
        for (let i = 0; i < length; i += ENCODE_SLICE) {
          const run = planRun(a, field, i, Math.min(length, i + ENCODE_SLICE));
          runs.push(run);
          size += run.size;
          yield;
        }
      }
      attributes.push({ attribute: a, head: attributeHead, runs, size });
      nodeSize += 1 + varintSize(size) + size;
    }
    nodes.push({ head, attributes, size: nodeSize });
    graphSize += 1 + varintSize(nodeSize) + nodeSize;
  }
  // Second pass: write into one buffer of the final size.
  const out = new Uint8Array(modelHead.length + 1 + varintSize(graphSize) + graphSize);
  out.set(modelHead, 0);
  let o = modelHead.length;
  out[o++] = lengthTag(MODEL_GRAPH);
  o = writeVarint(out, o, graphSize);
  out.set(graphHead, o);
  o += graphHead.length;
  for (const n of nodes) {
    out[o++] = lengthTag(GRAPH_NODE);
    o = writeVarint(out, o, n.size);
    out.set(n.head, o);
    o += n.head.length;
    for (const a of n.attributes) {
      out[o++] = lengthTag(NODE_ATTRIBUTE);
      o = writeVarint(out, o, a.size);
      out.set(a.head, o);
      o += a.head.length;
      for (const run of a.runs) {
        o = writeRun(out, o, a.attribute, run);
        yield;
      }
    }
  }
  if (o !== out.length) throw new Error(`onnx encoder: wrote ${o} bytes of ${out.length}`);
  return out;
}

/**
 * {@link encodeOnnxModelInSteps} in one synchronous call: the fast encoder for large tree ensembles
 * (the same bytes as the stepped one).
 */
export function encodeOnnxModelFast(model: OnnxEncodableModel): Uint8Array {
  const steps = encodeModelSteps(model);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Serializes a ModelProto like {@link encodeOnnxModel} (the same message, with the fields of nested
 * messages in another order and long attribute lists in several packed runs, both of which protobuf
 * parsers read as one), in steps of at most 50,000 list entries, awaiting `between()` after each:
 * the caller yields to the event loop there and can stop a large export.
 */
export async function encodeOnnxModelInSteps(
  model: OnnxEncodableModel,
  between: () => Promise<void>,
): Promise<Uint8Array> {
  const steps = encodeModelSteps(model);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await between();
  }
}

/**
 * Parses ModelProto bytes. Throws whatever protobufjs throws on malformed input (callers wrap it);
 * the result is structurally an {@link OnnxModel} but carries no semantic guarantees. With
 * `structureOnly`, tensor payloads (`*_data`, `raw_data`, `dims`) and numeric attribute values
 * (`f`, `i`, `floats`, `ints`) are skipped: enough to read the interface and check references.
 */
export function decodeOnnxModel(bytes: Uint8Array, options: { structureOnly?: boolean } = {}): OnnxModel {
  const type = options.structureOnly ? inspectionType : modelType;
  return type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as OnnxModel;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 bytes for `AttributeProto.s` / `strings` (declared `bytes` in onnx.proto). */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);
