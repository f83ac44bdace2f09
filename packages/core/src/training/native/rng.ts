/** mulberry32: the next uint32 from a one-word state. */
export function rngNext(state: Uint32Array): number {
  const s = (state[0]! + 0x6d2b79f5) >>> 0;
  state[0] = s;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** A uniform integer in `[0, n)` for `n <= 2^32`. */
export function randBelow(state: Uint32Array, n: number): number {
  return Math.floor((rngNext(state) * n) / 4294967296);
}

/** The seed of tree `t` of a forest seeded with `seed`; independent of how trees are scheduled. */
export function deriveSeed(seed: number, t: number): number {
  let z = ((seed >>> 0) + Math.imul(t + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
