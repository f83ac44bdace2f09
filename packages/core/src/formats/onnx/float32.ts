const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/** The next float32 towards +Infinity (`x` must be a float32 value, not NaN). */
export function nextUpFloat32(x: number): number {
  if (x === Infinity) return x;
  if (x === 0) return 1.401298464324817e-45; // smallest subnormal, for +0 and -0
  f32[0] = x;
  bits[0] = x > 0 ? bits[0]! + 1 : bits[0]! - 1;
  return f32[0];
}

/** The next float32 towards -Infinity (`x` must be a float32 value, not NaN). */
export function nextDownFloat32(x: number): number {
  return -nextUpFloat32(-x);
}

/**
 * The largest float32 `t'` with `t' <= t`. For every float32 `x`: `x <= t'` exactly when `x <= t`,
 * so a `<=` split keeps its decisions when its threshold is stored as float32.
 */
export function float32AtOrBelow(t: number): number {
  const r = Math.fround(t);
  return r <= t ? r : nextDownFloat32(r);
}

/**
 * The smallest float32 `t'` with `t' >= t`. For every float32 `x`: `x < t'` exactly when `x < t`,
 * so a `<` split keeps its decisions when its threshold is stored as float32.
 */
export function float32AtOrAbove(t: number): number {
  const r = Math.fround(t);
  return r >= t ? r : nextUpFloat32(r);
}
