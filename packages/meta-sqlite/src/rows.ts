import type {
  ColumnInfo,
  DatasetVersion,
  EventPayload,
  EventType,
  Experiment,
  FileRecord,
  HistoryEntry,
  ModelVersion,
  RegisteredModel,
  RegistryEvent,
  Run,
  RunStatus,
} from '@modelreg/core';

export const parseTags = (json: string): Record<string, string> => JSON.parse(json) as Record<string, string>;

export interface ExperimentRow {
  id: string;
  name: string;
  tags: string;
  created_at: number;
}

export const toExperiment = (row: ExperimentRow): Experiment => ({
  id: row.id,
  name: row.name,
  tags: parseTags(row.tags),
  createdAt: row.created_at,
});

export interface RunRow {
  id: string;
  experiment_id: string;
  name: string;
  status: RunStatus;
  parent_run_id: string | null;
  start_time: number;
  end_time: number | null;
}

export interface RunDetails {
  params: Record<string, string>;
  tags: Record<string, string>;
  latestMetrics: Record<string, number>;
}

export const toRun = (row: RunRow, details: RunDetails): Run => ({
  id: row.id,
  experimentId: row.experiment_id,
  name: row.name,
  status: row.status,
  parentRunId: row.parent_run_id,
  startTime: row.start_time,
  endTime: row.end_time,
  params: details.params,
  tags: details.tags,
  latestMetrics: details.latestMetrics,
});

export interface FileRow {
  path: string;
  key: string;
  sha256: string;
  size: number;
}

export const toFile = (row: FileRow): FileRecord => ({
  path: row.path,
  key: row.key,
  sha256: row.sha256,
  size: row.size,
});

export interface ModelRow {
  name: string;
  description: string;
  tags: string;
  last_version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export const toModel = (row: ModelRow, aliases: Record<string, number>): RegisteredModel => ({
  name: row.name,
  description: row.description,
  tags: parseTags(row.tags),
  aliases,
  lastVersion: row.last_version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface VersionRow {
  name: string;
  version: number;
  stage: string;
  source: string;
  run_id: string | null;
  files: string;
  description: string;
  tags: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export const toVersion = (row: VersionRow, aliases: string[]): ModelVersion => ({
  name: row.name,
  version: row.version,
  stage: row.stage,
  source: row.source,
  runId: row.run_id,
  files: JSON.parse(row.files) as FileRecord[],
  description: row.description,
  tags: parseTags(row.tags),
  aliases,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  deletedAt: row.deleted_at,
});

export interface HistoryRow {
  id: number;
  name: string;
  kind: HistoryEntry['kind'];
  version: number;
  from_stage: string | null;
  to_stage: string | null;
  alias: string | null;
  from_version: number | null;
  actor: string;
  comment: string;
  time: number;
}

export const toHistory = (row: HistoryRow): HistoryEntry => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  version: row.version,
  fromStage: row.from_stage,
  toStage: row.to_stage,
  alias: row.alias,
  fromVersion: row.from_version,
  actor: row.actor,
  comment: row.comment,
  time: row.time,
});

export interface DatasetRow {
  name: string;
  version: number;
  sha256: string;
  size: number;
  rows: number;
  columns: string;
  key: string;
  original_name: string;
  created_at: number;
  deleted_at: number | null;
}

export const toDataset = (row: DatasetRow): DatasetVersion => ({
  name: row.name,
  version: row.version,
  sha256: row.sha256,
  size: row.size,
  rows: row.rows,
  columns: JSON.parse(row.columns) as ColumnInfo[],
  key: row.key,
  originalName: row.original_name,
  createdAt: row.created_at,
  deletedAt: row.deleted_at,
});

export interface EventRow {
  seq: number;
  type: EventType;
  time: number;
  payload: string;
}

export const toEvent = (row: EventRow): RegistryEvent => ({
  seq: row.seq,
  type: row.type,
  time: row.time,
  payload: JSON.parse(row.payload) as EventPayload,
});
