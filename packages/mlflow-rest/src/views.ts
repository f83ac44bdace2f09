import type { Experiment, MetricPoint, ModelVersion, RegisteredModel, Run, RunStatus } from '@modelreg/core';
import { invalidParameter } from './errors.js';

/**
 * MLflow's experiment ids are strings of digits; modelreg's are 32 hex characters. The mapping is the
 * hex id read as a 128-bit number, written in decimal (reversible, no table), and the experiment named
 * `Default` is `0`, the id MLflow clients use when no experiment is set.
 */
export const DEFAULT_EXPERIMENT = 'Default';

export function toMlflowExperimentId(experiment: Pick<Experiment, 'id' | 'name'>): string {
  if (experiment.name === DEFAULT_EXPERIMENT) return '0';
  if (/^[0-9a-f]{32}$/.test(experiment.id)) return BigInt(`0x${experiment.id}`).toString(10);
  // Not a modelreg-made id (never written by this registry): digits of its UTF-8 bytes.
  return BigInt(`0x1${Buffer.from(experiment.id, 'utf8').toString('hex')}`).toString(10);
}

/** The modelreg id of an MLflow experiment id, or `'default'` for `0`; INVALID_PARAMETER_VALUE when not digits. */
export function fromMlflowExperimentId(id: unknown, field = 'experiment_id'): { id: string } | 'default' {
  if (typeof id !== 'string' && typeof id !== 'number') {
    throw invalidParameter(`Missing value for required parameter '${field}'`);
  }
  const s = String(id);
  if (!/^\d{1,40}$/.test(s)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(s)} for parameter '${field}': experiment ids are digits`,
    );
  }
  if (/^0+$/.test(s)) return 'default';
  const n = BigInt(s);
  const hex = n.toString(16);
  if (hex.length <= 32) return { id: hex.padStart(32, '0') };
  if (hex.startsWith('1')) return { id: Buffer.from(hex.slice(1), 'hex').toString('utf8') };
  return { id: '' };
}

export const artifactRoot = (experimentId: string, runId: string): string =>
  `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;

const statusOut: Record<RunStatus, string> = {
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED',
};
export const mlflowStatus = (s: RunStatus): string => statusOut[s];

/** MLflow's `lifecycle_stage` of an experiment or run. */
export const lifecycleStage = (x: { deletedAt: number | null }): 'active' | 'deleted' =>
  x.deletedAt === null ? 'active' : 'deleted';

export function experimentView(e: Experiment): Record<string, unknown> {
  const id = toMlflowExperimentId(e);
  return {
    experiment_id: id,
    name: e.name,
    artifact_location: `mlflow-artifacts:/${id}`,
    lifecycle_stage: lifecycleStage(e),
    creation_time: e.createdAt,
    last_update_time: e.deletedAt ?? e.createdAt,
    tags: keyValues(e.tags),
  };
}

export const keyValues = (record: Record<string, string>): { key: string; value: string }[] =>
  Object.entries(record).map(([key, value]) => ({ key, value }));

export const runName = (run: Run): string => run.tags['mlflow.runName'] ?? run.name;

export function runInfoView(run: Run, experimentId: string): Record<string, unknown> {
  return {
    run_id: run.id,
    run_uuid: run.id,
    run_name: runName(run),
    experiment_id: experimentId,
    user_id: run.tags['mlflow.user'] ?? '',
    status: mlflowStatus(run.status),
    start_time: run.startTime,
    ...(run.endTime === null ? {} : { end_time: run.endTime }),
    artifact_uri: artifactRoot(experimentId, run.id),
    lifecycle_stage: lifecycleStage(run),
  };
}

/** The run with, per metric, the latest point (value, step and timestamp) as MLflow shows it. */
export function runView(
  run: Run,
  experimentId: string,
  latest: Map<string, MetricPoint>,
  datasetInputs: unknown[] = [],
): Record<string, unknown> {
  return {
    info: runInfoView(run, experimentId),
    data: {
      metrics: Object.entries(run.latestMetrics).map(([key, value]) => {
        const p = latest.get(key);
        return { key, value, timestamp: p?.timestamp ?? run.startTime, step: p?.step ?? 0 };
      }),
      params: keyValues(run.params),
      tags: keyValues(run.tags),
    },
    inputs: { dataset_inputs: datasetInputs },
  };
}

/** The latest point of a history: highest step, then latest timestamp, then last logged (as core's `latestMetrics`). */
export function latestPoint(history: MetricPoint[]): MetricPoint | undefined {
  let best: MetricPoint | undefined;
  for (const p of history) {
    if (!best || p.step > best.step || (p.step === best.step && p.timestamp >= best.timestamp)) best = p;
  }
  return best;
}

/** modelreg stage (one of the configured ones) -> MLflow's `current_stage`. */
export function mlflowStage(stage: string, stages: readonly string[]): string {
  const known: Record<string, string> = {
    none: 'None',
    staging: 'Staging',
    production: 'Production',
    archived: 'Archived',
  };
  return known[stage.toLowerCase()] ?? (stages.includes(stage) ? stage : 'None');
}

export function modelVersionView(
  v: ModelVersion,
  stages: readonly string[],
  runExperiment?: string,
): Record<string, unknown> {
  const source =
    v.runId !== null && runExperiment !== undefined && v.source.startsWith('runs:/')
      ? `${artifactRoot(runExperiment, v.runId)}/${v.source.split('/').slice(2).join('/')}`
      : v.source;
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    current_stage: mlflowStage(v.stage, stages),
    description: v.description,
    source,
    ...(v.runId === null ? {} : { run_id: v.runId }),
    status: 'READY',
    tags: keyValues(v.tags),
    aliases: v.aliases,
  };
}

export function registeredModelView(
  m: RegisteredModel,
  latest: Record<string, unknown>[],
): Record<string, unknown> {
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    description: m.description,
    latest_versions: latest,
    tags: keyValues(m.tags),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
  };
}
