import { sqlRowMappers } from '@modelreg/core';
import type { SqlRows } from '@modelreg/core';

/** SQLite returns integers as numbers and JSON columns as their text. */
type Rows = SqlRows<number, string>;
const rows = sqlRowMappers<number, string>({ int: (value) => value, json: (text) => JSON.parse(text) });

export const parseTags = (json: string): Record<string, string> => JSON.parse(json) as Record<string, string>;

export type ExperimentRow = Rows['experiment'];
export type RunRow = Rows['run'];
export type FileRow = Rows['file'];
export type ModelRow = Rows['model'] & { deleted_at: number | null };
export type VersionRow = Rows['version'];
export type HistoryRow = Rows['history'];
export type DatasetRow = Rows['dataset'];
export type EventRow = Rows['event'];

export const {
  experiment: toExperiment,
  run: toRun,
  file: toFile,
  model: toModel,
  version: toVersion,
  history: toHistory,
  dataset: toDataset,
  event: toEvent,
} = rows;
