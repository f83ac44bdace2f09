import { sqlRowMappers } from '@modelreg/core';
import type { ModelVersion, RegisteredModel, Run, SqlRows } from '@modelreg/core';

/** `bigint` columns arrive as strings (pg does not narrow them to numbers); `jsonb` arrives parsed. */
type Rows = SqlRows<string | number, unknown>;
const rows = sqlRowMappers<string | number, unknown>({ int: Number, json: (value) => value });

export type ExperimentRow = Rows['experiment'];
export type MetricRow = Rows['metric'];
export type FileRow = Rows['file'];
export type HistoryRow = Rows['history'];
export type DatasetRow = Rows['dataset'];
export type EventRow = Rows['event'];
/** A run row holds its params, tags and latest metrics as jsonb. */
export type RunRow = Rows['run'] & {
  params: Record<string, string>;
  tags: Record<string, string>;
  latest_metrics: Record<string, number>;
};
/** A model row with its aliases as a JSON object (see `modelColumns`). */
export type ModelRow = Rows['model'] & { aliases: Record<string, number> };
/** A version row with the names of the aliases pointing at it (see `versionColumns`). */
export type VersionRow = Rows['version'] & { aliases: string[] };

export const {
  experiment: toExperiment,
  metric: toMetricPoint,
  file: toFileRecord,
  history: toHistoryEntry,
  dataset: toDataset,
  event: toEvent,
} = rows;
export const toRun = (r: RunRow): Run =>
  rows.run(r, { params: r.params, tags: r.tags, latestMetrics: r.latest_metrics });
export const toModel = (r: ModelRow): RegisteredModel => rows.model(r, r.aliases);
export const toVersion = (r: VersionRow): ModelVersion => rows.version(r, r.aliases);

/** Columns of a model row plus its aliases as a JSON object; `m` must alias the models table. */
export const modelColumns = (
  s: string,
): string => `m.name, m.description, m.tags, m.last_version, m.created_at,
  m.updated_at, COALESCE((SELECT jsonb_object_agg(a.alias, a.version) FROM ${s}.aliases a
  WHERE a.model_name = m.name), '{}'::jsonb) AS aliases`;

/** Columns of a version row (`model_name AS name`) plus the names of the aliases pointing at it; `v` must alias model_versions. */
export const versionColumns = (
  s: string,
): string => `v.model_name AS name, v.version, v.stage, v.source, v.run_id,
  v.files, v.description, v.tags, v.created_at, v.updated_at, v.deleted_at,
  ARRAY(SELECT a.alias FROM ${s}.aliases a WHERE a.model_name = v.model_name AND a.version = v.version
  ORDER BY a.alias COLLATE "C") AS aliases`;
