import { describe, expect, it } from 'vitest';
import {
  float32AtOrAbove,
  float32AtOrBelow,
  nextDownFloat32,
  nextUpFloat32,
} from '../../src/formats/onnx/float32.js';
import { prng } from './fixtures.js';

const MAX_F32 = 3.4028234663852886e38;
const MIN_SUBNORMAL = 1.401298464324817e-45;

describe('float32 threshold rounding', () => {
  it('steps to the neighbouring float32 in both directions', () => {
    expect(nextUpFloat32(1)).toBe(1 + 2 ** -23);
    expect(nextDownFloat32(1)).toBe(1 - 2 ** -24);
    expect(nextUpFloat32(-1)).toBe(-(1 - 2 ** -24));
    expect(nextUpFloat32(0)).toBe(MIN_SUBNORMAL);
    expect(nextUpFloat32(-0)).toBe(MIN_SUBNORMAL);
    expect(nextDownFloat32(0)).toBe(-MIN_SUBNORMAL);
    expect(nextDownFloat32(Infinity)).toBe(MAX_F32);
    expect(nextUpFloat32(-Infinity)).toBe(-MAX_F32);
    expect(nextUpFloat32(MAX_F32)).toBe(Infinity);
  });

  it('keeps thresholds that already are float32', () => {
    for (const t of [0, 1, -2.5, Math.fround(0.1), MAX_F32, Infinity, -Infinity]) {
      expect(float32AtOrBelow(t)).toBe(t);
      expect(float32AtOrAbove(t)).toBe(t);
    }
  });

  it('clamps thresholds beyond the float32 range to the largest finite float32', () => {
    expect(float32AtOrBelow(1e39)).toBe(MAX_F32);
    expect(float32AtOrAbove(-1e39)).toBe(-MAX_F32);
    expect(float32AtOrAbove(1e39)).toBe(Infinity);
    expect(float32AtOrBelow(-1e39)).toBe(-Infinity);
  });

  it('x <= t and x < t are unchanged for every float32 x near random thresholds', () => {
    const rng = prng(42);
    const step = new Float32Array(1);
    const bits = new Int32Array(step.buffer);
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const scale = 10 ** Math.floor(rng() * 80 - 40);
      const t = (rng() - 0.5) * scale;
      const below = float32AtOrBelow(t);
      const above = float32AtOrAbove(t);
      if (Math.fround(below) !== below || Math.fround(above) !== above) mismatches.push(`not float32: ${t}`);
      step[0] = t;
      const centre = bits[0]!;
      for (let d = -3; d <= 3; d++) {
        bits[0] = centre + d;
        const x = step[0];
        if (Number.isNaN(x)) continue;
        if (x <= below !== x <= t) mismatches.push(`leq t=${t} x=${x}`);
        if (x < above !== x < t) mismatches.push(`lt t=${t} x=${x}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
