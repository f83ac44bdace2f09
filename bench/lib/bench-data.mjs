// Seeded synthetic data sets and metrics for the benchmarks.

/** mulberry32: a float in [0, 1). */
export function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Friedman #1 (scikit-learn's make_friedman1): 5 informative features of nFeatures, Gaussian noise. */
export function friedman(nRows, nFeatures, seed, noise = 1) {
  const random = createRandom(seed);
  const x = new Float64Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const o = r * nFeatures;
    for (let f = 0; f < nFeatures; f++) x[o + f] = random();
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    y[r] =
      10 * Math.sin(Math.PI * x[o] * x[o + 1]) +
      20 * (x[o + 2] - 0.5) ** 2 +
      10 * x[o + 3] +
      5 * x[o + 4] +
      noise * gauss;
  }
  return { x, y, nRows, nFeatures, task: 'regression' };
}

/** Three classes from two noisy linear scores over 6 of the features; the rest are noise. */
export function threeClasses(nRows, nFeatures, seed) {
  const random = createRandom(seed);
  const x = new Float64Array(nRows * nFeatures);
  const y = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const o = r * nFeatures;
    for (let f = 0; f < nFeatures; f++) x[o + f] = random() * 2 - 1;
    const a = x[o] + 0.5 * x[o + 1] - 0.3 * x[o + 4] + 0.3 * (random() - 0.5);
    const b = x[o + 2] - x[o + 3] + 0.5 * x[o + 5] * x[o] + 0.3 * (random() - 0.5);
    y[r] = a > 0.2 ? 0 : b > 0 ? 1 : 2;
  }
  return { x, y, nRows, nFeatures, task: 'classification', nClasses: 3 };
}

/** The first `nTrain` rows and the rest, as views. */
export function splitRows(d, nTrain) {
  const F = d.nFeatures;
  const part = (a, b) => ({ ...d, x: d.x.subarray(a * F, b * F), y: d.y.subarray(a, b), nRows: b - a });
  return { train: part(0, nTrain), test: part(nTrain, d.nRows) };
}

export function r2(y, pred) {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < y.length; i++) {
    res += (y[i] - pred[i]) ** 2;
    tot += (y[i] - mean) ** 2;
  }
  return 1 - res / tot;
}

/** Accuracy of the argmax of row-major `proba` (`k` columns) against class indices `y`. */
export function accuracyOfProba(y, proba, k) {
  let ok = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (proba[r * k + j] > proba[r * k + best]) best = j;
    if (best === y[r]) ok++;
  }
  return ok / y.length;
}

/** Rows as arrays, for ml-random-forest. */
export function toRows(d) {
  const rows = new Array(d.nRows);
  for (let r = 0; r < d.nRows; r++)
    rows[r] = Array.from(d.x.subarray(r * d.nFeatures, (r + 1) * d.nFeatures));
  return rows;
}
