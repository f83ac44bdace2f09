import type {
  FileRecord,
  HistoryEntry,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
} from '../domain/types.js';
import type { EventDraft } from '../stores/metadata-store.js';
import { storeErrors } from '../stores/rules.js';

/** Shared by the memory metadata store's modules: its state shapes and small helpers. */
export const WHERE = 'memory';

export const errors = storeErrors(WHERE);

/** A metric point with its logging order, which breaks ties of step and timestamp. */
export type LoggedPoint = MetricPoint & { order: number };
export interface RunState {
  run: Omit<Run, 'latestMetrics'>;
  metrics: LoggedPoint[];
  latest: Map<string, LoggedPoint>;
  artifacts: Map<string, FileRecord>;
}

export type VersionRecord = Omit<ModelVersion, 'aliases'>;
export interface ModelState {
  model: Omit<RegisteredModel, 'aliases'>;
  deletedAt: number | null;
  aliases: Map<string, number>;
  /** Kept across delete and re-create so that numbers are never reused. */
  versions: Map<number, VersionRecord>;
}

/** Appends to the event log and the history; callers validate everything first, then write. */
export interface Journal {
  emit(...drafts: EventDraft[]): void;
  record(entry: Omit<HistoryEntry, 'id'>): void;
}
