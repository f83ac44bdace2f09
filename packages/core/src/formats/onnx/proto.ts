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

/** Field numbers of the nested messages {@link encodeOnnxModelInSteps} writes itself. */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_ATTRIBUTE = 5;
/** List entries encoded per step. */
const ENCODE_SLICE = 50_000;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
function lengthDelimited(field: number, parts: Uint8Array[]): Uint8Array[] {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return [Uint8Array.from([...varint((field << 3) | 2), ...varint(length)]), ...parts];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  for (let x = v; x > 0x7f; x = Math.floor(x / 0x80)) n++;
  return n;
}

/** Writes `v` (a safe integer; negatives as 64-bit two's complement) at `at`; returns the next offset. */
function writeVarint(out: Uint8Array, at: number, v: number): number {
  let o = at;
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

/** One packed run of a repeated scalar field: tag, length, then the values. */
function packed(field: number, payloadSize: number, fill: (out: Uint8Array, at: number) => void): Uint8Array {
  const tag = (field << 3) | 2;
  const head = varintSize(tag) + varintSize(payloadSize);
  const out = new Uint8Array(head + payloadSize);
  const at = writeVarint(out, writeVarint(out, 0, tag), payloadSize);
  fill(out, at);
  return out;
}

/** `AttributeProto.ints` (field 8, int64) as one packed run. */
function encodeInts(values: readonly number[], start: number, end: number): Uint8Array {
  let size = 0;
  for (let i = start; i < end; i++) size += varintSize(values[i]!);
  return packed(8, size, (out, at) => {
    let o = at;
    for (let i = start; i < end; i++) o = writeVarint(out, o, values[i]!);
  });
}

/** `AttributeProto.floats` (field 7, float) as one packed run of little-endian float32. */
function encodeFloats(values: readonly number[], start: number, end: number): Uint8Array {
  const n = end - start;
  return packed(7, n * 4, (out, at) => {
    if (LITTLE_ENDIAN && at % 4 === 0) {
      const f32 = new Float32Array(out.buffer, out.byteOffset + at, n);
      for (let i = 0; i < n; i++) f32[i] = values[start + i]!;
      return;
    }
    const view = new DataView(out.buffer, out.byteOffset + at, n * 4);
    for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[start + i]!, true);
  });
}

/** `AttributeProto.strings` (field 9, bytes): one length-delimited entry per value. */
function encodeStrings(values: readonly Uint8Array[], start: number, end: number): Uint8Array {
  let size = 0;
  for (let i = start; i < end; i++) size += 1 + varintSize(values[i]!.length) + values[i]!.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    out[o++] = (9 << 3) | 2;
    o = writeVarint(out, o, v.length);
    out.set(v, o);
    o += v.length;
  }
  return out;
}

/**
 * Serializes a ModelProto like {@link encodeOnnxModel} (the same message, with the fields of nested
 * messages in another order and long attribute lists in several packed runs, both of which protobuf
 * parsers read as one), yielding after each run of at most 50,000 list entries. The attribute lists
 * (hundreds of thousands of entries for a deep forest) are written directly as packed runs:
 * protobufjs's int64 path took most of the export time.
 */
function* encodeModelSteps(model: OnnxModel): Generator<void, Uint8Array> {
  const { graph, ...rest } = model;
  const parts: Uint8Array[] = [modelType.encode(rest).finish()];
  if (graph) {
    const { node = [], ...graphRest } = graph;
    const graphParts: Uint8Array[] = [graphType.encode(graphRest).finish()];
    for (const n of node) {
      const { attribute = [], ...nodeRest } = n;
      const nodeParts: Uint8Array[] = [nodeType.encode(nodeRest).finish()];
      for (const a of attribute) {
        // Concatenated encodings of one message merge, and repeated fields append: a long list is
        // encoded in slices, with a step between them.
        const { ints, floats, strings, ...head } = a;
        const attributeParts: Uint8Array[] = [attributeType.encode(head).finish()];
        for (let i = 0; ints && i < ints.length; i += ENCODE_SLICE) {
          attributeParts.push(encodeInts(ints, i, Math.min(ints.length, i + ENCODE_SLICE)));
          yield;
        }
        for (let i = 0; floats && i < floats.length; i += ENCODE_SLICE) {
          attributeParts.push(encodeFloats(floats, i, Math.min(floats.length, i + ENCODE_SLICE)));
          yield;
        }
        for (let i = 0; strings && i < strings.length; i += ENCODE_SLICE) {
          attributeParts.push(encodeStrings(strings, i, Math.min(strings.length, i + ENCODE_SLICE)));
          yield;
        }
        nodeParts.push(...lengthDelimited(NODE_ATTRIBUTE, attributeParts));
        yield;
      }
      graphParts.push(...lengthDelimited(GRAPH_NODE, nodeParts));
    }
    parts.push(...lengthDelimited(MODEL_GRAPH, graphParts));
  }
  return concat(parts);
}

/**
 * {@link encodeOnnxModelInSteps} in one synchronous call: the fast encoder for large tree ensembles
 * (the same bytes as the stepped one).
 */
export function encodeOnnxModelFast(model: OnnxModel): Uint8Array {
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
  model: OnnxModel,
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
