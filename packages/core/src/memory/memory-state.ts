import { setOwn } from '../domain/records.js';
import { RegistryError } from '../errors.js';
import type {
  FileRecord,
  HistoryEntry,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
} from '../domain/types.js';
import type { EventDraft } from '../stores/metadata-store.js';

/** Shared by the memory metadata store's modules: its state shapes and small helpers. */
export const WHERE = 'memory';

export const notFound = (message: string) => new RegistryError('NOT_FOUND', message, { where: WHERE });
export const conflict = (message: string) => new RegistryError('CONFLICT', message, { where: WHERE });
export const exists = (message: string) => new RegistryError('ALREADY_EXISTS', message, { where: WHERE });

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

export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function mergeTags(
  tags: Record<string, string>,
  change: Record<string, string | null> | undefined,
): void {
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === null) delete tags[key];
    else setOwn(tags, key, value);
  }
}
