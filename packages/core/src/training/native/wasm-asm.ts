// The few pieces of WebAssembly's binary format the hand-assembled kernels (wasm-kernel.ts,
// boost-wasm.ts) are written with: value types, LEB128, the instructions they use, and a module of
// functions that imports one memory (`env.mem`) and exports every function by name.

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

// Locals and constants.
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const i32 = (v: number): number[] => [0x41, ...sleb(v)];
export const f64 = (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
export const F64_ZERO = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];

// i32 arithmetic and comparisons.
export const ADD = [0x6a];
export const SUB = [0x6b];
export const MUL = [0x6c];
export const AND = [0x71];
export const OR = [0x72];
export const XOR = [0x73];
export const SHL = [0x74];
export const SHR_S = [0x75];
export const SHR_U = [0x76];
export const I32_EQZ = [0x45];
export const EQ = [0x46];
export const I32_GE_S = [0x4e];
export const LE_U = [0x4d];
export const GE_U = [0x4f];
export const I32_CTZ = [0x68];

// f64 arithmetic and comparisons.
export const F64_ADD = [0xa0];
export const F64_SUB = [0xa1];
export const F64_MUL = [0xa2];
export const F64_DIV = [0xa3];
export const F64_NE = [0x62];
export const F64_GT = [0x64];
export const F64_GE = [0x66];
export const F64_FROM_I32 = [0xb7];
export const SELECT = [0x1b];

// Memory (alignment hints, offsets as given).
export const LOAD32 = [0x28, 2, 0];
export const LOAD8_U = [0x2d, 0, 0];
export const STORE32 = [0x36, 2, 0];
export const F64_LOAD = [0x2b, 3, 0];
export const F64_STORE = [0x39, 3, 0];
export const f64Load = (offset: number): number[] => [0x2b, 3, ...uleb(offset)];
export const f64Store = (offset: number): number[] => [0x39, 3, ...uleb(offset)];
export const i32Store = (offset: number): number[] => [0x36, 2, ...uleb(offset)];
export const MEMORY_COPY = [0xfc, 10, 0, 0];

// SIMD.
export const V128_LOAD = [0xfd, 0x00, 4, 0];
export const V128_STORE = [0xfd, 0x0b, 4, 0];
export const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
export const F64X2_ADD = [0xfd, ...uleb(0xf0)];
export const F64X2_SUB = [0xfd, ...uleb(0xf1)];

// Control.
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const br = (depth: number): number[] => [0x0c, ...uleb(depth)];
export const brIf = (depth: number): number[] => [0x0d, ...uleb(depth)];

/** A function of a module: its export name, signature and body (locals and code, length-prefixed). */
export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  body: number[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** A module that imports `env.mem` and exports `functions` under their names, function i of type i. */
export function moduleBytes(functions: readonly WasmFunction[]): Uint8Array {
  const n = uleb(functions.length);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [
      ...n,
      ...functions.flatMap((f) => [
        0x60,
        ...uleb(f.params.length),
        ...f.params,
        ...uleb(f.results.length),
        ...f.results,
      ]),
    ]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]),
    ...section(3, [...n, ...functions.flatMap((_, i) => uleb(i))]),
    ...section(7, [...n, ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])]),
    ...section(10, [...n, ...functions.flatMap((f) => f.body)]),
  ]);
}

/** The part of the WebAssembly API the kernels use (Node has it; the project's TypeScript lib does not declare it). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

export const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
