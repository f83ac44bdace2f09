import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryArtifactStore,
  createMemoryMetadataStore,
  ModelRegistry,
  RegistryError,
} from '../../src/index.js';

// A scikit-learn LogisticRegression on iris as ONNX, and scikit-learn's own predictions for some rows.
const fixtures = new URL('../../../../examples/express-server/test/fixtures/', import.meta.url);
const onnx = readFileSync(new URL('iris-logreg.onnx', fixtures));
const expected = JSON.parse(readFileSync(new URL('iris-logreg.expected.json', fixtures), 'utf8')) as {
  features: string[];
  rows: number[][];
  predictions: string[];
  probabilities: number[][];
};

const columns = JSON.stringify(expected.features.map((name) => ({ type: 'double', name, required: true })));

/** The MLmodel file that `mlflow.onnx.log_model(..., signature=infer_signature(X, y))` writes. */
const onnxMlmodel = (inputs: string) => `artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_version: 1.16.0
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.4
mlflow_version: 2.9.2
model_uuid: 6b0cf1d8a0b54e1e9c1f3a0a5e0c1d2e
run_id: 0f4d6a1c2b3e4f5a6b7c8d9e0f1a2b3c
signature:
  inputs: '${inputs}'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-01-05 10:11:12.123456'
`;

const sklearnMlmodel = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.4
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.2
mlflow_version: 2.9.2
`;

describe('models logged by MLflow clients (an MLmodel folder)', () => {
  let registry: ModelRegistry;

  const logFolder = async (name: string, files: Record<string, string | Uint8Array>) => {
    const run = await registry.startRun({ experiment: 'mlflow' });
    for (const [path, body] of Object.entries(files)) await run.logArtifact(`model/${path}`, body);
    await run.end();
    return registry.registerModel(name, { runId: run.id });
  };

  beforeAll(async () => {
    registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: createMemoryArtifactStore(),
    });
  });
  afterAll(async () => {
    await registry.close();
  });

  it('the onnx flavor loads and predicts through registry.load, with input names from the MLmodel signature', async () => {
    await logFolder('iris_mlflow', {
      MLmodel: onnxMlmodel(columns),
      'model.onnx': onnx,
      'conda.yaml': 'name: mlflow-env\n',
      'requirements.txt': 'onnx\n',
    });
    await registry.transitionStage('iris_mlflow', 1, 'production');
    const model = await registry.load('models:/iris_mlflow/production');
    expect(model.format).toBe('onnx');
    expect(model.task).toBe('classification');
    expect(model.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(model.signature.inputs.map((i) => i.name)).toEqual(expected.features);
    expect(model.manifest.trainer).toEqual({
      name: 'mlflow',
      params: { flavor: 'onnx', onnx_version: '1.16.0', mlflow_version: '2.9.2' },
    });
    const records = expected.rows.map((r) => Object.fromEntries(expected.features.map((f, i) => [f, r[i]!])));
    expect(await model.predict(records)).toEqual(expected.predictions);
    const proba = await model.predictProba(expected.rows);
    proba.forEach((p, i) => {
      expected.probabilities[i]!.forEach((q, j) => expect(p[model.classes![j] as string]).toBeCloseTo(q, 4));
    });
  });

  it('a tensor signature names the inputs x0..x{n-1} from the ONNX width', async () => {
    const tensor = JSON.stringify([{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } }]);
    await logFolder('iris_tensor', { MLmodel: onnxMlmodel(tensor), 'model.onnx': onnx });
    const model = await registry.load('models:/iris_tensor/1');
    expect(model.signature.inputs.map((i) => i.name)).toEqual(['x0', 'x1', 'x2', 'x3']);
    expect(await model.predict(expected.rows.slice(0, 3))).toEqual(expected.predictions.slice(0, 3));
  });

  it('pickle flavors register, but load is UNSUPPORTED naming why', async () => {
    const version = await logFolder('iris_pickle', {
      MLmodel: sklearnMlmodel,
      'model.pkl': 'not unpickled, ever',
    });
    expect(version.version).toBe(1);
    const refused = await registry.load('models:/iris_pickle/1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryError);
    expect((refused as RegistryError).code).toBe('UNSUPPORTED');
    expect((refused as RegistryError).message).toMatch(
      /python_function, sklearn stored as .*model\.pkl.*cloudpickle/,
    );
    expect((refused as RegistryError).message).toContain('a model is data, never code');
  });

  it('a signature that does not match the ONNX width, or string inputs, are refused at load', async () => {
    const three = JSON.stringify(expected.features.slice(0, 3).map((name) => ({ type: 'double', name })));
    await logFolder('iris_narrow', { MLmodel: onnxMlmodel(three), 'model.onnx': onnx });
    await expect(registry.load('models:/iris_narrow/1')).rejects.toThrow(
      /lists 3 inputs but the ONNX input .* is 4 wide/,
    );
    const strings = JSON.stringify(expected.features.map((name) => ({ type: 'string', name })));
    await logFolder('iris_strings', { MLmodel: onnxMlmodel(strings), 'model.onnx': onnx });
    await expect(registry.load('models:/iris_strings/1')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await logFolder('iris_badyaml', { MLmodel: 'flavors: [unclosed', 'model.onnx': onnx });
    await expect(registry.load('models:/iris_badyaml/1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
