import type { FlatTree, TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import {
  encodeOnnxModel,
  OnnxAttributeType,
  OnnxDataType,
  utf8,
  type OnnxGraph,
  type OnnxModel,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../../src/formats/onnx/proto.js';
import { createRandom } from '../../src/training/random.js';

/** A seeded generator in [0, 1) (core's mulberry32): the same seed gives the same values on every run. */
export function prng(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export function flatTree(
  feature: number[],
  threshold: number[],
  left: number[],
  right: number[],
  value: number[],
): FlatTree {
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}

/** A stump: `x[feature] (<= | <) threshold` ? leftValue : rightValue. */
export const stump = (
  feature: number,
  threshold: number,
  leftValue: number[],
  rightValue: number[],
): FlatTree =>
  flatTree(
    [feature, -1, -1],
    [threshold, 0, 0],
    [1, -1, -1],
    [2, -1, -1],
    [...leftValue.map(() => 0), ...leftValue, ...rightValue],
  );

/** A threshold drawn from several kinds: plain doubles, exact float32 values, float32 midpoints, halves. */
function randomThreshold(rng: () => number): number {
  const u = rng() * 20 - 10;
  const kind = rng();
  if (kind < 0.4) return u;
  if (kind < 0.6) return Math.fround(u);
  if (kind < 0.8) {
    const a = Math.fround(u);
    const b = new Float32Array([a]);
    const bits = new Int32Array(b.buffer);
    bits[0] = bits[0]! + 1;
    return (a + b[0]!) / 2; // halfway between two float32 neighbours: a rounding tie
  }
  return Math.round(u * 2) / 2;
}

export interface RandomForestSpec {
  seed: number;
  task: 'regression' | 'classification';
  mode: 'leq' | 'lt';
  nTrees?: number;
  maxDepth?: number;
  nFeatures?: number;
  nClasses?: number;
}

/** Random trees laid out breadth-first (children after parents), leaves more likely with depth. */
export function randomForest(spec: RandomForestSpec): TreeEnsemble {
  const rng = prng(spec.seed);
  const nTrees = spec.nTrees ?? 20;
  const maxDepth = spec.maxDepth ?? 10;
  const nFeatures = spec.nFeatures ?? 10;
  const nOutputs = spec.task === 'regression' ? 1 : (spec.nClasses ?? 3);
  const leafValue = (): number[] => {
    if (spec.task === 'regression') return [rng() * 200 - 100];
    if (rng() < 0.3) {
      const hot = Math.floor(rng() * nOutputs);
      return Array.from({ length: nOutputs }, (_, k) => (k === hot ? 1 : 0));
    }
    const raw = Array.from({ length: nOutputs }, () => rng());
    const sum = raw.reduce((s, v) => s + v, 0);
    return raw.map((v) => v / sum);
  };
  const trees: FlatTree[] = [];
  for (let t = 0; t < nTrees; t++) {
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const depth: number[] = [0];
    feature.push(-1);
    for (let i = 0; i < feature.length; i++) {
      const d = depth[i]!;
      const split = d < maxDepth && rng() < (d === 0 ? 1 : 0.85 - d * 0.03);
      if (split) {
        feature[i] = Math.floor(rng() * nFeatures);
        threshold[i] = randomThreshold(rng);
        left[i] = feature.length;
        right[i] = feature.length + 1;
        feature.push(-1, -1);
        depth.push(d + 1, d + 1);
        value.push(...new Array<number>(nOutputs).fill(0));
      } else {
        threshold[i] = 0;
        left[i] = -1;
        right[i] = -1;
        value.push(...leafValue());
      }
    }
    trees.push(flatTree(feature, threshold, left, right, value));
  }
  return { task: spec.task, nFeatures, nOutputs, mode: spec.mode, trees };
}

/**
 * Rows whose values often sit exactly at, or one float32 step around, a threshold of the forest, so
 * the float32 threshold handling is exercised. Returned as float32 (what both paths see).
 */
export function rowsNearThresholds(model: TreeEnsemble, nRows: number, seed: number): Float32Array {
  const rng = prng(seed);
  const byFeature: number[][] = Array.from({ length: model.nFeatures }, () => []);
  for (const tree of model.trees) {
    for (let i = 0; i < tree.feature.length; i++) {
      if (tree.feature[i]! >= 0) byFeature[tree.feature[i]!]!.push(tree.threshold[i]!);
    }
  }
  const x = new Float32Array(nRows * model.nFeatures);
  const step = new Float32Array(1);
  const bits = new Int32Array(step.buffer);
  for (let r = 0; r < nRows; r++) {
    for (let f = 0; f < model.nFeatures; f++) {
      const candidates = byFeature[f]!;
      let v = rng() * 24 - 12;
      if (candidates.length > 0 && rng() < 0.6) {
        v = candidates[Math.floor(rng() * candidates.length)]!;
        step[0] = v;
        const move = Math.floor(rng() * 3) - 1; // one float32 step down, none, or up
        if (step[0] !== 0) bits[0] = bits[0]! + (step[0] > 0 ? move : -move);
        v = step[0];
      }
      x[r * model.nFeatures + f] = v;
    }
  }
  return x;
}

const tensorInfo = (name: string, elemType: number, dims: (number | string | null)[]): OnnxValueInfo => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: {
        dim: dims.map((d) => (d === null ? {} : typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
      },
    },
  },
});

const model = (
  graph: OnnxGraph,
  opsets: { domain: string; version: number }[] = [{ domain: '', version: 17 }],
) => ({ irVersion: 8, opsetImport: opsets, producerName: 'fixtures', graph }) satisfies OnnxModel;

/**
 * A linear regression as skl2onnx-style graphs name things: input `float_input` `[None, nFeatures]`
 * (unnamed batch dimension), `MatMul` with a raw_data weight initializer, `Add` with a float_data bias,
 * output `variable` `[None, 1]`.
 */
export function linearRegressionModel(
  weights: number[],
  bias: number,
  inputName = 'float_input',
): Uint8Array {
  const w = new Float32Array(weights);
  const W: OnnxTensor = {
    name: 'coef',
    dataType: OnnxDataType.FLOAT,
    dims: [weights.length, 1],
    rawData: new Uint8Array(w.buffer),
  };
  const B: OnnxTensor = { name: 'intercept', dataType: OnnxDataType.FLOAT, dims: [1], floatData: [bias] };
  return encodeOnnxModel(
    model({
      name: 'linear',
      node: [
        { opType: 'MatMul', input: [inputName, 'coef'], output: ['mul'], name: 'MatMul' },
        { opType: 'Add', input: ['mul', 'intercept'], output: ['variable'], name: 'Add' },
      ],
      initializer: [W, B],
      input: [tensorInfo(inputName, OnnxDataType.FLOAT, [null, weights.length])],
      output: [tensorInfo('variable', OnnxDataType.FLOAT, [null, 1])],
    }),
  );
}

/**
 * A skl2onnx-style classifier: `LinearClassifier` (integer labels, softmax) whose scores go through
 * `ZipMap`, so the probabilities are only a non-tensor `output_probability`; the label is `output_label`.
 */
export function zipMapClassifierModel(
  coefficients: number[][],
  intercepts: number[],
  labels: number[],
): Uint8Array {
  const nFeatures = coefficients[0]!.length;
  return encodeOnnxModel(
    model(
      {
        name: 'zipmap',
        node: [
          {
            opType: 'LinearClassifier',
            domain: 'ai.onnx.ml',
            input: ['float_input'],
            output: ['output_label', 'scores'],
            attribute: [
              { name: 'classlabels_ints', type: OnnxAttributeType.INTS, ints: labels },
              { name: 'coefficients', type: OnnxAttributeType.FLOATS, floats: coefficients.flat() },
              { name: 'intercepts', type: OnnxAttributeType.FLOATS, floats: intercepts },
              { name: 'post_transform', type: OnnxAttributeType.STRING, s: utf8('SOFTMAX') },
            ],
          },
          {
            opType: 'ZipMap',
            domain: 'ai.onnx.ml',
            input: ['scores'],
            output: ['output_probability'],
            attribute: [{ name: 'classlabels_int64s', type: OnnxAttributeType.INTS, ints: labels }],
          },
        ],
        input: [tensorInfo('float_input', OnnxDataType.FLOAT, [null, nFeatures])],
        output: [
          tensorInfo('output_label', OnnxDataType.INT64, [null]),
          {
            name: 'output_probability',
            type: {
              sequenceType: {
                elemType: {
                  mapType: {
                    keyType: OnnxDataType.INT64,
                    valueType: { tensorType: { elemType: OnnxDataType.FLOAT } },
                  },
                },
              },
            },
          },
        ],
      },
      [
        { domain: '', version: 17 },
        { domain: 'ai.onnx.ml', version: 1 },
      ],
    ),
  );
}

const externalTensor = (name: string, withLocationFlag = true): OnnxTensor => ({
  name,
  dataType: OnnxDataType.FLOAT,
  dims: [3, 1],
  ...(withLocationFlag ? { dataLocation: 1 } : {}),
  externalData: [
    { key: 'location', value: 'weights.bin' },
    { key: 'offset', value: '0' },
    { key: 'length', value: '12' },
  ],
});

/** Variants of a valid model that each reference a file outside the model in a different place. */
export function externalReferenceModels(): Record<string, Uint8Array> {
  const input = [tensorInfo('x', OnnxDataType.FLOAT, [null, 3])];
  const output = [tensorInfo('y', OnnxDataType.FLOAT, [null, 1])];
  const matmul = { opType: 'MatMul', input: ['x', 'w'], output: ['y'] };
  const inlineW: OnnxTensor = { name: 'w', dataType: OnnxDataType.FLOAT, dims: [3, 1], floatData: [1, 2, 3] };
  const build = (graph: Partial<OnnxGraph>, extra: Partial<OnnxModel> = {}): Uint8Array =>
    encodeOnnxModel({
      ...model({ node: [matmul], initializer: [inlineW], input, output, ...graph }),
      ...extra,
    });
  const constantNode = (t: OnnxTensor) => ({
    opType: 'Constant',
    output: ['w'],
    attribute: [{ name: 'value', type: OnnxAttributeType.TENSOR, t }],
  });
  const subgraph: OnnxGraph = {
    name: 'then',
    node: [{ opType: 'Identity', input: ['w_ext'], output: ['then_out'] }],
    initializer: [externalTensor('w_ext')],
    output: [tensorInfo('then_out', OnnxDataType.FLOAT, [3, 1])],
  };
  return {
    'initializer with data_location EXTERNAL': build({ initializer: [externalTensor('w')] }),
    'initializer with external_data entries only': build({ initializer: [externalTensor('w', false)] }),
    'Constant attribute tensor': build({
      initializer: [],
      node: [constantNode(externalTensor('w')), matmul],
    }),
    'initializer inside an If subgraph': build({
      node: [
        matmul,
        {
          opType: 'If',
          input: ['cond'],
          output: ['unused'],
          attribute: [{ name: 'then_branch', type: OnnxAttributeType.GRAPH, g: subgraph }],
        },
      ],
    }),
    'sparse initializer values': build({
      sparseInitializer: [
        {
          values: externalTensor('sw'),
          indices: { name: 'si', dataType: 7, dims: [1], int64Data: [0] },
          dims: [3],
        },
      ],
    }),
    'tensor inside a model-local function': build(
      {},
      { functions: [{ name: 'f', domain: 'local', node: [constantNode(externalTensor('fw'))] }] },
    ),
    'model metadata "location"': build(
      {},
      { metadataProps: [{ key: 'external_data.location', value: 'w.bin' }] },
    ),
    'absolute path in a string attribute': build({
      node: [
        matmul,
        {
          opType: 'Custom',
          domain: 'x',
          output: ['c'],
          attribute: [{ name: 'path', type: OnnxAttributeType.STRING, s: utf8('/etc/passwd') }],
        },
      ],
    }),
    'parent-directory path in graph metadata': build({
      metadataProps: [{ key: 'weights', value: '../../weights.bin' }],
    }),
  };
}
