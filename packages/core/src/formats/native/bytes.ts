import { invalidArgument } from '../../errors.js';

/** Number types of the binary fields of the native tree format, stored little-endian. */
export type NumberType = 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64';

export const BYTES_PER: Record<NumberType, number> = {
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  f32: 4,
  f64: 8,
};

type Setter = (view: DataView, offset: number, value: number) => void;
type Getter = (view: DataView, offset: number) => number;

const setters: Record<NumberType, Setter> = {
  u8: (v, o, x) => v.setUint8(o, x),
  i16: (v, o, x) => v.setInt16(o, x, true),
  u16: (v, o, x) => v.setUint16(o, x, true),
  i32: (v, o, x) => v.setInt32(o, x, true),
  u32: (v, o, x) => v.setUint32(o, x, true),
  f32: (v, o, x) => v.setFloat32(o, x, true),
  f64: (v, o, x) => v.setFloat64(o, x, true),
};

const getters: Record<NumberType, Getter> = {
  u8: (v, o) => v.getUint8(o),
  i16: (v, o) => v.getInt16(o, true),
  u16: (v, o) => v.getUint16(o, true),
  i32: (v, o) => v.getInt32(o, true),
  u32: (v, o) => v.getUint32(o, true),
  f32: (v, o) => v.getFloat32(o, true),
  f64: (v, o) => v.getFloat64(o, true),
};

/** `values` as `type`, little-endian, base64. The caller makes sure every value fits the type. */
export function encodeNumbers(values: ArrayLike<number>, type: NumberType): string {
  const size = BYTES_PER[type];
  const view = new DataView(new ArrayBuffer(values.length * size));
  const set = setters[type];
  for (let i = 0; i < values.length; i++) set(view, i * size, values[i]!);
  return Buffer.from(view.buffer).toString('base64');
}

/** Reads `count` numbers of `type` from base64; a wrong byte count is `INVALID_ARGUMENT` naming `what`. */
export function decodeNumbers(b64: string, count: number, type: NumberType, what: string): Float64Array {
  const size = BYTES_PER[type];
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length !== count * size) {
    throw invalidArgument(
      `tree-ensemble model is malformed: ${what} has ${bytes.length} bytes, expected ${count * size}`,
      'native-model',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = getters[type];
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = get(view, i * size);
  return out;
}

/** The narrowest unsigned type that holds every integer from 0 to `max`. */
export function unsignedTypeFor(max: number): 'u8' | 'u16' | 'u32' {
  return max <= 0xff ? 'u8' : max <= 0xffff ? 'u16' : 'u32';
}

/** `f32` when every value survives a float32 round trip exactly, else `f64`. */
export function floatTypeFor(values: ArrayLike<number>): 'f32' | 'f64' {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Object.is(Math.fround(v), v)) return 'f64';
  }
  return 'f32';
}
