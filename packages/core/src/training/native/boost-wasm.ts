// The row partition of gradient boosting and its last-level leaf update as WebAssembly functions, in
// the memory shared with the histogram kernel (wasm-kernel.ts), assembled here like that kernel. In
// JavaScript these cost about as much as the histograms (bounds checks on three arrays per row). In
// text form:
//
//   (func (export "partition") (param $idx $tmp $a $b $col $bin $mb $ml i32) (result i32)
//     ;; for i in a..b: r = idx[i]; c = col[r] (u8); left = c <= bin | (c == mb & ml)
//     ;;   idx[l] = r; tmp[k] = r; l += left; k += 1 - left
//     ;; copy tmp[0..k) to idx[l..); return l
//   (func (export "leaves") (param $idx $a $b $col $bin $mb $ml $pred $ps i32) (param $vr $vl f64)
//     ;; for i in a..b: r = idx[i]; c = col[r]; pred[r * ps] += left(c) ? vl : vr
//   (func (export "sums") (param $idx $gh $a $b $out i32)
//     ;; s = (0, 0); for i in a..b: s += gh[idx[i]] (f64x2: gradient, hessian); out = s
//   (func (export "subtract") (param $h $hs $bytes i32)
//     ;; h[0..bytes) -= hs[0..bytes), as f64x2
//   (func (export "scan") (param $h $nr i32) (param $G $H $lambda $ps $minH $best f64) (param $out i32)
//     ;; scanGradPlain (boost-kernel.ts) over the f64x2 bins h[0..nr): out = [gain, bin (-1: none
//     ;; beat best), gl, hl], the same operations in the same order, so the same bits
//
// `idx`, `tmp`, `col` and `pred` are byte offsets into the memory (`pred` at the score column, `ps`
// the bytes between rows' scores), `a, b` and the result are indices of `idx`. They are
// `partitionBoost` and `addSplitLeaves` (boost-kernel.ts), row for row; `sums` adds in the order of
// growBoostTree's loop, so the node's totals are the same bits.
import { kernelModuleBytes } from './wasm-kernel.js';
import type { Kernel } from './wasm-kernel.js';

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
// One byte of signed LEB128: constants in -64..63.
const i32 = (v: number): number[] => [0x41, v & 0x7f];
const ADD = [0x6a];
const SUB = [0x6b];
const AND = [0x71];
const OR = [0x72];
const XOR = [0x73];
const SHL = [0x74];
const SHR_U = [0x76];
const MUL = [0x6c];
const EQ = [0x46];
const LE_U = [0x4d];
const GE_U = [0x4f];
const LOAD32 = [0x28, 2, 0];
const LOAD8_U = [0x2d, 0, 0];
const STORE32 = [0x36, 2, 0];
const MEMORY_COPY = [0xfc, 10, 0, 0];
const F64_LOAD = [0x2b, 3, 0];
const F64_STORE = [0x39, 3, 0];
const F64_ADD = [0xa0];
const SELECT = [0x1b];
const V128_LOAD = [0xfd, 0x00, 4, 0];
const V128_STORE = [0xfd, 0x0b, 4, 0];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const F64X2_ADD = [0xfd, ...uleb(0xf0)];
const F64X2_SUB = [0xfd, ...uleb(0xf1)];
const F64_SUB = [0xa1];
const F64_MUL = [0xa2];
const F64_DIV = [0xa3];
const F64_NE = [0x62];
const F64_GT = [0x64];
const F64_GE = [0x66];
const I32_GE_S = [0x4e];
const SHR_S = [0x75];
const F64_FROM_I32 = [0xb7];
const IF = [0x04, 0x40];
const f64 = (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
const f64Store = (offset: number): number[] => [0x39, 3, offset];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = [0x0b];

// partition's params and locals.
const IDX = 0;
const TMP = 1;
const A = 2;
const B = 3;
const COL = 4;
const BIN = 5;
const MB = 6;
const ML = 7;
const I = 8;
const IEND = 9;
const L = 10;
const K = 11;
const R = 12;
const C = 13;
const GO = 14;

function partitionBody(): number[] {
  const code = [
    ...get(IDX),
    ...get(A),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(I),
    ...get(IDX),
    ...get(B),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(IEND),
    ...get(I),
    ...set(L),
    ...get(TMP),
    ...set(K),
    ...BLOCK,
    ...LOOP,
    ...get(I),
    ...get(IEND),
    ...GE_U,
    0x0d,
    1,
    ...get(I),
    ...LOAD32,
    ...set(R),
    ...get(COL),
    ...get(R),
    ...ADD,
    ...LOAD8_U,
    ...set(C),
    ...get(C),
    ...get(BIN),
    ...LE_U,
    ...get(C),
    ...get(MB),
    ...EQ,
    ...get(ML),
    ...AND,
    ...OR,
    ...set(GO),
    ...get(L),
    ...get(R),
    ...STORE32,
    ...get(K),
    ...get(R),
    ...STORE32,
    ...get(L),
    ...get(GO),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(L),
    ...get(K),
    ...get(GO),
    ...i32(1),
    ...XOR,
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(K),
    ...get(I),
    ...i32(4),
    ...ADD,
    ...set(I),
    0x0c,
    0,
    ...END,
    ...END,
    ...get(L),
    ...get(TMP),
    ...get(K),
    ...get(TMP),
    ...SUB,
    ...MEMORY_COPY,
    ...get(L),
    ...get(IDX),
    ...SUB,
    ...i32(2),
    ...SHR_U,
    ...END,
  ];
  // Locals after the 8 params: i, iend, l, k, r, c, go.
  const body = [1, 7, I32, ...code];
  return [...uleb(body.length), ...body];
}

// leaves' params and locals.
const LV = {
  IDX: 0,
  A: 1,
  B: 2,
  COL: 3,
  BIN: 4,
  MB: 5,
  ML: 6,
  PRED: 7,
  PS: 8,
  VR: 9,
  VL: 10,
  I: 11,
  IEND: 12,
  R: 13,
  C: 14,
  AT: 15,
};

function leavesBody(): number[] {
  const code = [
    ...get(LV.IDX),
    ...get(LV.A),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(LV.I),
    ...get(LV.IDX),
    ...get(LV.B),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(LV.IEND),
    ...BLOCK,
    ...LOOP,
    ...get(LV.I),
    ...get(LV.IEND),
    ...GE_U,
    0x0d,
    1,
    ...get(LV.I),
    ...LOAD32,
    ...set(LV.R),
    ...get(LV.COL),
    ...get(LV.R),
    ...ADD,
    ...LOAD8_U,
    ...set(LV.C),
    ...get(LV.PRED),
    ...get(LV.R),
    ...get(LV.PS),
    ...MUL,
    ...ADD,
    ...set(LV.AT),
    ...get(LV.AT),
    ...get(LV.AT),
    ...F64_LOAD,
    ...get(LV.VL),
    ...get(LV.VR),
    ...get(LV.C),
    ...get(LV.BIN),
    ...LE_U,
    ...get(LV.C),
    ...get(LV.MB),
    ...EQ,
    ...get(LV.ML),
    ...AND,
    ...OR,
    ...SELECT,
    ...F64_ADD,
    ...F64_STORE,
    ...get(LV.I),
    ...i32(4),
    ...ADD,
    ...set(LV.I),
    0x0c,
    0,
    ...END,
    ...END,
    ...END,
  ];
  // Locals after the 11 params: i, iend, r, c, at.
  const body = [1, 5, I32, ...code];
  return [...uleb(body.length), ...body];
}

// sums' params and locals.
const SM = { IDX: 0, GH: 1, A: 2, B: 3, OUT: 4, I: 5, IEND: 6, S: 7 };

function sumsBody(): number[] {
  const code = [
    ...get(SM.IDX),
    ...get(SM.A),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(SM.I),
    ...get(SM.IDX),
    ...get(SM.B),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(SM.IEND),
    ...V128_ZERO,
    ...set(SM.S),
    ...BLOCK,
    ...LOOP,
    ...get(SM.I),
    ...get(SM.IEND),
    ...GE_U,
    0x0d,
    1,
    ...get(SM.S),
    ...get(SM.GH),
    ...get(SM.I),
    ...LOAD32,
    ...i32(4),
    ...SHL,
    ...ADD,
    ...V128_LOAD,
    ...F64X2_ADD,
    ...set(SM.S),
    ...get(SM.I),
    ...i32(4),
    ...ADD,
    ...set(SM.I),
    0x0c,
    0,
    ...END,
    ...END,
    ...get(SM.OUT),
    ...get(SM.S),
    ...V128_STORE,
    ...END,
  ];
  // Locals after the 5 params: i, iend (i32) and s (v128).
  const body = [2, 2, I32, 1, V128, ...code];
  return [...uleb(body.length), ...body];
}

// subtract's params and locals.
const SB = { H: 0, HS: 1, BYTES: 2, O: 3, AT: 4 };

function subtractBody(): number[] {
  const code = [
    ...BLOCK,
    ...LOOP,
    ...get(SB.O),
    ...get(SB.BYTES),
    ...GE_U,
    0x0d,
    1,
    ...get(SB.H),
    ...get(SB.O),
    ...ADD,
    ...set(SB.AT),
    ...get(SB.AT),
    ...get(SB.AT),
    ...V128_LOAD,
    ...get(SB.HS),
    ...get(SB.O),
    ...ADD,
    ...V128_LOAD,
    ...F64X2_SUB,
    ...V128_STORE,
    ...get(SB.O),
    ...i32(16),
    ...ADD,
    ...set(SB.O),
    0x0c,
    0,
    ...END,
    ...END,
    ...END,
  ];
  // Locals after the 3 params: o (from 0), at.
  const body = [1, 2, I32, ...code];
  return [...uleb(body.length), ...body];
}

// scan's params and locals.
const SC = {
  H: 0,
  NR: 1,
  G: 2,
  HH: 3,
  LAMBDA: 4,
  PS: 5,
  MINH: 6,
  BEST: 7,
  OUT: 8,
  O: 9,
  END: 10,
  PREV: 11,
  BIN: 12,
  GL: 13,
  HL: 14,
  HB: 15,
  HR: 16,
  GR: 17,
  GAIN: 18,
  BGL: 19,
  BHL: 20,
};

function scanBody(): number[] {
  const code = [
    ...get(SC.H),
    ...get(SC.NR),
    ...i32(4),
    ...SHL,
    ...ADD,
    ...set(SC.END),
    ...get(SC.H),
    ...set(SC.O),
    ...i32(-1),
    ...set(SC.PREV),
    ...i32(-1),
    ...set(SC.BIN),
    ...BLOCK,
    ...LOOP,
    ...get(SC.O),
    ...get(SC.END),
    ...GE_U,
    0x0d,
    1,
    ...get(SC.O),
    0x2b,
    3,
    8,
    ...set(SC.HB),
    ...get(SC.HB),
    ...f64(0),
    ...F64_NE,
    ...IF,
    // hr = H - hl
    ...get(SC.HH),
    ...get(SC.HL),
    ...F64_SUB,
    ...set(SC.HR),
    ...get(SC.PREV),
    ...i32(0),
    ...I32_GE_S,
    ...get(SC.HL),
    ...get(SC.MINH),
    ...F64_GE,
    ...AND,
    ...get(SC.HR),
    ...get(SC.MINH),
    ...F64_GE,
    ...AND,
    ...IF,
    ...get(SC.G),
    ...get(SC.GL),
    ...F64_SUB,
    ...set(SC.GR),
    // gain = 0.5 * ((gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - ps)
    ...f64(0.5),
    ...get(SC.GL),
    ...get(SC.GL),
    ...F64_MUL,
    ...get(SC.HL),
    ...get(SC.LAMBDA),
    0xa0,
    ...F64_DIV,
    ...get(SC.GR),
    ...get(SC.GR),
    ...F64_MUL,
    ...get(SC.HR),
    ...get(SC.LAMBDA),
    0xa0,
    ...F64_DIV,
    0xa0,
    ...get(SC.PS),
    ...F64_SUB,
    ...F64_MUL,
    ...set(SC.GAIN),
    ...get(SC.GAIN),
    ...get(SC.BEST),
    ...F64_GT,
    ...IF,
    ...get(SC.GAIN),
    ...set(SC.BEST),
    ...get(SC.PREV),
    ...set(SC.BIN),
    ...get(SC.GL),
    ...set(SC.BGL),
    ...get(SC.HL),
    ...set(SC.BHL),
    ...END,
    ...END,
    ...get(SC.GL),
    ...get(SC.O),
    ...F64_LOAD,
    0xa0,
    ...set(SC.GL),
    ...get(SC.HL),
    ...get(SC.HB),
    0xa0,
    ...set(SC.HL),
    ...get(SC.O),
    ...get(SC.H),
    ...SUB,
    ...i32(4),
    ...SHR_S,
    ...set(SC.PREV),
    ...END,
    ...get(SC.O),
    ...i32(16),
    ...ADD,
    ...set(SC.O),
    0x0c,
    0,
    ...END,
    ...END,
    ...get(SC.OUT),
    ...get(SC.BEST),
    ...f64Store(0),
    ...get(SC.OUT),
    ...get(SC.BIN),
    ...F64_FROM_I32,
    ...f64Store(8),
    ...get(SC.OUT),
    ...get(SC.BGL),
    ...f64Store(16),
    ...get(SC.OUT),
    ...get(SC.BHL),
    ...f64Store(24),
    ...END,
  ];
  // Locals after the 9 params: o, end, prev, bin (i32); gl, hl, hb, hr, gr, gain, bgl, bhl (f64).
  const body = [2, 4, I32, 8, F64, ...code];
  return [...uleb(body.length), ...body];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

const FUNCTIONS = ['partition', 'leaves', 'sums', 'subtract', 'scan'];

/** The module's bytes: imports `env.mem`, exports {@link FUNCTIONS}. */
export function rowsModuleBytes(): Uint8Array {
  const partitionType = [0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 1, I32];
  const leavesType = [0x60, 11, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, 0];
  const sumsType = [0x60, 5, I32, I32, I32, I32, I32, 0];
  const subtractType = [0x60, 3, I32, I32, I32, 0];
  const scanType = [0x60, 9, I32, I32, F64, F64, F64, F64, F64, F64, I32, 0];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [5, ...partitionType, ...leavesType, ...sumsType, ...subtractType, ...scanType]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]),
    ...section(3, [5, 0, 1, 2, 3, 4]),
    ...section(7, [FUNCTIONS.length, ...FUNCTIONS.flatMap((f, i) => [...name(f), 0x00, i])]),
    ...section(10, [5, ...partitionBody(), ...leavesBody(), ...sumsBody(), ...subtractBody(), ...scanBody()]),
  ]);
}

/** The part of the WebAssembly API used here (Node has it; the project's TypeScript lib does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: { build: object; rows: object } | null | undefined;

function modules(): { build: object; rows: object } | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi
        ? {
            build: new wasmApi.Module(kernelModuleBytes()),
            rows: new wasmApi.Module(rowsModuleBytes()),
          }
        : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The histogram kernel and the row functions on one memory. */
export interface BoostKernel {
  /** At least the bytes asked for, zeroed. */
  buffer: ArrayBuffer;
  build: Kernel['build'];
  /** `partition(idx, tmp, a, b, col, bin, mb, missingLeft)`: see above; answers the boundary. */
  partition: (
    idx: number,
    tmp: number,
    a: number,
    b: number,
    col: number,
    bin: number,
    mb: number,
    missingLeft: number,
  ) => number;
  /** `leaves(idx, a, b, col, bin, mb, missingLeft, pred, ps, vr, vl)`: see above. */
  leaves: (
    idx: number,
    a: number,
    b: number,
    col: number,
    bin: number,
    mb: number,
    missingLeft: number,
    pred: number,
    ps: number,
    vr: number,
    vl: number,
  ) => void;
  /** `sums(idx, gh, a, b, out)`: see above. */
  sums: (idx: number, gh: number, a: number, b: number, out: number) => void;
  /** `subtract(h, hs, bytes)`: see above; `bytes` a multiple of 16. */
  subtract: (h: number, hs: number, bytes: number) => void;
  /** `scan(h, nr, G, H, lambda, parentScore, minH, best, out)`: see above. */
  scan: (
    h: number,
    nr: number,
    G: number,
    H: number,
    lambda: number,
    parentScore: number,
    minH: number,
    best: number,
    out: number,
  ) => void;
}

/** A memory of at least `bytes` bytes and the functions bound to it; null without WebAssembly SIMD or past 2 GiB. */
export function createBoostKernel(bytes: number): BoostKernel | null {
  if (bytes > 2 ** 31) return null;
  const m = modules();
  if (m === null || !wasmApi) return null;
  try {
    const memory = new wasmApi.Memory({ initial: Math.ceil(bytes / 65536) });
    const imports = { env: { mem: memory } };
    const build = new wasmApi.Instance(m.build, imports).exports['build'] as Kernel['build'];
    const rows = new wasmApi.Instance(m.rows, imports).exports;
    return {
      buffer: memory.buffer,
      build,
      partition: rows['partition'] as BoostKernel['partition'],
      leaves: rows['leaves'] as BoostKernel['leaves'],
      sums: rows['sums'] as BoostKernel['sums'],
      subtract: rows['subtract'] as BoostKernel['subtract'],
      scan: rows['scan'] as BoostKernel['scan'],
    };
  } catch {
    return null;
  }
}
