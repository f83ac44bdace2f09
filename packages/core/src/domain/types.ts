import { z } from 'zod';
import { nameSchema } from './names.js';
import { ownRecordSchema } from './records.js';

/** Milliseconds since the Unix epoch. */
export const timestampSchema = z.number().int().nonnegative();

export const tagsSchema = ownRecordSchema(nameSchema, z.string().max(5000));
export type Tags = z.infer<typeof tagsSchema>;

export const experimentSchema = z.object({
  id: z.string(),
  name: nameSchema,
  tags: tagsSchema,
  createdAt: timestampSchema,
  /** Set while the experiment is (soft) deleted; `restoreExperiment` clears it. */
  deletedAt: timestampSchema.nullable(),
});
export type Experiment = z.infer<typeof experimentSchema>;

/**
 * Which experiments or runs a listing shows: the live ones (the default), only the deleted ones,
 * or all (MLflow's `ACTIVE_ONLY`, `DELETED_ONLY`, `ALL`).
 */
export const lifecycleViewSchema = z.enum(['active', 'deleted', 'all']);
export type LifecycleView = z.infer<typeof lifecycleViewSchema>;

export const runStatuses = ['running', 'finished', 'failed', 'killed'] as const;
export const runStatusSchema = z.enum(runStatuses);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const endStatusSchema = z.enum(['finished', 'failed', 'killed']);

/** Param values are stored as strings (as MLflow does); numbers and booleans are converted with `String()`. */
export const paramValueSchema = z.union([z.string().max(6000), z.number(), z.boolean()]);

export const runSchema = z.object({
  id: z.string(),
  experimentId: z.string(),
  name: z.string().max(256),
  status: runStatusSchema,
  parentRunId: z.string().nullable(),
  startTime: timestampSchema,
  endTime: timestampSchema.nullable(),
  params: ownRecordSchema(z.string(), z.string()),
  tags: ownRecordSchema(z.string(), z.string()),
  /** The latest value of each metric: highest step, then latest timestamp, then last logged. */
  latestMetrics: ownRecordSchema(z.string(), z.number()),
  /** Set while the run is (soft) deleted, by `deleteRun` or with its experiment; `restoreRun` clears it. */
  deletedAt: timestampSchema.nullable(),
});
export type Run = z.infer<typeof runSchema>;

export const metricPointSchema = z.object({
  key: nameSchema,
  value: z.number().refine(Number.isFinite, 'must be a finite number'),
  step: z.number().int().min(0),
  timestamp: timestampSchema,
});
export type MetricPoint = z.infer<typeof metricPointSchema>;

/** A file recorded in metadata: where it lives in the artifact store and what it must hash to. */
export const fileRecordSchema = z.object({
  /** Path relative to its owner (the run's artifact root, or the model folder). */
  path: z.string(),
  /** Key in the artifact store. */
  key: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});
export type FileRecord = z.infer<typeof fileRecordSchema>;

export const registeredModelSchema = z.object({
  name: nameSchema,
  description: z.string(),
  tags: tagsSchema,
  /** Alias -> version number. */
  aliases: ownRecordSchema(z.string(), z.number().int()),
  /** The highest version number ever allocated (0 before the first); never decreases. */
  lastVersion: z.number().int().nonnegative(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type RegisteredModel = z.infer<typeof registeredModelSchema>;

export const modelVersionSchema = z.object({
  name: nameSchema,
  version: z.number().int().min(1),
  stage: z.string(),
  /** Where the files came from, e.g. `runs:/<runId>/model`. */
  source: z.string(),
  runId: z.string().nullable(),
  /** The model's files with their keys, sha256 and size; paths are relative to the model folder. */
  files: z.array(fileRecordSchema),
  description: z.string(),
  tags: tagsSchema,
  /** Aliases pointing at this version. */
  aliases: z.array(z.string()),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  /** Set when the version was (soft) deleted. */
  deletedAt: timestampSchema.nullable(),
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;

export const historyKinds = ['stage', 'alias_set', 'alias_deleted'] as const;
export const historyEntrySchema = z.object({
  /** Increasing per store; orders the history. */
  id: z.number().int(),
  name: nameSchema,
  kind: z.enum(historyKinds),
  /** The version moved (stage) or the version the alias now points at / pointed at when deleted. */
  version: z.number().int(),
  fromStage: z.string().nullable(),
  toStage: z.string().nullable(),
  alias: z.string().nullable(),
  /** For alias moves: the version the alias pointed at before, or null. */
  fromVersion: z.number().int().nullable(),
  actor: z.string(),
  comment: z.string(),
  time: timestampSchema,
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const columnTypes = ['number', 'integer', 'boolean', 'categorical', 'datetime', 'string'] as const;
export const columnTypeSchema = z.enum(columnTypes);
export type ColumnType = z.infer<typeof columnTypeSchema>;

export const columnInfoSchema = z.object({
  name: z.string(),
  type: columnTypeSchema,
  nullCount: z.number().int().nonnegative(),
  distinctCount: z.number().int().nonnegative(),
  /** For categorical columns: the categories, sorted (at most a few hundred are kept). */
  categories: z.array(z.string()).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});
export type ColumnInfo = z.infer<typeof columnInfoSchema>;

export const datasetVersionSchema = z.object({
  name: nameSchema,
  version: z.number().int().min(1),
  sha256: z.string(),
  size: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  columns: z.array(columnInfoSchema),
  /** The artifact key of the stored CSV: `datasets/<name>/<sha256>.csv`. */
  key: z.string(),
  originalName: z.string(),
  createdAt: timestampSchema,
  deletedAt: timestampSchema.nullable(),
});
export type DatasetVersion = z.infer<typeof datasetVersionSchema>;

export const eventTypes = [
  'experiment.created',
  'experiment.updated',
  'experiment.deleted',
  'experiment.restored',
  'run.created',
  'run.updated',
  'run.deleted',
  'run.restored',
  'model.created',
  'model.updated',
  'model.renamed',
  'model.deleted',
  'version.created',
  'version.updated',
  'version.stage_changed',
  'version.deleted',
  'alias.set',
  'alias.deleted',
  'dataset.created',
  'dataset.deleted',
  'job.submitted',
  'job.started',
  'job.progress',
  'job.succeeded',
  'job.failed',
  'job.cancelled',
  'job.requeued',
  'token.created',
  'token.revoked',
  'deployment.updated',
  'deployment.deleted',
] as const;
export const eventTypeSchema = z.enum(eventTypes);
export type EventType = z.infer<typeof eventTypeSchema>;

/**
 * An entry of the ordered event log. Payloads carry identifiers only (names, versions, stages,
 * aliases); consumers re-read the state they need.
 */
export const registryEventSchema = z.object({
  /** Strictly increasing per store. */
  seq: z.number().int().min(1),
  type: eventTypeSchema,
  time: timestampSchema,
  payload: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type RegistryEvent = z.infer<typeof registryEventSchema>;
export type EventPayload = RegistryEvent['payload'];
