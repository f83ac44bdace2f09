import { invalidArgument, throwIfAborted } from '../../errors.js';
import { parseArg } from '../../domain/names.js';
import type { FlatTree, TreeEnsemble } from '../../formats/tree-ensemble.js';
import type { Task, TrainProgress } from '../trainer.js';
import { yieldToEventLoop } from '../trainers/common.js';
import { binFeatures, binRowsLike, MAX_BINS } from './binning.js';
import type { BinnedFeatures } from './binning.js';
import { boostingParamsSchema } from './boost-params.js';
import type { BoostingParams, ResolvedBoostingParams } from './boost-params.js';
import { binTreeLeaf, createBoostWorkspace, growBoostTree } from './boost-tree.js';
import type { BinTree, BoostData, BoostTreeConfig } from './boost-tree.js';
import { deriveSeed, randBelow, rngNext } from './rng.js';

/** Input of {@link fitBoosting}. */
export interface FitBoostingInput {
  /** Row-major `nRows * nFeatures` values; NaN is a missing value (each split learns where it goes). */
  x: Float64Array;
  nRows: number;
  nFeatures: number;
  /** Regression: targets. Classification: class indices `0..nClasses-1`. */
  y: ArrayLike<number>;
  task: Task;
  /** Classification: the number of classes (default: largest index + 1). */
  nClasses?: number;
  params?: BoostingParams;
  /** A 32-bit unsigned seed (default 0): row and column sampling and the validation split. */
  seed?: number;
  signal?: AbortSignal;
  /** Called after every round. */
  onProgress?: (progress: TrainProgress) => void;
}

/** What {@link fitBoosting} returns besides the model. */
export interface BoostingResult {
  ensemble: TreeEnsemble;
  objective: 'squared_error' | 'logistic' | 'softmax';
  /** Rounds in the model. */
  rounds: number;
  /** With early stopping: the best round (1-based, = `rounds`) and the validation loss per round grown. */
  bestIteration?: number;
  validationLoss?: number[];
  /** Total split gain per feature over the model's trees. */
  gain: Float64Array;
}

type Objective = BoostingResult['objective'];

function resolveObjective(params: ResolvedBoostingParams, task: Task, nClasses: number): Objective {
  const objective =
    params.objective ?? (task === 'regression' ? 'squared_error' : nClasses === 2 ? 'logistic' : 'softmax');
  if ((objective === 'squared_error') !== (task === 'regression')) {
    throw invalidArgument(`objective '${objective}' does not fit the ${task} task`, 'train');
  }
  if (objective === 'logistic' && nClasses !== 2) {
    throw invalidArgument(
      `objective 'logistic' needs 2 classes, the target has ${nClasses}; use 'softmax'`,
      'train',
    );
  }
  return objective;
}

/** Gradients and hessians of the loss at the current raw scores, for score column `k`, into `gh`. */
function gradients(
  objective: Objective,
  pred: Float64Array,
  s: number,
  y: Float64Array,
  n: number,
  gh: Float64Array[],
): void {
  if (objective === 'squared_error') {
    const g = gh[0]!;
    for (let r = 0; r < n; r++) {
      g[2 * r] = pred[r]! - y[r]!;
      g[2 * r + 1] = 1;
    }
  } else if (objective === 'logistic') {
    const g = gh[0]!;
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-pred[r]!));
      g[2 * r] = p - y[r]!;
      g[2 * r + 1] = Math.max(p * (1 - p), 1e-16);
    }
  } else {
    const p = new Float64Array(s);
    for (let r = 0; r < n; r++) {
      let max = -Infinity;
      for (let k = 0; k < s; k++) max = Math.max(max, pred[r * s + k]!);
      let sum = 0;
      // A top class's term is exp(0) = 1: one exp less per row, the same bits.
      for (let k = 0; k < s; k++) {
        const v = pred[r * s + k]!;
        sum += p[k] = v === max ? 1 : Math.exp(v - max);
      }
      const yr = y[r]!;
      // The hessian is XGBoost's multi:softprob one, 2q(1 - q) (a bound on the softmax's diagonal):
      // with XGBoost's params the rounds take XGBoost's step sizes (q(1 - q), scikit-learn's, takes
      // twice as large ones).
      for (let k = 0; k < s; k++) {
        const q = p[k]! / sum;
        gh[k]![2 * r] = q - (k === yr ? 1 : 0);
        gh[k]![2 * r + 1] = Math.max(2 * q * (1 - q), 1e-16);
      }
    }
  }
}

/** The mean loss at raw scores `pred`: squared error, log loss or multiclass log loss. */
function meanLoss(objective: Objective, pred: Float64Array, s: number, y: Float64Array, n: number): number {
  let sum = 0;
  for (let r = 0; r < n; r++) {
    if (objective === 'squared_error') sum += (pred[r]! - y[r]!) ** 2;
    else if (objective === 'logistic') {
      const z = pred[r]!;
      // log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, without overflow.
      const m = y[r] === 1 ? -z : z;
      sum += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    } else {
      let max = -Infinity;
      for (let k = 0; k < s; k++) max = Math.max(max, pred[r * s + k]!);
      let e = 0;
      for (let k = 0; k < s; k++) e += Math.exp(pred[r * s + k]! - max);
      sum += max + Math.log(e) - pred[r * s + y[r]!]!;
    }
  }
  return sum / Math.max(1, n);
}

function baseScores(objective: Objective, y: Float64Array, n: number, s: number): number[] {
  if (objective === 'squared_error') {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += y[r]!;
    return [sum / n];
  }
  const counts = new Float64Array(Math.max(2, s));
  for (let r = 0; r < n; r++) counts[y[r]!]!++;
  // Class priors, kept off 0 and 1 so the log-odds stay finite.
  const prior = (c: number): number => Math.min(1 - 1e-7, Math.max(1e-7, c / n));
  if (objective === 'logistic') {
    const p = prior(counts[1]!);
    return [Math.log(p / (1 - p))];
  }
  return Array.from({ length: s }, (_, k) => Math.log(prior(counts[k]!)));
}

/** Rows `rows` of the row-major matrix `x`. */
function takeRows(x: Float64Array, F: number, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length * F);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * F, rows[i]! * F + F), i * F);
  return out;
}

function toFlatTree(t: BinTree, binned: BinnedFeatures): FlatTree {
  const n = t.nNodes;
  const feature = t.feature.slice(0, n);
  const threshold = new Float64Array(n);
  const left = new Int32Array(n).fill(-1);
  const right = new Int32Array(n).fill(-1);
  const value = new Float64Array(n);
  const missingLeft = new Uint8Array(n);
  let anyMissing = false;
  for (let i = 0; i < n; i++) {
    const f = feature[i]!;
    if (f < 0) {
      value[i] = t.value[i]!;
      continue;
    }
    const mb = binned.missingBin[f]!;
    const nEdges = binned.nBins[f]! - 1 - (mb >= 0 ? 1 : 0);
    const b = t.bin[i]!;
    // "bin <= b" is exactly "x <= edge b"; past the last edge (every value left, missing right) any x is.
    threshold[i] = b < nEdges ? binned.thresholds[f * MAX_BINS + b]! : Infinity;
    left[i] = t.left[i]!;
    right[i] = t.left[i]! + 1;
    if (t.missingLeft[i] === 1) {
      missingLeft[i] = 1;
      anyMissing = true;
    }
  }
  return { feature, threshold, left, right, value, ...(anyMissing ? { missingLeft } : {}) };
}

/**
 * Fits gradient-boosted trees with the native histogram learner (XGBoost `hist` semantics: second
 * order gains with L2 on leaf values, features binned once into at most 256 quantile bins, missing
 * values in a bin of their own whose direction each split learns). Trees are grown one round at a
 * time (one per class for softmax); round `t` samples rows and columns from a seed derived from
 * `seed` and `t`. Bad input or params are `INVALID_ARGUMENT`; an abort stops before the next round.
 */
export async function fitBoosting(input: FitBoostingInput): Promise<BoostingResult> {
  const { x, nRows, nFeatures, task, signal, onProgress } = input;
  throwIfAborted(signal, 'train');
  if (!Number.isInteger(nRows) || nRows < 2 || !Number.isInteger(nFeatures) || nFeatures < 1) {
    throw invalidArgument(`need at least two rows and one feature, got ${nRows} x ${nFeatures}`, 'train');
  }
  if (x.length !== nRows * nFeatures) {
    throw invalidArgument(`x has ${x.length} values, expected ${nRows * nFeatures}`, 'train');
  }
  if (input.y.length !== nRows)
    throw invalidArgument(`y has ${input.y.length} values for ${nRows} rows`, 'train');
  const params = parseArg(boostingParamsSchema, input.params ?? {}, 'gradient boosting params', 'train');
  const y = Float64Array.from(input.y);
  let nClasses = 0;
  if (task === 'classification') {
    let max = 0;
    for (let i = 0; i < nRows; i++) {
      const v = y[i]!;
      if (!Number.isInteger(v) || v < 0)
        throw invalidArgument(`y[${i}] = ${v} is not a class index`, 'train', { row: i });
      if (v > max) max = v;
    }
    nClasses = input.nClasses ?? max + 1;
    if (!Number.isInteger(nClasses) || nClasses < 2 || max >= nClasses) {
      throw invalidArgument(`nClasses ${nClasses} must be at least 2 and cover class index ${max}`, 'train');
    }
  } else {
    for (let i = 0; i < nRows; i++) {
      if (!Number.isFinite(y[i]!))
        throw invalidArgument(`y[${i}] = ${y[i]} is not a finite number`, 'train', { row: i });
    }
  }
  const objective = resolveObjective(params, task, nClasses);
  const s = objective === 'softmax' ? nClasses : 1;
  const seed = (input.seed ?? 0) >>> 0;

  // Early stopping holds out a random validation part of the rows.
  let trainRows: Uint32Array | null = null;
  let validRows: Uint32Array | null = null;
  if (params.earlyStopping) {
    const nValid = Math.round(params.validationFraction * nRows);
    if (nValid < 1 || nRows - nValid < 2) {
      throw invalidArgument(
        `validationFraction ${params.validationFraction} of ${nRows} rows leaves no validation or training rows`,
        'train',
      );
    }
    const order = new Uint32Array(nRows);
    for (let i = 0; i < nRows; i++) order[i] = i;
    const rng = new Uint32Array([deriveSeed(seed, 0x7fffffff)]);
    for (let i = nRows - 1; i > 0; i--) {
      const j = randBelow(rng, i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    validRows = order.slice(0, nValid).sort();
    trainRows = order.slice(nValid).sort();
  }
  const n = trainRows ? trainRows.length : nRows;
  const xTrain = trainRows ? takeRows(x, nFeatures, trainRows) : x;
  const yTrain = trainRows ? Float64Array.from(trainRows, (r) => y[r]!) : y;
  const binned = binFeatures(xTrain, n, nFeatures, { maxBins: params.maxBins, missing: true });
  const rowStride = Math.ceil(nFeatures / 4) * 4;
  const ws = createBoostWorkspace(n, nFeatures, rowStride, s, params.minSamplesLeaf > 1, true);
  const rowBins = ws.rowBins;
  ws.colBins.set(binned.bins);
  for (let f = 0; f < nFeatures; f++) {
    const col = binned.bins.subarray(f * n, (f + 1) * n);
    for (let r = 0; r < n; r++) rowBins[r * rowStride + f] = col[r]!;
  }
  const data: BoostData = {
    nFeatures,
    rowStride,
    rowBins,
    nBins: binned.nBins,
    colBins: ws.colBins,
    missingBin: binned.missingBin,
  };
  let validBins: Uint8Array | null = null;
  let yValid: Float64Array | null = null;
  if (validRows) {
    validBins = binRowsLike(binned, takeRows(x, nFeatures, validRows), validRows.length, rowStride);
    yValid = Float64Array.from(validRows, (r) => y[r]!);
  }
  const nValid = validRows ? validRows.length : 0;

  const config: BoostTreeConfig = {
    maxDepth: params.maxDepth ?? 0x7fffffff,
    maxLeaves: params.maxLeafNodes ?? 0,
    minSamplesLeaf: params.minSamplesLeaf,
    minChildWeight: params.minChildWeight,
    lambda: params.l2Regularization,
    minSplitGain: params.minSplitGain,
    learningRate: params.learningRate,
  };
  const base = baseScores(objective, yTrain, n, s);
  const pred = ws.pred;
  for (let r = 0; r < n; r++) for (let k = 0; k < s; k++) pred[r * s + k] = base[k]!;
  const predValid = new Float64Array(nValid * s);
  for (let r = 0; r < nValid; r++) for (let k = 0; k < s; k++) predValid[r * s + k] = base[k]!;
  const gh = ws.gh;
  const nCols = Math.max(1, Math.round(params.colsampleByTree * nFeatures));
  const allCols = nCols === nFeatures;
  const perm = new Int32Array(nFeatures);
  const list = new Int32Array(nFeatures);
  const inSample = new Uint8Array(n);
  const allRows = new Uint32Array(n);
  for (let r = 0; r < n; r++) allRows[r] = r;
  const rng = new Uint32Array(1);
  const threshold = Math.floor(params.subsample * 4294967296);

  const trees: FlatTree[] = [];
  const gainByRound: Float64Array[] = [];
  const validationLoss: number[] = [];
  let bestLoss = Infinity;
  let bestRound = 0;
  const rounds = params.nEstimators;
  for (let t = 0; t < rounds; t++) {
    if (t > 0) await yieldToEventLoop();
    throwIfAborted(signal, 'train');
    rng[0] = deriveSeed(seed, t);
    gradients(objective, pred, s, yTrain, n, gh);
    let m = 0;
    if (params.subsample < 1) {
      for (let r = 0; r < n; r++) {
        const take = rngNext(rng) < threshold;
        inSample[r] = take ? 1 : 0;
        if (take) ws.idx[m++] = r;
      }
      if (m === 0) {
        const r = randBelow(rng, n);
        inSample[r] = 1;
        ws.idx[m++] = r;
      }
    }
    const gain = new Float64Array(nFeatures);
    for (let k = 0; k < s; k++) {
      if (params.subsample < 1) {
        // Each tree of the round starts from the round's rows in row order.
        let j = 0;
        for (let r = 0; r < n; r++) if (inSample[r] === 1) ws.idx[j++] = r;
      } else {
        m = n;
        ws.idx.set(allRows);
      }
      let nl = nFeatures;
      if (allCols) for (let f = 0; f < nFeatures; f++) list[f] = f;
      else {
        for (let f = 0; f < nFeatures; f++) perm[f] = f;
        for (let j = 0; j < nCols; j++) {
          const q = j + randBelow(rng, nFeatures - j);
          const tmp = perm[j]!;
          perm[j] = perm[q]!;
          perm[q] = tmp;
        }
        nl = nCols;
        list.set(perm.subarray(0, nCols));
        list.subarray(0, nCols).sort();
      }
      const tree = growBoostTree(data, config, ws, gh[k]!, m, list, nl, allCols, pred, s, k);
      for (let i = 0; i < tree.nNodes; i++)
        if (tree.feature[i]! >= 0) gain[tree.feature[i]!]! += tree.gain[i]!;
      if (params.subsample < 1) {
        for (let r = 0; r < n; r++) {
          if (inSample[r] === 1) continue;
          pred[r * s + k]! += tree.value[binTreeLeaf(tree, rowBins, r * rowStride, binned.missingBin)]!;
        }
      }
      if (validBins) {
        for (let r = 0; r < nValid; r++) {
          predValid[r * s + k]! +=
            tree.value[binTreeLeaf(tree, validBins, r * rowStride, binned.missingBin)]!;
        }
      }
      trees.push(toFlatTree(tree, binned));
    }
    gainByRound.push(gain);
    onProgress?.({ fraction: (t + 1) / rounds, message: `grew ${t + 1}/${rounds} rounds` });
    if (validBins) {
      const loss = meanLoss(objective, predValid, s, yValid!, nValid);
      validationLoss.push(loss);
      if (t === 0 || loss < bestLoss - 1e-7 * Math.max(1, Math.abs(bestLoss))) {
        bestLoss = loss;
        bestRound = t;
      } else if (t - bestRound >= params.nIterNoChange) break;
    }
  }
  const kept = validBins ? bestRound + 1 : gainByRound.length;
  const gain = new Float64Array(nFeatures);
  for (let t = 0; t < kept; t++) for (let f = 0; f < nFeatures; f++) gain[f]! += gainByRound[t]![f]!;
  const ensemble: TreeEnsemble = {
    task,
    nFeatures,
    nOutputs: task === 'classification' ? nClasses : 1,
    mode: 'leq',
    trees: trees.slice(0, kept * s),
    boost: {
      baseScore: base,
      postTransform:
        objective === 'squared_error' ? 'none' : objective === 'logistic' ? 'logistic' : 'softmax',
    },
  };
  return {
    ensemble,
    objective,
    rounds: kept,
    ...(validBins ? { bestIteration: kept, validationLoss } : {}),
    gain,
  };
}
