import { storeRules } from '@modelreg/core';
import type {
  ColumnInfo,
  DatasetVersion,
  EventPayload,
  EventType,
  Experiment,
  FileRecord,
  HistoryEntry,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  RegistryEvent,
  Run,
  RunStatus,
} from '@modelreg/core';

/** `bigint` columns arrive as strings (pg does not narrow them to numbers); all of ours fit in 2^53. */
type Int8 = string | number;

const num = (value: Int8): number => Number(value);
const numOrNull = (value: Int8 | null): number | null => (value === null ? null : Number(value));

export interface ExperimentRow {
  id: string;
  name: string;
  tags: Record<string, string>;
  created_at: Int8;
}
export const toExperiment = (r: ExperimentRow): Experiment => ({
  id: r.id,
  name: r.name,
  tags: r.tags,
  createdAt: num(r.created_at),
});

export interface RunRow {
  id: string;
  experiment_id: string;
  name: string;
  status: RunStatus;
  parent_run_id: string | null;
  start_time: Int8;
  end_time: Int8 | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  latest_metrics: Record<string, number>;
}
export const toRun = (r: RunRow): Run => ({
  id: r.id,
  experimentId: r.experiment_id,
  name: r.name,
  status: r.status,
  parentRunId: r.parent_run_id,
  startTime: num(r.start_time),
  endTime: numOrNull(r.end_time),
  params: r.params,
  tags: r.tags,
  latestMetrics: r.latest_metrics,
});

export interface MetricRow {
  key: string;
  value: number;
  step: Int8;
  time: Int8;
}
export const toMetricPoint = (r: MetricRow): MetricPoint => ({
  key: r.key,
  value: r.value,
  step: num(r.step),
  timestamp: num(r.time),
});

export interface FileRow {
  path: string;
  key: string;
  sha256: string;
  size: Int8;
}
export const toFileRecord = (r: FileRow): FileRecord => ({
  path: r.path,
  key: r.key,
  sha256: r.sha256,
  size: num(r.size),
});

/** Columns of a model row plus its aliases as a JSON object; `m` must alias the models table. */
export const modelColumns = (
  s: string,
): string => `m.name, m.description, m.tags, m.last_version, m.created_at,
  m.updated_at, COALESCE((SELECT jsonb_object_agg(a.alias, a.version) FROM ${s}.aliases a
  WHERE a.model_name = m.name), '{}'::jsonb) AS aliases`;

export interface ModelRow {
  name: string;
  description: string;
  tags: Record<string, string>;
  last_version: Int8;
  created_at: Int8;
  updated_at: Int8;
  aliases: Record<string, number>;
}
export const toModel = (r: ModelRow): RegisteredModel => ({
  name: r.name,
  description: r.description,
  tags: r.tags,
  aliases: Object.fromEntries(Object.entries(r.aliases).sort(([a], [b]) => storeRules.compareText(a, b))),
  lastVersion: num(r.last_version),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

/** Columns of a version row plus the names of the aliases pointing at it; `v` must alias model_versions. */
export const versionColumns = (s: string): string => `v.model_name, v.version, v.stage, v.source, v.run_id,
  v.files, v.description, v.tags, v.created_at, v.updated_at, v.deleted_at,
  ARRAY(SELECT a.alias FROM ${s}.aliases a WHERE a.model_name = v.model_name AND a.version = v.version
  ORDER BY a.alias COLLATE "C") AS aliases`;

export interface VersionRow {
  model_name: string;
  version: Int8;
  stage: string;
  source: string;
  run_id: string | null;
  files: FileRecord[];
  description: string;
  tags: Record<string, string>;
  created_at: Int8;
  updated_at: Int8;
  deleted_at: Int8 | null;
  aliases: string[];
}
export const toVersion = (r: VersionRow): ModelVersion => ({
  name: r.model_name,
  version: num(r.version),
  stage: r.stage,
  source: r.source,
  runId: r.run_id,
  files: r.files,
  description: r.description,
  tags: r.tags,
  aliases: r.aliases,
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
  deletedAt: numOrNull(r.deleted_at),
});

export interface HistoryRow {
  id: Int8;
  model_name: string;
  kind: HistoryEntry['kind'];
  version: Int8;
  from_stage: string | null;
  to_stage: string | null;
  alias: string | null;
  from_version: Int8 | null;
  actor: string;
  comment: string;
  time: Int8;
}
export const toHistoryEntry = (r: HistoryRow): HistoryEntry => ({
  id: num(r.id),
  name: r.model_name,
  kind: r.kind,
  version: num(r.version),
  fromStage: r.from_stage,
  toStage: r.to_stage,
  alias: r.alias,
  fromVersion: numOrNull(r.from_version),
  actor: r.actor,
  comment: r.comment,
  time: num(r.time),
});

export interface DatasetRow {
  name: string;
  version: Int8;
  sha256: string;
  size: Int8;
  row_count: Int8;
  columns: ColumnInfo[];
  key: string;
  original_name: string;
  created_at: Int8;
  deleted_at: Int8 | null;
}
export const toDataset = (r: DatasetRow): DatasetVersion => ({
  name: r.name,
  version: num(r.version),
  sha256: r.sha256,
  size: num(r.size),
  rows: num(r.row_count),
  columns: r.columns,
  key: r.key,
  originalName: r.original_name,
  createdAt: num(r.created_at),
  deletedAt: numOrNull(r.deleted_at),
});

export interface EventRow {
  seq: Int8;
  type: EventType;
  time: Int8;
  payload: EventPayload;
}
export const toEvent = (r: EventRow): RegistryEvent => ({
  seq: num(r.seq),
  type: r.type,
  time: num(r.time),
  payload: r.payload,
});
