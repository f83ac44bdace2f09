import { createHash } from 'node:crypto';
import type { ModelRegistry, Run } from '@modelreg/core';
import { invalidParameter } from './errors.js';
import { keyValueList, optionalString, requiredString } from './params.js';

/**
 * MLflow dataset inputs (`runs/log-inputs`, service.proto `LogInputs` / `DatasetInput` / `Dataset`).
 * Each input is kept whole as one JSON file among the run's artifacts, under {@link INPUTS_DIR},
 * named `<n>-<hash of (name, digest)>.json`: MLflow identifies a dataset by name and digest, so
 * logging the same dataset again changes nothing, and `n` keeps the order they were first logged in. The run's {@link INPUTS_TAG} counts them, so a run without inputs costs no artifact read.
 */
export const INPUTS_DIR = 'mlflow-inputs';
export const INPUTS_TAG = 'modelreg.mlflow.inputs';

/** MLflow's limits on a dataset's fields (mlflow/utils/validation.py). */
const limits = {
  name: 500,
  digest: 36,
  source_type: 36,
  source: 65535,
  schema: 1_048_575,
  profile: 16_777_215,
};

interface DatasetInput {
  tags: { key: string; value: string }[];
  dataset: Record<string, string>;
}

function checkedLength(value: string, field: keyof typeof limits, where: string): string {
  if (value.length > limits[field]) {
    throw invalidParameter(
      `'${where}.dataset.${field}' is ${value.length} characters long; the limit is ${limits[field]}`,
    );
  }
  return value;
}

/** The `datasets` of a LogInputs request, checked as MLflow does. */
export function parseDatasetInputs(datasets: unknown): DatasetInput[] {
  if (datasets === undefined || datasets === null) return [];
  if (!Array.isArray(datasets))
    throw invalidParameter("Invalid value for parameter 'datasets' supplied: expected a list");
  return datasets.map((item: unknown, i) => {
    const where = `datasets[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw invalidParameter(`Invalid value for parameter '${where}': expected { dataset, tags }`);
    const input = item as Record<string, unknown>;
    const d = input['dataset'];
    if (typeof d !== 'object' || d === null || Array.isArray(d))
      throw invalidParameter(`Missing value for required parameter '${where}.dataset'`);
    const fields = d as Record<string, unknown>;
    const dataset: Record<string, string> = {};
    for (const field of ['name', 'digest', 'source_type', 'source'] as const) {
      dataset[field] = checkedLength(requiredString(fields, field), field, where);
    }
    for (const field of ['schema', 'profile'] as const) {
      const value = optionalString(fields, field);
      if (value !== undefined) dataset[field] = checkedLength(value, field, where);
    }
    const tags = Object.entries(keyValueList(input, 'tags')).map(([key, value]) => ({ key, value }));
    return { tags, dataset };
  });
}

const identity = (dataset: Record<string, string>): string =>
  createHash('sha256').update(`${dataset['name']}\0${dataset['digest']}`).digest('hex').slice(0, 32);

/** `n` and identity of a stored input's path. */
function parsePath(path: string): { n: number; id: string } | undefined {
  const m = /^mlflow-inputs\/(\d+)-([0-9a-f]{32})\.json$/.exec(path);
  return m ? { n: Number(m[1]), id: m[2]! } : undefined;
}

/** Stores the inputs a run does not have yet (by name and digest) and updates its count tag. */
export async function logDatasetInputs(
  registry: ModelRegistry,
  run: Run,
  inputs: DatasetInput[],
): Promise<void> {
  if (inputs.length === 0) return;
  const handle = await registry.openRun(run.id);
  const stored = (await handle.listArtifacts(`${INPUTS_DIR}/`)).map((f) => parsePath(f.path));
  const have = new Set(stored.map((p) => p?.id));
  let next = stored.reduce((n, p) => Math.max(n, (p?.n ?? 0) + 1), 0);
  for (const input of inputs) {
    const id = identity(input.dataset);
    if (have.has(id)) continue;
    await handle.logArtifact(
      `${INPUTS_DIR}/${next++}-${id}.json`,
      new TextEncoder().encode(JSON.stringify(input)),
    );
    have.add(id);
  }
  await handle.setTag(INPUTS_TAG, String(next));
}

/** A run's dataset inputs as MLflow's `RunInputs.dataset_inputs`, in the order they were first logged. */
export async function datasetInputsOf(registry: ModelRegistry, run: Run): Promise<DatasetInput[]> {
  if (run.tags[INPUTS_TAG] === undefined) return [];
  const files = await (await registry.openRun(run.id)).listArtifacts(`${INPUTS_DIR}/`);
  const ordered = files
    .map((f) => ({ f, at: parsePath(f.path) }))
    .filter((x) => x.at !== undefined)
    .sort((a, b) => a.at!.n - b.at!.n);
  const inputs: DatasetInput[] = [];
  for (const { f: file } of ordered) {
    const bytes = await registry.stores.artifacts.get(file.key);
    if (bytes) inputs.push(JSON.parse(new TextDecoder().decode(bytes)) as DatasetInput);
  }
  return inputs;
}
