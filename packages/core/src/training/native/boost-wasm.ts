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
import {
  I32,
  F64,
  V128,
  uleb,
  get,
  set,
  i32,
  f64,
  ADD,
  SUB,
  MUL,
  AND,
  OR,
  XOR,
  SHL,
  SHR_S,
  SHR_U,
  EQ,
  I32_GE_S,
  LE_U,
  GE_U,
  F64_ADD,
  F64_SUB,
  F64_MUL,
  F64_DIV,
  F64_NE,
  F64_GT,
  F64_GE,
  F64_FROM_I32,
  SELECT,
  LOAD32,
  LOAD8_U,
  STORE32,
  F64_LOAD,
  F64_STORE,
  f64Store,
  MEMORY_COPY,
  V128_LOAD,
  V128_STORE,
  V128_ZERO,
  F64X2_ADD,
  F64X2_SUB,
  BLOCK,
  LOOP,
  IF,
  END,
  moduleBytes,
  wasmApi,
} from './wasm-asm.js';
import { kernelModuleBytes } from './wasm-kernel.js';
import type { Kernel } from './wasm-kernel.js';

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

/** The module's bytes: imports `env.mem`, exports `partition`, `leaves`, `sums`, `subtract` and `scan`. */
export function rowsModuleBytes(): Uint8Array {
  return moduleBytes([
    { name: 'partition', params: Array<number>(8).fill(I32), results: [I32], body: partitionBody() },
    { name: 'leaves', params: [...Array<number>(9).fill(I32), F64, F64], results: [], body: leavesBody() },
    { name: 'sums', params: Array<number>(5).fill(I32), results: [], body: sumsBody() },
    { name: 'subtract', params: [I32, I32, I32], results: [], body: subtractBody() },
    { name: 'scan', params: [I32, I32, ...Array<number>(6).fill(F64), I32], results: [], body: scanBody() },
  ]);
}

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
