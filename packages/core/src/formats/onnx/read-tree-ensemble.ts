import { RegistryError } from '../../errors.js';
import { fromUtf8, LITTLE_ENDIAN } from './proto.js';

/**
 * A reader of the ONNX files modelreg writes for regressions with the `ai.onnx.ml` 5 `TreeEnsemble`
 * operator (a `TreeEnsemble` node, optionally followed by an `Add` of a float initializer), and an
 * evaluator of them that follows the operator's specification: the parity check reads a large
 * forest's whole file with it, where an onnxruntime session would take about 30 bytes of memory per
 * byte of the file (see `runTreeParity`). It reads the protobuf wire format itself (varints, packed
 * runs of a repeated field in several pieces, raw tensor data), one pass, into typed arrays, where
 * protobufjs (`decodeOnnxModel`) makes a JavaScript array of each list and copies it in `toObject`.
 * Anything it does not know is refused with `INTEGRITY`: it reads modelreg's own files only.
 */

const WHERE = 'onnx-export';
const fail = (message: string): RegistryError =>
  new RegistryError('INTEGRITY', `the ONNX export cannot be read back: ${message}`, { where: WHERE });

/** A protobuf message's bytes and a position in them. */
class Reader {
  at: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  /** A varint as a number: exact up to 2^53; a negative int64 (10 bytes) gives a negative number. */
  varint(): number {
    const b = this.bytes;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw fail('a varint runs past its message');
      const byte = b[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return i === 9 && value >= 2 ** 63 ? value - 2 ** 64 : value;
      scale *= 128;
    }
    throw fail('a varint is longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's content, skipped over. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.at;
    if (length > this.end - start) throw fail('a field runs past its message');
    this.at = start + length;
    return [start, this.at];
  }

  /** Skips a field of `wire` type. */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.at += 8;
    else if (wire === 2) this.span();
    else if (wire === 5) this.at += 4;
    else throw fail(`wire type ${wire} is not read`);
    if (this.at > this.end) throw fail('a field runs past its message');
  }

  /** Each field of the message: `(field number, wire type)`; the callback reads or skips it. */
  fields(each: (field: number, wire: number) => void): void {
    while (this.at < this.end) {
      const tag = this.varint();
      each(Math.floor(tag / 8), tag & 7);
    }
  }

  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.bytes, start, end);
  }

  string(): string {
    const [start, end] = this.span();
    return fromUtf8(this.bytes.subarray(start, end));
  }
}

/** A growable int32 list (repeated fields come in several runs); values outside int32 become -1. */
class IntList {
  values = new Int32Array(16);
  length = 0;
  reserve(n: number): void {
    if (this.length + n <= this.values.length) return;
    const grown = new Int32Array(Math.max(this.values.length * 2, this.length + n));
    grown.set(this.values.subarray(0, this.length));
    this.values = grown;
  }
  push(v: number): void {
    this.reserve(1);
    this.values[this.length++] = v >= -0x80000000 && v <= 0x7fffffff ? v : -1;
  }
  /** A packed run of varints in `bytes[start, end)`: the common short ones decoded inline. */
  pushPacked(bytes: Uint8Array, start: number, end: number): void {
    let count = 0;
    for (let at = start; at < end; at++) if (bytes[at]! < 0x80) count++;
    this.reserve(count);
    const out = this.values;
    let n = this.length;
    let at = start;
    while (at < end) {
      let b = bytes[at++]!;
      let v = b & 0x7f;
      let shift = 7;
      while (b >= 0x80) {
        if (at >= end) throw fail('a packed varint runs past its field');
        b = bytes[at++]!;
        // Past 31 bits the value is no int32 index (a negative int64 is 10 bytes): -1 marks it.
        if (shift >= 28 && (shift > 28 || b > 0x07)) v = -1;
        else if (v >= 0) v |= (b & 0x7f) << shift;
        shift += 7;
        if (shift > 70) throw fail('a varint is longer than 10 bytes');
      }
      out[n++] = v;
    }
    this.length = n;
  }
  toArray(): Int32Array {
    return this.values.subarray(0, this.length);
  }
}

/** A growable float32 list. */
class FloatList {
  values = new Float32Array(16);
  length = 0;
  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
  toArray(): Float32Array {
    return this.values.subarray(0, this.length);
  }
}

/** Numbers of a list attribute or tensor. */
type Values = Int32Array | Float32Array | Uint8Array;

interface Tensor {
  name: string;
  dataType: number;
  dims: number[];
  values: Values;
}

const FLOAT = 1;
const UINT8 = 2;

function readTensor(r: Reader): Tensor {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  const floats = new FloatList();
  const int32s = new IntList();
  let raw: Uint8Array | null = null;
  r.fields((field, wire) => {
    if (field === 1 && wire === 0) dims.push(r.varint());
    else if (field === 1 && wire === 2) {
      const s = r.sub();
      while (s.at < s.end) dims.push(s.varint());
    } else if (field === 2 && wire === 0) dataType = r.varint();
    else if (field === 4) readFloats(r, wire, floats);
    else if (field === 5) readInts(r, wire, int32s);
    else if (field === 8 && wire === 2) name = r.string();
    else if (field === 9 && wire === 2) {
      const [start, end] = r.span();
      raw = r.bytes.subarray(start, end);
    } else r.skip(wire);
  });
  let values: Values;
  const rawBytes = raw as Uint8Array | null;
  if (rawBytes) {
    if (dataType === FLOAT) {
      if (rawBytes.length % 4 !== 0)
        throw fail(`tensor "${name}": raw float data of ${rawBytes.length} bytes`);
      if (LITTLE_ENDIAN) {
        // Copied into an aligned buffer (a Buffer's slice would be a view of the same bytes).
        values = new Float32Array(rawBytes.length / 4);
        new Uint8Array(values.buffer).set(rawBytes);
      } else {
        const view = new DataView(rawBytes.buffer, rawBytes.byteOffset, rawBytes.byteLength);
        values = Float32Array.from({ length: rawBytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
      }
    } else if (dataType === UINT8) values = rawBytes;
    else throw fail(`tensor "${name}": data type ${dataType} is not read`);
  } else if (dataType === FLOAT) values = floats.toArray();
  else if (dataType === UINT8) values = int32s.toArray();
  else throw fail(`tensor "${name}": data type ${dataType} is not read`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count)
    throw fail(`tensor "${name}" holds ${values.length} values for dims [${dims}]`);
  return { name, dataType, dims, values };
}

function readInts(r: Reader, wire: number, into: IntList): void {
  if (wire === 0) into.push(r.varint());
  else if (wire === 2) {
    const [start, end] = r.span();
    into.pushPacked(r.bytes, start, end);
  } else r.skip(wire);
}

function readFloats(r: Reader, wire: number, into: FloatList): void {
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  if (wire === 5) {
    if (r.at + 4 > r.end) throw fail('a float runs past its message');
    into.push(view.getFloat32(r.at, true));
    r.at += 4;
  } else if (wire === 2) {
    const [start, end] = r.span();
    if ((end - start) % 4 !== 0) throw fail('a packed float list is not whole floats');
    for (let at = start; at < end; at += 4) into.push(view.getFloat32(at, true));
  } else r.skip(wire);
}

/** An attribute: its name and whichever of int, ints, floats or tensor it holds. */
interface Attribute {
  name: string;
  i?: number;
  ints?: Int32Array;
  tensor?: Tensor;
}

function readAttribute(r: Reader): Attribute {
  let name = '';
  let i: number | undefined;
  let tensor: Tensor | undefined;
  const ints = new IntList();
  const floats = new FloatList();
  r.fields((field, wire) => {
    if (field === 1 && wire === 2) name = r.string();
    else if (field === 3 && wire === 0) i = r.varint();
    else if (field === 5 && wire === 2) tensor = readTensor(r.sub());
    else if (field === 7) readFloats(r, wire, floats);
    else if (field === 8) readInts(r, wire, ints);
    else r.skip(wire);
  });
  return {
    name,
    ...(i !== undefined ? { i } : {}),
    ...(ints.length > 0 ? { ints: ints.toArray() } : {}),
    ...(tensor ? { tensor } : {}),
  };
}

interface GraphNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
}

function readNode(r: Reader): GraphNode {
  const node: GraphNode = { opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  r.fields((field, wire) => {
    if (wire !== 2) r.skip(wire);
    else if (field === 1) node.inputs.push(r.string());
    else if (field === 2) node.outputs.push(r.string());
    else if (field === 4) node.opType = r.string();
    else if (field === 7) node.domain = r.string();
    else if (field === 5) {
      const a = readAttribute(r.sub());
      node.attributes.set(a.name, a);
    } else r.skip(wire);
  });
  return node;
}

/** The first name of each `ValueInfoProto` of a graph's input or output list. */
function readValueName(r: Reader): string {
  let name = '';
  r.fields((field, wire) => {
    if (field === 1 && wire === 2) name = r.string();
    else r.skip(wire);
  });
  return name;
}

interface Graph {
  nodes: GraphNode[];
  initializers: Map<string, Tensor>;
  inputs: string[];
  outputs: string[];
}

function readGraph(bytes: Uint8Array): Graph {
  const model = new Reader(bytes, 0, bytes.length);
  let graph: Graph | null = null;
  model.fields((field, wire) => {
    if (field !== 7 || wire !== 2) return model.skip(wire);
    const g: Graph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
    const r = model.sub();
    r.fields((f, w) => {
      if (w !== 2) r.skip(w);
      else if (f === 1) g.nodes.push(readNode(r.sub()));
      else if (f === 5) {
        const t = readTensor(r.sub());
        g.initializers.set(t.name, t);
      } else if (f === 11) g.inputs.push(readValueName(r.sub()));
      else if (f === 12) g.outputs.push(readValueName(r.sub()));
      else r.skip(w);
    });
    graph = g;
  });
  if (!graph) throw fail('the model has no graph');
  return graph;
}

/** The list attribute `name` of `node`: `length` int32 indices in `[0, limit)`. */
function indices(node: GraphNode, name: string, length: number, limit: number): Int32Array | Uint8Array {
  const a = node.attributes.get(name);
  const values = a?.ints ?? a?.tensor?.values;
  if (!values) {
    if (length === 0) return new Int32Array(0);
    throw fail(`TreeEnsemble has no ${name}`);
  }
  if (values instanceof Float32Array) throw fail(`TreeEnsemble's ${name} is not a list of integers`);
  if (values.length !== length)
    throw fail(`TreeEnsemble's ${name} holds ${values.length} values, not ${length}`);
  for (let i = 0; i < length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= limit) throw fail(`TreeEnsemble's ${name}[${i}] is ${v}`);
  }
  return values;
}

function numbers(node: GraphNode, name: string): Values {
  const a = node.attributes.get(name);
  const values = a?.tensor?.values ?? a?.ints;
  if (!values) throw fail(`TreeEnsemble has no ${name}`);
  return values;
}

/** Evaluates a `TreeEnsemble` node on float32 rows: `[nRows, n_targets]` scores. */
function evaluateTreeEnsemble(
  node: GraphNode,
  x: Float32Array,
  nRows: number,
  nFeatures: number,
): Float64Array {
  const int = (name: string): number => {
    const v = node.attributes.get(name)?.i;
    if (v === undefined) throw fail(`TreeEnsemble has no ${name}`);
    return v;
  };
  const nTargets = int('n_targets');
  const aggregate = node.attributes.get('aggregate_function')?.i ?? 1; // SUM by default
  if (node.attributes.get('post_transform')?.i ?? 0) throw fail('a post_transform is not read');
  if (node.attributes.has('membership_values')) throw fail('membership_values are not read');
  const splits = numbers(node, 'nodes_splits');
  const nBranches = splits.length;
  const weights = numbers(node, 'leaf_weights');
  const nLeaves = weights.length;
  // BRANCH_LEQ (0) or BRANCH_LT (1), one for every branch: the modes modelreg writes.
  const modes = indices(node, 'nodes_modes', nBranches, 2);
  const features = indices(node, 'nodes_featureids', nBranches, nFeatures);
  const trueLeaf = indices(node, 'nodes_trueleafs', nBranches, 2);
  const falseLeaf = indices(node, 'nodes_falseleafs', nBranches, 2);
  const trueIds = indices(node, 'nodes_truenodeids', nBranches, Math.max(nBranches, nLeaves));
  const falseIds = indices(node, 'nodes_falsenodeids', nBranches, Math.max(nBranches, nLeaves));
  const missing = node.attributes.has('nodes_missing_value_tracks_true')
    ? indices(node, 'nodes_missing_value_tracks_true', nBranches, 2)
    : null;
  const targets = indices(node, 'leaf_targetids', nLeaves, nTargets);
  const rootList = node.attributes.get('tree_roots')?.ints;
  if (!rootList || rootList.length === 0) throw fail('TreeEnsemble has no tree_roots');
  const roots = indices(node, 'tree_roots', rootList.length, nBranches);
  const { next, uniform } = linkBranches(
    { trueLeaf, falseLeaf, trueIds, falseIds, modes },
    nBranches,
    nLeaves,
  );
  if (uniform < 0) throw fail('nodes_modes mixes BRANCH_LEQ and BRANCH_LT');
  checkTrees(next, nBranches, roots);
  const out = new Float64Array(nRows * nTargets).fill(
    aggregate === 2 ? Infinity : aggregate === 3 ? -Infinity : 0,
  );
  const leaves = new Int32Array(nRows);
  const tree: Walk = { next, features, splits, missing, strict: uniform === 1 };
  // Tree by tree, every row through it: one tree's nodes stay in the cache for all the rows (row by
  // row, each tree's walk missed the cache on a large forest: 4,096 rows of a 13M-node forest took
  // 1.05 s instead of 0.25 s).
  for (let t = 0; t < roots.length; t++) {
    walkTree(tree, roots[t]!, x, nRows, nFeatures, leaves);
    addLeafValues(out, leaves, targets, weights, nTargets, aggregate);
  }
  if (aggregate === 0) divideAll(out, roots.length);
  return out;
}

/**
 * Each branch's two successors, `next[2b]` on the true side and `next[2b + 1]` on the false side: a
 * branch's index, or a leaf's as `~leaf` (negative). `uniform` is the mode of every branch, or -1 when
 * they differ. (This loop and the evaluation's others are functions of their own: inside
 * `evaluateTreeEnsemble`, which runs once per check, they were compiled again at most checks.)
 */
function linkBranches(
  {
    trueLeaf,
    falseLeaf,
    trueIds,
    falseIds,
    modes,
  }: Record<'trueLeaf' | 'falseLeaf' | 'trueIds' | 'falseIds' | 'modes', Values>,
  nBranches: number,
  nLeaves: number,
): { next: Int32Array; uniform: number } {
  const next = new Int32Array(2 * nBranches);
  let uniform = nBranches > 0 ? modes[0]! : 0;
  for (let b = 0; b < nBranches; b++) {
    if (
      (trueLeaf[b] ? trueIds[b]! >= nLeaves : trueIds[b]! >= nBranches) ||
      (falseLeaf[b] ? falseIds[b]! >= nLeaves : falseIds[b]! >= nBranches)
    ) {
      throw fail(`TreeEnsemble's node ${b} points past its list`);
    }
    next[2 * b] = trueLeaf[b] ? ~trueIds[b]! : trueIds[b]!;
    next[2 * b + 1] = falseLeaf[b] ? ~falseIds[b]! : falseIds[b]!;
    if (modes[b] !== uniform) uniform = -1;
  }
  return { next, uniform };
}

/** Adds (or takes the min or max of, by `aggregate`) each row's leaf weight (`~leaves[r]`) into its target's score. */
function addLeafValues(
  out: Float64Array,
  leaves: Int32Array,
  targets: Values,
  weights: Values,
  nTargets: number,
  aggregate: number,
): void {
  for (let r = 0; r < leaves.length; r++) {
    const leaf = ~leaves[r]!;
    const at = r * nTargets + targets[leaf]!;
    const w = weights[leaf]!;
    out[at] =
      aggregate === 2 ? Math.min(out[at]!, w) : aggregate === 3 ? Math.max(out[at]!, w) : out[at]! + w;
  }
}

function divideAll(values: Float64Array, by: number): void {
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / by;
}

/**
 * `INTEGRITY` when a branch is reached twice (a cycle, two paths to one node, or a node of two trees):
 * a walk might never end, and it is no ensemble modelreg writes.
 */
function checkTrees(next: Int32Array, nBranches: number, roots: Int32Array | Uint8Array): void {
  const seen = new Uint8Array(nBranches);
  // Branches still to visit, depth first: about one per level of the tree.
  let stack = new Int32Array(64);
  for (let t = 0; t < roots.length; t++) {
    stack[0] = roots[t]!;
    let top = 1;
    while (top > 0) {
      const b = stack[--top]!;
      if (seen[b]) throw fail(`tree ${t} of TreeEnsemble reaches its node ${b} twice`);
      seen[b] = 1;
      if (top + 2 > stack.length) {
        const grown = new Int32Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      const onTrue = next[2 * b]!;
      const onFalse = next[2 * b + 1]!;
      if (onTrue >= 0) stack[top++] = onTrue;
      if (onFalse >= 0) stack[top++] = onFalse;
    }
  }
}

/** A TreeEnsemble's branches as {@link walkTree} walks them. */
interface Walk {
  next: Int32Array;
  features: Values;
  splits: Values;
  /** 1 where a missing value (NaN) takes the true side; `null` when none does. */
  missing: Values | null;
  /** Every branch compares with `BRANCH_LT`; else every one with `BRANCH_LEQ`. */
  strict: boolean;
}

/**
 * One tree (from `root`) on every row, its leaf for each row into `leaves` (as `~leaf`). Eight rows
 * at once, each lane stepping until it reaches its leaf, with a branch-free choice of side, so the
 * CPU overlaps the lanes' independent loads: a whole file of a 20-tree depth-12 forest is read and
 * run on 4,096 rows in about 10 ms, against 15.6 ms one row at a time.
 */
function walkTree(
  w: Walk,
  root: number,
  x: Float32Array,
  nRows: number,
  F: number,
  leaves: Int32Array,
): void {
  const { next, features } = w;
  let r = 0;
  for (; r + 8 <= nRows; r += 8) {
    const o = r * F;
    let a = root;
    let b = root;
    let c = root;
    let d = root;
    let e = root;
    let f = root;
    let g = root;
    let h = root;
    // Until every lane is at a leaf (negative): the AND of negative numbers is negative.
    while ((a & b & c & d & e & f & g & h) >= 0) {
      if (a >= 0) a = next[2 * a + side(w, a, x[o + features[a]!]!)]!;
      if (b >= 0) b = next[2 * b + side(w, b, x[o + F + features[b]!]!)]!;
      if (c >= 0) c = next[2 * c + side(w, c, x[o + 2 * F + features[c]!]!)]!;
      if (d >= 0) d = next[2 * d + side(w, d, x[o + 3 * F + features[d]!]!)]!;
      if (e >= 0) e = next[2 * e + side(w, e, x[o + 4 * F + features[e]!]!)]!;
      if (f >= 0) f = next[2 * f + side(w, f, x[o + 5 * F + features[f]!]!)]!;
      if (g >= 0) g = next[2 * g + side(w, g, x[o + 6 * F + features[g]!]!)]!;
      if (h >= 0) h = next[2 * h + side(w, h, x[o + 7 * F + features[h]!]!)]!;
    }
    leaves[r] = a;
    leaves[r + 1] = b;
    leaves[r + 2] = c;
    leaves[r + 3] = d;
    leaves[r + 4] = e;
    leaves[r + 5] = f;
    leaves[r + 6] = g;
    leaves[r + 7] = h;
  }
  for (; r < nRows; r++) {
    const o = r * F;
    let a = root;
    while (a >= 0) a = next[2 * a + side(w, a, x[o + features[a]!]!)]!;
    leaves[r] = a;
  }
}

/** 0 for the true side of `branch` at `v`, 1 for the false side (see {@link walkTree}). */
function side({ splits, missing, strict }: Walk, branch: number, v: number): number {
  if (v !== v) return missing !== null && missing[branch] === 1 ? 0 : 1;
  const t = splits[branch]!;
  return +(strict ? v >= t : v > t);
}

/**
 * Reads an ONNX file of a regression with the `TreeEnsemble` operator and evaluates it on float32
 * rows (`x`, `nRows × nFeatures`): the graph's first output, row-major. `INTEGRITY` for a file it
 * cannot read (another graph, a malformed message, an index out of range).
 */
export function evaluateTreeEnsembleFile(
  bytes: Uint8Array,
  x: Float32Array,
  nRows: number,
  nFeatures: number,
): Float64Array {
  const graph = readGraph(bytes);
  const values = new Map<string, { data: Float64Array; width: number }>();
  const [input] = graph.inputs;
  if (input === undefined) throw fail('the graph has no input');
  for (const node of graph.nodes) {
    if (node.opType === 'TreeEnsemble' && node.domain === 'ai.onnx.ml') {
      if (node.inputs[0] !== input || node.outputs.length !== 1)
        throw fail('TreeEnsemble is not on the input');
      const width = node.attributes.get('n_targets')?.i ?? 0;
      values.set(node.outputs[0]!, { data: evaluateTreeEnsemble(node, x, nRows, nFeatures), width });
    } else if (node.opType === 'Add' && node.domain === '' && node.inputs.length === 2) {
      const left = values.get(node.inputs[0]!);
      const right = graph.initializers.get(node.inputs[1]!);
      if (!left || !right || right.values.length !== left.width)
        throw fail('Add is not of scores and a base');
      const data = left.data.map((v, i) => v + right.values[i % left.width]!);
      values.set(node.outputs[0]!, { data, width: left.width });
    } else throw fail(`the node ${node.opType} is not read`);
  }
  const out = values.get(graph.outputs[0] ?? '');
  if (!out) throw fail('the graph output is not computed by its nodes');
  return out.data;
}
