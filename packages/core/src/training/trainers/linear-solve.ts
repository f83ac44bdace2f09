/**
 * The numerical part of the `linear` trainer: least squares (ordinary and ridge) by the normal
 * equations, and L2-penalised logistic regression (binary and multinomial) by L-BFGS. Matrices are
 * row-major `Float64Array`s.
 */

export interface LinearFit {
  /** `outputs × width` coefficients, row-major. */
  coef: Float64Array;
  intercept: Float64Array;
  /** Solver iterations (1 for least squares). */
  iterations: number;
  /** Logistic: whether the gradient reached the tolerance within `maxIter`. Least squares: true. */
  converged: boolean;
  /** Least squares: `cholesky`, or `eigen` (minimum-norm solution of a rank-deficient system). */
  method: 'cholesky' | 'eigen' | 'lbfgs';
}

/** Column means of `z` (`n × p`). */
function columnMeans(z: Float64Array, n: number, p: number): Float64Array {
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j]! += z[i * p + j]!;
  for (let j = 0; j < p; j++) mean[j]! /= Math.max(1, n);
  return mean;
}

/** Cholesky of a symmetric `p × p` matrix in place (lower triangle); false when not positive definite. */
function cholesky(a: Float64Array, p: number): boolean {
  let maxDiag = 0;
  for (let i = 0; i < p; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * p + i]!));
  const floor = maxDiag * 1e-12;
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let k = 0; k < j; k++) d -= a[j * p + k]! * a[j * p + k]!;
    if (!(d > floor)) return false;
    const l = Math.sqrt(d);
    a[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= a[i * p + k]! * a[j * p + k]!;
      a[i * p + j] = s / l;
    }
  }
  return true;
}

function choleskySolve(l: Float64Array, p: number, b: Float64Array): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * y[k]!;
    y[i] = s / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  return x;
}

/** Eigen-decomposition of a symmetric `p × p` matrix by cyclic Jacobi rotations: values and vectors (columns). */
export function symmetricEigen(
  matrix: Float64Array,
  p: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const x = a[i * p + j]! * a[i * p + j]!;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j]!;
        if (aij === 0) continue;
        const theta = (a[j * p + j]! - a[i * p + i]!) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const aki = a[k * p + i]!;
          const akj = a[k * p + j]!;
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) {
          const aik = a[i * p + k]!;
          const ajk = a[j * p + k]!;
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i]!;
          const vkj = v[k * p + j]!;
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
    }
  }
  const values = new Float64Array(p);
  for (let i = 0; i < p; i++) values[i] = a[i * p + i]!;
  return { values, vectors: v };
}

/**
 * Least squares with an unpenalised intercept: minimises `||y - Z w - b||² + alpha ||w||²`
 * (scikit-learn's `LinearRegression` for `alpha = 0`, `Ridge(alpha)` otherwise). Solved on centred
 * data by Cholesky; a singular system (collinear or constant columns, `alpha = 0`) gets the
 * minimum-norm solution from the eigen-decomposition, as `numpy.linalg.lstsq` gives.
 */
export function leastSquares(
  z: Float64Array,
  y: Float64Array,
  n: number,
  p: number,
  alpha: number,
  fitIntercept: boolean,
): LinearFit {
  const zMean = fitIntercept ? columnMeans(z, n, p) : new Float64Array(p);
  let yMean = 0;
  if (fitIntercept) {
    for (let i = 0; i < n; i++) yMean += y[i]!;
    yMean /= Math.max(1, n);
  }
  const gram = new Float64Array(p * p);
  const zty = new Float64Array(p);
  const row = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) row[j] = z[i * p + j]! - zMean[j]!;
    const yi = y[i]! - yMean;
    for (let j = 0; j < p; j++) {
      const rj = row[j]!;
      if (rj === 0) continue;
      zty[j]! += rj * yi;
      for (let k = 0; k <= j; k++) gram[j * p + k]! += rj * row[k]!;
    }
  }
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) gram[k * p + j] = gram[j * p + k]!;
    gram[j * p + j]! += alpha;
  }
  let coef: Float64Array;
  let method: LinearFit['method'];
  const l = Float64Array.from(gram);
  if (cholesky(l, p)) {
    coef = choleskySolve(l, p, zty);
    method = 'cholesky';
  } else {
    const { values, vectors } = symmetricEigen(gram, p);
    let max = 0;
    for (const v of values) max = Math.max(max, Math.abs(v));
    const cutoff = max * p * 2.220446049250313e-16 * 10;
    coef = new Float64Array(p);
    for (let k = 0; k < p; k++) {
      const lambda = values[k]!;
      if (!(lambda > cutoff)) continue;
      let proj = 0;
      for (let j = 0; j < p; j++) proj += vectors[j * p + k]! * zty[j]!;
      const f = proj / lambda;
      for (let j = 0; j < p; j++) coef[j]! += f * vectors[j * p + k]!;
    }
    method = 'eigen';
  }
  let intercept = yMean;
  for (let j = 0; j < p; j++) intercept -= zMean[j]! * coef[j]!;
  return { coef, intercept: Float64Array.of(intercept), iterations: 1, converged: true, method };
}

export interface LogisticOptions {
  /** Inverse of the L2 strength, as scikit-learn's `C`: the objective is `C · Σ loss + ½ ||W||²`. */
  C: number;
  maxIter: number;
  /** Stop when the largest gradient component of `Σ loss + ||W||² / (2C)` is at most `tol · n`. */
  tol: number;
  fitIntercept: boolean;
  /** Checked between iterations; throw to stop. */
  onIteration?: (iteration: number) => void;
}

/**
 * The objective `Σ_i loss_i + ||W||² / (2C)` and its gradient at `theta` (rows of `p + 1`: weights
 * then intercept). Binary (`outputs = 1`): logistic loss of class 1 against 0. Multinomial
 * (`outputs = K`): softmax cross-entropy.
 */
function logisticObjective(
  z: Float64Array,
  y: Float64Array,
  n: number,
  p: number,
  outputs: number,
  invC: number,
  fitIntercept: boolean,
  theta: Float64Array,
  grad: Float64Array,
  scores: Float64Array,
): number {
  const stride = p + 1;
  grad.fill(0);
  let f = 0;
  for (let k = 0; k < outputs; k++) {
    const o = k * stride;
    for (let j = 0; j < p; j++) {
      const w = theta[o + j]!;
      f += 0.5 * invC * w * w;
      grad[o + j] = invC * w;
    }
  }
  for (let i = 0; i < n; i++) {
    const zi = i * p;
    for (let k = 0; k < outputs; k++) {
      const o = k * stride;
      let s = fitIntercept ? theta[o + p]! : 0;
      for (let j = 0; j < p; j++) s += theta[o + j]! * z[zi + j]!;
      scores[k] = s;
    }
    if (outputs === 1) {
      const s = scores[0]!;
      const yi = y[i]!;
      // log(1 + exp(-s)) for class 1, log(1 + exp(s)) for class 0, computed stably.
      const m = yi === 1 ? -s : s;
      f += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
      const prob = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
      scores[0] = prob - yi;
    } else {
      let max = -Infinity;
      for (let k = 0; k < outputs; k++) max = Math.max(max, scores[k]!);
      let sum = 0;
      for (let k = 0; k < outputs; k++) {
        const e = Math.exp(scores[k]! - max);
        sum += e;
      }
      const lse = max + Math.log(sum);
      const yi = y[i]!;
      f += lse - scores[yi]!;
      for (let k = 0; k < outputs; k++) scores[k] = Math.exp(scores[k]! - lse) - (k === yi ? 1 : 0);
    }
    for (let k = 0; k < outputs; k++) {
      const d = scores[k]!;
      if (d === 0) continue;
      const o = k * stride;
      for (let j = 0; j < p; j++) grad[o + j]! += d * z[zi + j]!;
      if (fitIntercept) grad[o + p]! += d;
    }
  }
  return f;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * L2-penalised logistic regression by L-BFGS (memory 10, backtracking line search with the Armijo
 * condition), from zero weights, as scikit-learn's `LogisticRegression(solver='lbfgs')` minimises:
 * `C · Σ loss + ½ ||W||²` with an unpenalised intercept (the same minimiser as the scaled objective
 * used here). `classes = 2` fits one weight row (class 1 against class 0); more fit one row per class
 * (multinomial). The optimum is unique, so any solver that converges reaches scikit-learn's.
 */
export function logisticRegression(
  z: Float64Array,
  y: Float64Array,
  n: number,
  p: number,
  classes: number,
  options: LogisticOptions,
): LinearFit {
  const outputs = classes === 2 ? 1 : classes;
  const stride = p + 1;
  const size = outputs * stride;
  const invC = 1 / options.C;
  const scores = new Float64Array(outputs);
  const evaluate = (theta: Float64Array, grad: Float64Array): number =>
    logisticObjective(z, y, n, p, outputs, invC, options.fitIntercept, theta, grad, scores);
  let theta = new Float64Array(size);
  let grad = new Float64Array(size);
  let f = evaluate(theta, grad);
  const goal = options.tol * Math.max(1, n);
  const memory = 10;
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  const alphas = new Float64Array(memory);
  let iterations = 0;
  let converged = maxAbs(grad) <= goal;
  const nextTheta = new Float64Array(size);
  const nextGrad = new Float64Array(size);
  while (!converged && iterations < options.maxIter) {
    options.onIteration?.(iterations);
    // Two-loop recursion: direction = -H g.
    const q = Float64Array.from(grad);
    for (let m = sList.length - 1; m >= 0; m--) {
      const a = rhoList[m]! * dot(sList[m]!, q);
      alphas[m] = a;
      const ym = yList[m]!;
      for (let i = 0; i < size; i++) q[i]! -= a * ym[i]!;
    }
    if (sList.length > 0) {
      const last = sList.length - 1;
      const gamma = dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!);
      for (let i = 0; i < size; i++) q[i]! *= gamma;
    } else {
      const scale = 1 / Math.max(1e-12, Math.sqrt(dot(grad, grad)));
      for (let i = 0; i < size; i++) q[i]! *= scale;
    }
    for (let m = 0; m < sList.length; m++) {
      const b = rhoList[m]! * dot(yList[m]!, q);
      const sm = sList[m]!;
      for (let i = 0; i < size; i++) q[i]! += (alphas[m]! - b) * sm[i]!;
    }
    let slope = -dot(grad, q);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from the gradient.
      sList.length = 0;
      yList.length = 0;
      rhoList.length = 0;
      const scale = 1 / Math.max(1e-12, Math.sqrt(dot(grad, grad)));
      for (let i = 0; i < size; i++) q[i] = grad[i]! * scale;
      slope = -dot(grad, q);
    }
    let step = 1;
    let fNext = Infinity;
    let accepted = false;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < size; i++) nextTheta[i] = theta[i]! - step * q[i]!;
      fNext = evaluate(nextTheta, nextGrad);
      if (fNext <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    iterations++;
    if (!accepted) break; // no decrease representable in float64: as close as it gets
    const s = new Float64Array(size);
    const yv = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = nextTheta[i]! - theta[i]!;
      yv[i] = nextGrad[i]! - grad[i]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      if (sList.length === memory) {
        sList.shift();
        yList.shift();
        rhoList.shift();
      }
      sList.push(s);
      yList.push(yv);
      rhoList.push(1 / sy);
    }
    const previous = f;
    theta = Float64Array.from(nextTheta);
    grad = Float64Array.from(nextGrad);
    f = fNext;
    converged = maxAbs(grad) <= goal;
    if (!converged && previous - f <= 1e-16 * Math.max(1, Math.abs(f)) && maxAbs(grad) <= goal * 1e3) {
      converged = true; // stalled at float64 precision, within a hair of the tolerance
    }
  }
  const coef = new Float64Array(outputs * p);
  const intercept = new Float64Array(outputs);
  for (let k = 0; k < outputs; k++) {
    for (let j = 0; j < p; j++) coef[k * p + j] = theta[k * stride + j]!;
    intercept[k] = options.fitIntercept ? theta[k * stride + p]! : 0;
  }
  return { coef, intercept, iterations, converged, method: 'lbfgs' };
}
