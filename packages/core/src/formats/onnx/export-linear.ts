import { RegistryError } from '../../errors.js';
import { designOffsets } from '../linear.js';
import type { LinearModelJson } from '../linear.js';
import type { OnnxModelInfo } from './inspect.js';
import { ONNX_EXPORT_IR_VERSION, ONNX_EXPORT_OPSETS } from './export-tree-ensemble.js';
import {
  encodeOnnxModelFast,
  OnnxAttributeType,
  OnnxDataType,
  utf8,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './proto.js';

export interface ExportLinearOptions {
  /** Class labels in class-index order (classification): strings or safe integers. Default `0..k-1`. */
  classes?: readonly string[] | readonly number[];
  producer?: string;
  producerVersion?: string;
}

const WHERE = 'onnx';
const bad = (message: string): RegistryError =>
  new RegistryError('INVALID_ARGUMENT', message, { where: WHERE });

const ints = (name: string, values: number[]): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.INTS,
  ints: values,
});
const floats = (name: string, values: number[]): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.FLOATS,
  floats: values,
});
const str = (name: string, value: string): OnnxAttribute => ({
  name,
  type: OnnxAttributeType.STRING,
  s: utf8(value),
});
const int = (name: string, value: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i: value });
const int64Tensor = (name: string, values: number[]): OnnxTensor => ({
  name,
  dataType: OnnxDataType.INT64,
  dims: [values.length],
  int64Data: values,
});

function tensorInfo(name: string, elemType: number, dims: (number | string)[]): OnnxValueInfo {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function classLabels(
  model: LinearModelJson,
  classes: ExportLinearOptions['classes'],
): { strings: string[] } | { ints: number[] } {
  const k = model.link === 'logistic' ? 2 : model.coef.length;
  const list = classes ?? Array.from({ length: k }, (_, i) => i);
  if (list.length !== k) throw bad(`classes has ${list.length} labels but the model has ${k} classes`);
  if (list.every((c): c is string => typeof c === 'string')) return { strings: [...list] };
  if (list.every((c): c is number => typeof c === 'number' && Number.isSafeInteger(c)))
    return { ints: [...list] };
  throw bad('class labels must be all strings or all safe integers');
}

/**
 * The nodes that turn the float input `[N, nFeatures]` into the design rows `[N, width]` (see
 * `LINEAR_KIND`): a `Scaler` standardises the numeric columns (categorical ones pass through with
 * offset 0, scale 1); when there are categorical columns, a `Gather` takes the numeric block and each
 * categorical column goes through `OneHotEncoder` (its codes, zeros for any other value) and a
 * `Reshape` to `[N, codes]`, and a `Concat` joins the blocks in design order.
 */
function designNodes(
  model: LinearModelJson,
  inputName: string,
): { nodes: OnnxNode[]; initializer: OnnxTensor[] } {
  const { inputs } = model;
  const offset = inputs.map((i) => (i.type === 'numeric' ? i.mean : 0));
  const scale = inputs.map((i) => (i.type === 'numeric' ? 1 / i.scale : 1));
  const nodes: OnnxNode[] = [
    {
      input: [inputName],
      output: ['scaled'],
      name: 'Scaler',
      opType: 'Scaler',
      domain: 'ai.onnx.ml',
      attribute: [floats('offset', offset), floats('scale', scale)],
    },
  ];
  const initializer: OnnxTensor[] = [];
  const numeric = inputs.flatMap((i, j) => (i.type === 'numeric' ? [j] : []));
  if (numeric.length === inputs.length) {
    nodes.push({ input: ['scaled'], output: ['design'], name: 'Design', opType: 'Identity' });
    return { nodes, initializer };
  }
  const blocks: string[] = [];
  if (numeric.length > 0) {
    initializer.push(int64Tensor('numeric_columns', numeric));
    nodes.push({
      input: ['scaled', 'numeric_columns'],
      output: ['numeric_block'],
      name: 'GatherNumeric',
      opType: 'Gather',
      attribute: [int('axis', 1)],
    });
    blocks.push('numeric_block');
  }
  inputs.forEach((input, j) => {
    if (input.type !== 'onehot') return;
    initializer.push(int64Tensor(`column_${j}`, [j]), int64Tensor(`shape_${j}`, [-1, input.codes]));
    nodes.push(
      {
        input: [inputName, `column_${j}`],
        output: [`codes_${j}`],
        name: `GatherColumn_${j}`,
        opType: 'Gather',
        attribute: [int('axis', 1)],
      },
      {
        input: [`codes_${j}`],
        output: [`onehot3_${j}`],
        name: `OneHotEncoder_${j}`,
        opType: 'OneHotEncoder',
        domain: 'ai.onnx.ml',
        attribute: [
          ints(
            'cats_int64s',
            Array.from({ length: input.codes }, (_, c) => c),
          ),
          int('zeros', 1),
        ],
      },
      {
        input: [`onehot3_${j}`, `shape_${j}`],
        output: [`onehot_${j}`],
        name: `Reshape_${j}`,
        opType: 'Reshape',
      },
    );
    blocks.push(`onehot_${j}`);
  });
  nodes.push({
    input: blocks,
    output: ['design'],
    name: 'Concat',
    opType: 'Concat',
    attribute: [int('axis', 1)],
  });
  return { nodes, initializer };
}

/** The interface of the model {@link exportLinearToOnnx} writes (what `inspectOnnxModel` would read). */
export function exportedLinearInfo(
  model: LinearModelJson,
  labels: readonly string[] | readonly number[] | undefined,
  nodeCount: number,
): OnnxModelInfo {
  const k = model.link === 'logistic' ? 2 : model.coef.length;
  const outputs: OnnxModelInfo['outputs'] =
    model.task === 'regression'
      ? [{ name: 'variable', kind: 'tensor', elemType: 'float', shape: ['N', 1] }]
      : [
          {
            name: 'label',
            kind: 'tensor',
            elemType: labels?.length && labels.every((l) => typeof l === 'string') ? 'string' : 'int64',
            shape: ['N'],
          },
          { name: 'probabilities', kind: 'tensor', elemType: 'float', shape: ['N', k] },
        ];
  return {
    irVersion: ONNX_EXPORT_IR_VERSION,
    opsets: ONNX_EXPORT_OPSETS.map((o) => ({ ...o })),
    producer: 'modelreg',
    producerVersion: '',
    inputs: [{ name: 'input', kind: 'tensor', elemType: 'float', shape: ['N', model.inputs.length] }],
    outputs,
    metadata: {},
    nodeCount,
  };
}

/**
 * Exports a linear model (see `LINEAR_KIND`) as ONNX: the design nodes (`Scaler`, and for categorical
 * inputs `Gather` / `OneHotEncoder` / `Reshape` / `Concat`), then `ai.onnx.ml` `LinearRegressor`
 * (output `variable`, float `[N, 1]`) or `LinearClassifier` with the `SOFTMAX` post-transform
 * (outputs `label` and `probabilities`, float `[N, nClasses]`). Two classes are written as two score
 * rows `[0, w]` and `[0, b]`, whose softmax is exactly the logistic `[1 - p, p]`. Input: float
 * `[N, nFeatures]` named `input`, the encoded features as the native model takes them.
 */
export function exportLinearToOnnx(
  model: LinearModelJson,
  options: ExportLinearOptions = {},
): { bytes: Uint8Array; nodeCount: number } {
  const inputName = 'input';
  const width = model.coef[0]!.length;
  designOffsets(model.inputs); // validates the layout of the inputs
  const { nodes, initializer } = designNodes(model, inputName);
  const input = [tensorInfo(inputName, OnnxDataType.FLOAT, ['N', model.inputs.length])];
  let output: OnnxValueInfo[];
  if (model.task === 'regression') {
    nodes.push({
      input: ['design'],
      output: ['variable'],
      name: 'LinearRegressor',
      opType: 'LinearRegressor',
      domain: 'ai.onnx.ml',
      attribute: [
        floats('coefficients', model.coef[0]!),
        floats('intercepts', model.intercept),
        int('targets', 1),
        str('post_transform', 'NONE'),
      ],
    });
    output = [tensorInfo('variable', OnnxDataType.FLOAT, ['N', 1])];
  } else {
    const labels = classLabels(model, options.classes);
    const binary = model.link === 'logistic';
    const coef = binary ? [...new Array<number>(width).fill(0), ...model.coef[0]!] : model.coef.flat();
    const intercepts = binary ? [0, model.intercept[0]!] : model.intercept;
    nodes.push({
      input: ['design'],
      output: ['label', 'probabilities'],
      name: 'LinearClassifier',
      opType: 'LinearClassifier',
      domain: 'ai.onnx.ml',
      attribute: [
        'strings' in labels
          ? {
              name: 'classlabels_strings',
              type: OnnxAttributeType.STRINGS,
              strings: labels.strings.map(utf8),
            }
          : ints('classlabels_ints', labels.ints),
        floats('coefficients', coef),
        floats('intercepts', intercepts),
        int('multi_class', 0),
        str('post_transform', 'SOFTMAX'),
      ],
    });
    const k = binary ? 2 : model.coef.length;
    output = [
      tensorInfo('label', 'strings' in labels ? OnnxDataType.STRING : OnnxDataType.INT64, ['N']),
      tensorInfo('probabilities', OnnxDataType.FLOAT, ['N', k]),
    ];
  }
  const bytes = encodeOnnxModelFast({
    irVersion: ONNX_EXPORT_IR_VERSION,
    opsetImport: ONNX_EXPORT_OPSETS.map((o) => ({ ...o })),
    producerName: options.producer ?? 'modelreg',
    ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
    graph: { name: `modelreg_linear_${model.task}`, node: nodes, initializer, input, output },
  });
  return { bytes, nodeCount: nodes.length };
}
