import type * as domain from '../domain/types.js';
import { compareText } from './rules.js';

/**
 * The rows a SQL metadata store reads, by the column names of meta-sqlite's tables (a store whose
 * tables name a column otherwise selects it `AS` this name). `Int` is how its driver returns an
 * integer column, `Json` how it returns a JSON column (text, or a value already parsed).
 */
export interface SqlRows<Int, Json> {
  experiment: { id: string; name: string; tags: Json; created_at: Int; deleted_at: Int | null };
  run: {
    id: string;
    experiment_id: string;
    name: string;
    status: domain.RunStatus;
    parent_run_id: string | null;
    start_time: Int;
    end_time: Int | null;
    deleted_at: Int | null;
  };
  metric: { key: string; value: number; step: Int; timestamp: Int };
  file: { path: string; key: string; sha256: string; size: Int };
  model: {
    name: string;
    description: string;
    tags: Json;
    last_version: Int;
    created_at: Int;
    updated_at: Int;
  };
  version: {
    name: string;
    version: Int;
    stage: string;
    source: string;
    run_id: string | null;
    files: Json;
    description: string;
    tags: Json;
    created_at: Int;
    updated_at: Int;
    deleted_at: Int | null;
  };
  history: {
    id: Int;
    name: string;
    kind: domain.HistoryEntry['kind'];
    version: Int;
    from_stage: string | null;
    to_stage: string | null;
    alias: string | null;
    from_version: Int | null;
    actor: string;
    comment: string;
    time: Int;
  };
  dataset: {
    name: string;
    version: Int;
    sha256: string;
    size: Int;
    rows: Int;
    columns: Json;
    key: string;
    original_name: string;
    created_at: Int;
    deleted_at: Int | null;
  };
  event: { seq: Int; type: domain.EventType; time: Int; payload: Json };
}

/** How a SQL driver returns integer and JSON columns, for {@link sqlRowMappers}. */
export interface SqlColumnDecoders<Int, Json> {
  /** An integer column as a number (pg returns `bigint` as a string; all of modelreg's fit in 2^53). */
  int: (value: Int) => number;
  /** A JSON column as its value (SQLite returns the text, pg a `jsonb` already parsed). */
  json: (value: Json) => unknown;
}

/** What a run row does not hold: its params, tags and latest metric values. */
export type RunDetails = Pick<domain.Run, 'params' | 'tags' | 'latestMetrics'>;

/**
 * The row → domain mappers of a SQL metadata store, one per {@link SqlRows} entry. Aliases (which a
 * store keeps in their own table) are passed in and come out in the order of every store
 * (`compareText`).
 */
export function sqlRowMappers<Int, Json>({ int, json }: SqlColumnDecoders<Int, Json>) {
  type Row = SqlRows<Int, Json>;
  const intOrNull = (value: Int | null): number | null => (value === null ? null : int(value));
  const tags = (value: Json) => json(value) as Record<string, string>;
  return {
    experiment: (r: Row['experiment']): domain.Experiment => ({
      id: r.id,
      name: r.name,
      tags: tags(r.tags),
      createdAt: int(r.created_at),
      deletedAt: intOrNull(r.deleted_at),
    }),
    run: (r: Row['run'], details: RunDetails): domain.Run => ({
      id: r.id,
      experimentId: r.experiment_id,
      name: r.name,
      status: r.status,
      parentRunId: r.parent_run_id,
      startTime: int(r.start_time),
      endTime: intOrNull(r.end_time),
      params: details.params,
      tags: details.tags,
      latestMetrics: details.latestMetrics,
      deletedAt: intOrNull(r.deleted_at),
    }),
    metric: (r: Row['metric']): domain.MetricPoint => ({
      key: r.key,
      value: r.value,
      step: int(r.step),
      timestamp: int(r.timestamp),
    }),
    file: (r: Row['file']): domain.FileRecord => ({
      path: r.path,
      key: r.key,
      sha256: r.sha256,
      size: int(r.size),
    }),
    model: (r: Row['model'], aliases: Record<string, number>): domain.RegisteredModel => ({
      name: r.name,
      description: r.description,
      tags: tags(r.tags),
      aliases: Object.fromEntries(Object.entries(aliases).sort(([a], [b]) => compareText(a, b))),
      lastVersion: int(r.last_version),
      createdAt: int(r.created_at),
      updatedAt: int(r.updated_at),
    }),
    version: (r: Row['version'], aliases: string[]): domain.ModelVersion => ({
      name: r.name,
      version: int(r.version),
      stage: r.stage,
      source: r.source,
      runId: r.run_id,
      files: json(r.files) as domain.FileRecord[],
      description: r.description,
      tags: tags(r.tags),
      aliases: [...aliases].sort(compareText),
      createdAt: int(r.created_at),
      updatedAt: int(r.updated_at),
      deletedAt: intOrNull(r.deleted_at),
    }),
    history: (r: Row['history']): domain.HistoryEntry => ({
      id: int(r.id),
      name: r.name,
      kind: r.kind,
      version: int(r.version),
      fromStage: r.from_stage,
      toStage: r.to_stage,
      alias: r.alias,
      fromVersion: intOrNull(r.from_version),
      actor: r.actor,
      comment: r.comment,
      time: int(r.time),
    }),
    dataset: (r: Row['dataset']): domain.DatasetVersion => ({
      name: r.name,
      version: int(r.version),
      sha256: r.sha256,
      size: int(r.size),
      rows: int(r.rows),
      columns: json(r.columns) as domain.ColumnInfo[],
      key: r.key,
      originalName: r.original_name,
      createdAt: int(r.created_at),
      deletedAt: intOrNull(r.deleted_at),
    }),
    event: (r: Row['event']): domain.RegistryEvent => ({
      seq: int(r.seq),
      type: r.type,
      time: int(r.time),
      payload: json(r.payload) as domain.EventPayload,
    }),
  };
}
export type SqlRowMappers<Int, Json> = ReturnType<typeof sqlRowMappers<Int, Json>>;
