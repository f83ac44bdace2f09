// The histogram kernel of gradient boosting as a WebAssembly function (SIMD: a bin's gradient and
// hessian are added as one f64x2), assembled here from its instructions so that no binary file or
// build tool is involved. In text form:
//
//   (func (export "build") (param $h $words $gh $idx $a $b $nw i32)
//     ;; for i in a..b: p = idx[i]; g = gh[p] (f64x2: gradient, hessian)
//     ;;   for each of the nw words of row p, each of its 4 bins: h[feature][bin] += g
//
// Every address is a byte offset into one memory that the caller creates and fills (typed-array
// views on it): `h` holds 256 f64x2 bins per feature (4 KiB), `words` the row-major bins (`nw` words
// per row), `gh` the gradient pairs, `idx` the u32 row numbers. The adds happen in the same order as
// in `addGradRowsAll`, so the sums are the same bits.
//
// The random forest keeps its rows in node order and moves them at each split:
//
//   (func (export "partition") (param $words $gh $idx $tw $tg $ti $a $b $nw $f $bin i32) (result i32)
//     ;; for i in a..b: row i's nw words, its f64x2 and its u32 go to position l++ when its byte f is
//     ;;   <= bin, else to position k++ of the tw/tg/ti arrays; returns l
//
//   (func (export "mark") (param $words $a $b $nw $mask i32)
//     ;; for the rows a..b (consecutive), each byte (feature f, bin v) of their words: sets bit v of
//     ;;   the 8 words (256 bits) of feature f at mask
//
//   (func (export "sub") (param $h $hs $bytes i32)
//     ;; h[i] -= hs[i] over the first `bytes` bytes, two doubles at a time (f64x2): a larger child's
//     ;;   histogram from its parent's and its sibling's
//
//   (func (export "scan") (param $h $nb $mask i32) (param $W $S f64) (param $out i32)
//     ;; scanReg2 of hist-kernel.ts over one feature's [sum w*y, sum w] bins at h: bins 0..nb, or
//     ;;   (mask >= 0) the bins set in the 8 mask words at mask, clearing them and zeroing each bin;
//     ;;   out: f64 best proxy (in and out), f64 left w, f64 left w*y, i32 bin (-1: not improved),
//     ;;   i32 next bin, i32 varies. The same operations in the same order as scanReg2, so the same bits.

// build's params and locals.
import {
  I32,
  F64,
  V128,
  uleb,
  get,
  set,
  i32,
  F64_ZERO,
  ADD,
  SUB,
  MUL,
  AND,
  OR,
  SHL,
  SHR_U,
  I32_EQZ,
  I32_GE_S,
  LE_U,
  GE_U,
  I32_CTZ,
  F64_ADD,
  F64_SUB,
  F64_MUL,
  F64_DIV,
  F64_NE,
  F64_GT,
  LOAD32,
  LOAD8_U,
  STORE32,
  f64Load,
  f64Store,
  i32Store,
  V128_LOAD,
  V128_STORE,
  F64X2_ADD,
  BLOCK,
  LOOP,
  IF,
  ELSE,
  END,
  br,
  brIf,
  moduleBytes,
  wasmApi,
} from './wasm-asm.js';
const H = 0;
const WORDS = 1;
const GH = 2;
const IDX = 3;
const A = 4;
const B = 5;
const NW = 6;
const P = 7;
const WP = 8;
const WEND = 9;
const BASE = 10;
const V = 11;
const O = 12;
const G = 13;

/** `h[o] += g` (f64x2) for the bin `(v >> shift) & 255` of the feature at `BASE + feature * 4096`. */
function addBin(feature: number, shift: number): number[] {
  // (v >> shift & 255) * 16 = (v >> (shift - 4)) & 0xff0, or (v & 255) << 4 for shift 0.
  const binOffset =
    shift === 0
      ? [...get(V), ...i32(255), ...AND, ...i32(4), ...SHL]
      : [...get(V), ...i32(shift - 4), ...SHR_U, ...i32(0xff0), ...AND];
  return [
    ...get(BASE),
    ...i32(feature * 4096),
    ...ADD,
    ...binOffset,
    ...ADD,
    ...set(O),
    ...get(O),
    ...get(O),
    ...V128_LOAD,
    ...get(G),
    ...F64X2_ADD,
    ...V128_STORE,
  ];
}

function buildBody(): number[] {
  const code = [
    // i = a
    ...get(A),
    ...set(P),
    ...BLOCK,
    ...LOOP,
    ...get(P),
    ...get(B),
    ...GE_U,
    ...brIf(1),
    // row = idx[i]; g = gh[row]; wp = words + row * nw * 4; wend = wp + nw * 4
    ...get(IDX),
    ...get(P),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...LOAD32,
    ...set(V),
    ...get(GH),
    ...get(V),
    ...i32(4),
    ...SHL,
    ...ADD,
    ...V128_LOAD,
    ...set(G),
    ...get(WORDS),
    ...get(V),
    ...get(NW),
    ...MUL,
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(WP),
    ...get(WP),
    ...get(NW),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(WEND),
    ...get(H),
    ...set(BASE),
    ...BLOCK,
    ...LOOP,
    ...get(WP),
    ...get(WEND),
    ...GE_U,
    ...brIf(1),
    ...get(WP),
    ...LOAD32,
    ...set(V),
    ...addBin(0, 0),
    ...addBin(1, 8),
    ...addBin(2, 16),
    ...addBin(3, 24),
    ...get(BASE),
    ...i32(4 * 4096),
    ...ADD,
    ...set(BASE),
    ...get(WP),
    ...i32(4),
    ...ADD,
    ...set(WP),
    ...br(0),
    ...END,
    ...END,
    ...get(P),
    ...i32(1),
    ...ADD,
    ...set(P),
    ...br(0),
    ...END,
    ...END,
    ...END,
  ];
  // Locals after the 7 params: p, wp, wend, base, v, o (i32) and g (v128).
  const locals = [2, 6, I32, 1, V128];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

// partition's params and locals.
const PW = 0;
const PG = 1;
const PI = 2;
const TW = 3;
const TG = 4;
const TI = 5;
const PA = 6;
const PB = 7;
const PNW = 8;
const PF = 9;
const PBIN = 10;
const L = 11;
const K = 12;
const SRC = 13;
const DST = 14;
const J = 15;
const ROWB = 16;

/** Copies `ROWB` bytes (whole words) from `SRC` to `DST`. */
const copyWords = (): number[] => [
  ...i32(0),
  ...set(J),
  ...BLOCK,
  ...LOOP,
  ...get(J),
  ...get(ROWB),
  ...GE_U,
  ...brIf(1),
  ...get(DST),
  ...get(J),
  ...ADD,
  ...get(SRC),
  ...get(J),
  ...ADD,
  ...LOAD32,
  ...STORE32,
  ...get(J),
  ...i32(4),
  ...ADD,
  ...set(J),
  ...br(0),
  ...END,
  ...END,
];

/** Moves row `PA` (the loop's position) to position `pos` of the arrays at `w`, `g`, `ix`. */
function moveRow(w: number, g: number, ix: number, pos: number): number[] {
  return [
    ...get(PA),
    ...get(ROWB),
    ...MUL,
    ...get(PW),
    ...ADD,
    ...set(SRC),
    ...get(pos),
    ...get(ROWB),
    ...MUL,
    ...get(w),
    ...ADD,
    ...set(DST),
    ...copyWords(),
    ...get(g),
    ...get(pos),
    ...i32(4),
    ...SHL,
    ...ADD,
    ...get(PG),
    ...get(PA),
    ...i32(4),
    ...SHL,
    ...ADD,
    ...V128_LOAD,
    ...V128_STORE,
    ...get(ix),
    ...get(pos),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...get(PI),
    ...get(PA),
    ...i32(2),
    ...SHL,
    ...ADD,
    ...LOAD32,
    ...STORE32,
    ...get(pos),
    ...i32(1),
    ...ADD,
    ...set(pos),
  ];
}

function partitionBody(): number[] {
  const code = [
    // l = a; k = 0; rowBytes = nw * 4 (a is the loop's position)
    ...get(PA),
    ...set(L),
    ...i32(0),
    ...set(K),
    ...get(PNW),
    ...i32(2),
    ...SHL,
    ...set(ROWB),
    ...BLOCK,
    ...LOOP,
    ...get(PA),
    ...get(PB),
    ...GE_U,
    ...brIf(1),
    // words[a * rowBytes + f] <= bin
    ...get(PW),
    ...get(PA),
    ...get(ROWB),
    ...MUL,
    ...ADD,
    ...get(PF),
    ...ADD,
    ...LOAD8_U,
    ...get(PBIN),
    ...LE_U,
    ...IF,
    ...moveRow(PW, PG, PI, L),
    ...ELSE,
    ...moveRow(TW, TG, TI, K),
    ...END,
    ...get(PA),
    ...i32(1),
    ...ADD,
    ...set(PA),
    ...br(0),
    ...END,
    ...END,
    ...get(L),
    ...END,
  ];
  // Locals after the 11 params: l, k, src, dst, j, rowBytes (i32).
  const body = [1, 6, I32, ...code];
  return [...uleb(body.length), ...body];
}

function subBody(): number[] {
  // Params h, hs, bytes; local i.
  const [h, hs, bytes, i] = [0, 1, 2, 3];
  const code = [
    ...BLOCK,
    ...LOOP,
    ...get(i),
    ...get(bytes),
    ...GE_U,
    ...brIf(1),
    ...get(h),
    ...get(i),
    ...ADD,
    ...get(h),
    ...get(i),
    ...ADD,
    ...V128_LOAD,
    ...get(hs),
    ...get(i),
    ...ADD,
    ...V128_LOAD,
    0xfd,
    ...uleb(0xf1), // f64x2.sub
    ...V128_STORE,
    ...get(i),
    ...i32(16),
    ...ADD,
    ...set(i),
    ...br(0),
    ...END,
    ...END,
    ...END,
  ];
  const body = [1, 1, I32, ...code];
  return [...uleb(body.length), ...body];
}

// mark's params and locals.
const MW = 0;
const MA = 1;
const MB = 2;
const MNW = 3;
const MMASK = 4;
const MP = 5;
const MEND = 6;
const MBASE = 7;
const MV = 8;
const MBIN = 9;
const MADDR = 10;

/** Sets the bit of byte `k` of word `MV` in the mask words of feature `MBASE + k * 32`. */
function markByte(k: number): number[] {
  const bin = k === 0 ? [...get(MV)] : [...get(MV), ...i32(8 * k), ...SHR_U];
  return [
    ...bin,
    ...i32(255),
    ...AND,
    ...set(MBIN),
    ...get(MBASE),
    ...i32(k * 32),
    ...ADD,
    ...get(MBIN),
    ...i32(5),
    ...SHR_U,
    ...i32(2),
    ...SHL,
    ...ADD,
    ...set(MADDR),
    ...get(MADDR),
    ...get(MADDR),
    ...LOAD32,
    ...i32(1),
    ...get(MBIN),
    ...SHL,
    ...OR,
    ...STORE32,
  ];
}

function markBody(): number[] {
  const rowBytes = [...get(MNW), ...i32(2), ...SHL];
  const code = [
    // p = words + a * rowBytes; end = words + b * rowBytes
    ...get(MW),
    ...get(MA),
    ...rowBytes,
    ...MUL,
    ...ADD,
    ...set(MP),
    ...get(MW),
    ...get(MB),
    ...rowBytes,
    ...MUL,
    ...ADD,
    ...set(MEND),
    ...BLOCK,
    ...LOOP,
    ...get(MP),
    ...get(MEND),
    ...GE_U,
    ...brIf(1),
    // A row: its words hold features 0-3, 4-7, ... (128 bytes of mask per word).
    ...get(MMASK),
    ...set(MBASE),
    ...get(MP),
    ...rowBytes,
    ...ADD,
    ...set(MADDR),
    ...get(MADDR),
    ...set(MB),
    ...BLOCK,
    ...LOOP,
    ...get(MP),
    ...get(MB),
    ...GE_U,
    ...brIf(1),
    ...get(MP),
    ...LOAD32,
    ...set(MV),
    ...markByte(0),
    ...markByte(1),
    ...markByte(2),
    ...markByte(3),
    ...get(MBASE),
    ...i32(128),
    ...ADD,
    ...set(MBASE),
    ...get(MP),
    ...i32(4),
    ...ADD,
    ...set(MP),
    ...br(0),
    ...END,
    ...END,
    ...br(0),
    ...END,
    ...END,
    ...END,
  ];
  // Locals after the 5 params: p, end, base, v, bin, addr (i32); b is reused as the row's end.
  const body = [1, 6, I32, ...code];
  return [...uleb(body.length), ...body];
}

// scan's params and locals.
const SH = 0;
const SNB = 1;
const SMASK = 2;
const SW = 3;
const SS = 4;
const SOUT = 5;
const SJ = 6;
const SV = 7;
const SB = 8;
const SO = 9;
const PREV = 10;
const VARIES = 11;
const BBIN = 12;
const BNEXT = 13;
const WL = 14;
const SL = 15;
const SBIN = 16;
const WB = 17;
const SR = 18;
const PROXY = 19;
const BP = 20;
const BW = 21;
const BS = 22;

/** One non-empty bin `SB` (sums `SBIN`, `WB`): the split left of it is a candidate, then it joins the left side. */
const visitBin = (): number[] => [
  ...get(PREV),
  ...i32(0),
  ...I32_GE_S,
  ...IF,
  ...i32(1),
  ...set(VARIES),
  ...get(SS),
  ...get(SL),
  ...F64_SUB,
  ...set(SR),
  // proxy = (sl * sl) / wl + (sr * sr) / (W - wl)
  ...get(SL),
  ...get(SL),
  ...F64_MUL,
  ...get(WL),
  ...F64_DIV,
  ...get(SR),
  ...get(SR),
  ...F64_MUL,
  ...get(SW),
  ...get(WL),
  ...F64_SUB,
  ...F64_DIV,
  ...F64_ADD,
  ...set(PROXY),
  ...get(PROXY),
  ...get(BP),
  ...F64_GT,
  ...IF,
  ...get(PROXY),
  ...set(BP),
  ...get(PREV),
  ...set(BBIN),
  ...get(SB),
  ...set(BNEXT),
  ...get(WL),
  ...set(BW),
  ...get(SL),
  ...set(BS),
  ...END,
  ...END,
  ...get(SL),
  ...get(SBIN),
  ...F64_ADD,
  ...set(SL),
  ...get(WL),
  ...get(WB),
  ...F64_ADD,
  ...set(WL),
  ...get(SB),
  ...set(PREV),
];

/** `SO = h + SB * 16`. */
const binAddress = (): number[] => [...get(SH), ...get(SB), ...i32(4), ...SHL, ...ADD, ...set(SO)];

function scanBody(): number[] {
  const dense = [
    ...BLOCK,
    ...LOOP,
    ...get(SB),
    ...get(SNB),
    ...I32_GE_S,
    ...brIf(1),
    ...binAddress(),
    ...get(SO),
    ...f64Load(8),
    ...set(WB),
    ...get(WB),
    ...F64_ZERO,
    ...F64_NE,
    ...IF,
    ...get(SO),
    ...f64Load(0),
    ...set(SBIN),
    ...visitBin(),
    ...END,
    ...get(SB),
    ...i32(1),
    ...ADD,
    ...set(SB),
    ...br(0),
    ...END,
    ...END,
  ];
  const maskWord = [...get(SMASK), ...get(SJ), ...i32(2), ...SHL, ...ADD];
  const sparse = [
    ...BLOCK,
    ...LOOP,
    ...get(SJ),
    ...i32(8),
    ...I32_GE_S,
    ...brIf(1),
    ...maskWord,
    ...LOAD32,
    ...set(SV),
    ...get(SV),
    ...IF,
    ...maskWord,
    ...i32(0),
    ...STORE32,
    ...BLOCK,
    ...LOOP,
    ...get(SV),
    ...I32_EQZ,
    ...brIf(1),
    // b = j * 32 + the lowest set bit of v; v loses that bit
    ...get(SJ),
    ...i32(5),
    ...SHL,
    ...get(SV),
    ...I32_CTZ,
    ...OR,
    ...set(SB),
    ...get(SV),
    ...get(SV),
    ...i32(1),
    ...SUB,
    ...AND,
    ...set(SV),
    ...binAddress(),
    ...get(SO),
    ...f64Load(0),
    ...set(SBIN),
    ...get(SO),
    ...f64Load(8),
    ...set(WB),
    ...get(SO),
    ...F64_ZERO,
    ...f64Store(0),
    ...get(SO),
    ...F64_ZERO,
    ...f64Store(8),
    ...get(WB),
    ...F64_ZERO,
    ...F64_NE,
    ...IF,
    ...visitBin(),
    ...END,
    ...br(0),
    ...END,
    ...END,
    ...END,
    ...get(SJ),
    ...i32(1),
    ...ADD,
    ...set(SJ),
    ...br(0),
    ...END,
    ...END,
  ];
  const code = [
    ...i32(-1),
    ...set(PREV),
    ...i32(-1),
    ...set(BBIN),
    ...get(SOUT),
    ...f64Load(0),
    ...set(BP),
    ...get(SMASK),
    ...i32(0),
    ...I32_GE_S,
    ...IF,
    ...sparse,
    ...ELSE,
    ...dense,
    ...END,
    ...get(BBIN),
    ...i32(0),
    ...I32_GE_S,
    ...IF,
    ...get(SOUT),
    ...get(BP),
    ...f64Store(0),
    ...get(SOUT),
    ...get(BW),
    ...f64Store(8),
    ...get(SOUT),
    ...get(BS),
    ...f64Store(16),
    ...get(SOUT),
    ...get(BBIN),
    ...i32Store(24),
    ...get(SOUT),
    ...get(BNEXT),
    ...i32Store(28),
    ...END,
    ...get(SOUT),
    ...get(VARIES),
    ...i32Store(32),
    ...END,
  ];
  // Locals after the 6 params: j, v, b, o, prev, varies, bestBin, bestNext (i32), then 9 f64.
  const body = [2, 8, I32, 9, F64, ...code];
  return [...uleb(body.length), ...body];
}

/** The module's bytes: imports `env.mem`, exports `build`, `partition`, `scan`, `mark` and `sub`. */
export function kernelModuleBytes(): Uint8Array {
  return moduleBytes([
    { name: 'build', params: Array<number>(7).fill(I32), results: [], body: buildBody() },
    { name: 'partition', params: Array<number>(11).fill(I32), results: [I32], body: partitionBody() },
    { name: 'scan', params: [I32, I32, I32, F64, F64, I32], results: [], body: scanBody() },
    { name: 'mark', params: Array<number>(5).fill(I32), results: [], body: markBody() },
    { name: 'sub', params: [I32, I32, I32], results: [], body: subBody() },
  ]);
}

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly or its SIMD instructions are not available. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(kernelModuleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The kernel and its memory. */
export interface Kernel {
  /** At least the bytes asked for, zeroed. */
  buffer: ArrayBuffer;
  /** `build(h, words, gh, idx, a, b, nw)`, all byte offsets into `buffer` but `a, b, nw` (see above). */
  build: (h: number, words: number, gh: number, idx: number, a: number, b: number, nw: number) => void;
  /** `partition(words, gh, idx, tw, tg, ti, a, b, nw, f, bin)`: the first 6 are byte offsets (see above). */
  partition: (
    words: number,
    gh: number,
    idx: number,
    tw: number,
    tg: number,
    ti: number,
    a: number,
    b: number,
    nw: number,
    f: number,
    bin: number,
  ) => number;
  /** `scan(h, nb, mask, W, S, out)`: `h`, `mask` (or -1) and `out` are byte offsets (see above). */
  scan: (h: number, nb: number, mask: number, W: number, S: number, out: number) => void;
  /** `mark(words, a, b, nw, mask)`: `words` and `mask` are byte offsets (see above). */
  mark: (words: number, a: number, b: number, nw: number, mask: number) => void;
  /** `sub(h, hs, bytes)`: `h` and `hs` are byte offsets (see above). */
  sub: (h: number, hs: number, bytes: number) => void;
}

/** A memory of at least `bytes` bytes and the kernel bound to it; null without WebAssembly SIMD or past 2 GiB. */
export function createKernel(bytes: number): Kernel | null {
  if (bytes > 2 ** 31) return null;
  const module = kernelModule();
  if (module === null || !wasmApi) return null;
  try {
    const memory = new wasmApi.Memory({ initial: Math.ceil(bytes / 65536) });
    const instance = new wasmApi.Instance(module, { env: { mem: memory } });
    return {
      buffer: memory.buffer,
      build: instance.exports['build'] as Kernel['build'],
      partition: instance.exports['partition'] as Kernel['partition'],
      scan: instance.exports['scan'] as Kernel['scan'],
      mark: instance.exports['mark'] as Kernel['mark'],
      sub: instance.exports['sub'] as Kernel['sub'],
    };
  } catch {
    return null;
  }
}
