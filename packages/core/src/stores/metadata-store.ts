import type { RunOrderBy, RunWhere } from '../domain/run-search.js';
import type {
  Deployment,
  DeploymentChange,
  DeploymentDeletion,
  DeploymentHistoryEntry,
} from '../domain/deployments.js';
import type { ClaimJob, FinishJob, Job, ListJobsQuery, NewJob, RenewJob } from '../domain/jobs.js';
import type { ApiToken } from '../domain/identity.js';
import type { EventCursorState, StoredWebhook, WebhookChange, WebhookDelivery } from '../domain/webhooks.js';
import type {
  DatasetVersion,
  EventPayload,
  EventType,
  Experiment,
  FileRecord,
  HistoryEntry,
  LifecycleView,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  RegistryEvent,
  Run,
  RunStatus,
} from '../domain/types.js';

export interface RunSearchQuery {
  experimentIds: string[];
  where?: RunWhere;
  /** Applied in order; ties are broken by `startTime` desc, then `id` asc. Default: `startTime` desc. */
  orderBy?: RunOrderBy[];
  /** At least 1 (core asks for one more than a page to know whether another page follows). */
  limit: number;
  offset: number;
  /** Live runs (default), deleted runs, or both. */
  lifecycle?: LifecycleView;
}

/** An experiment as `createExperiment` stores it: live (its `deletedAt` is `null`). */
export type NewExperiment = Omit<Experiment, 'deletedAt'>;

/** What `updateExperiment` changes; `time` is when. */
export interface ExperimentChange {
  /** A new name (the old one is free afterwards). */
  name?: string;
  /** Tags to set; a `null` value deletes the tag. */
  tags?: Record<string, string | null>;
  time: number;
}

export interface NewRun {
  id: string;
  experimentId: string;
  name: string;
  parentRunId: string | null;
  startTime: number;
  tags: Record<string, string>;
}

export interface NewModelVersion {
  name: string;
  source: string;
  runId: string | null;
  files: FileRecord[];
  description: string;
  tags: Record<string, string>;
  /** The stage the new version is in (the first configured stage, unless `placement` says otherwise). */
  stage: string;
  createdAt: number;
  /**
   * Create the registered model (empty description and tags, event `model.created`) when no live
   * model has the name, in the same transaction; a deleted one is revived as `createModel` does.
   * Without it a missing model is `NOT_FOUND`.
   */
  createModel?: boolean;
  /** Stage moves and an alias applied with the creation, in the same transaction. */
  placement?: VersionPlacement;
  /**
   * A finished run to create with the version, in the same transaction (copying a version between
   * registries). When a run with `run.id` exists already it is left exactly as it is.
   */
  run?: NewRunRecord;
  /**
   * Files to record as artifacts of `runId` in the same transaction, by the rules of
   * `recordRunArtifacts` (same path with another sha256: `ALREADY_EXISTS`, and nothing is written).
   */
  runArtifacts?: FileRecord[];
}

/**
 * What `train({ register })` and `copyModelVersion` do after creating a version, done by the store
 * inside the creating transaction so that a failure leaves no version at all.
 */
export interface VersionPlacement {
  /**
   * The stage versions start in. When `stage` differs, the store appends a `stage` history entry
   * `fromStage -> stage` and emits `version.stage_changed`, exactly as a `transitionStage` right
   * after the creation would.
   */
  fromStage: string;
  /**
   * Every other live version in `stage` moves to this stage (one `stage` history entry and one
   * `version.stage_changed` event each, ascending by number), as `transitionStage` with
   * `archiveExisting` does. Ignored when `stage` equals `fromStage` (no move) or `archiveTo`.
   */
  archiveTo?: string;
  /** An alias to point at the new version (moved when it exists): `alias_set` history and event `alias.set`. */
  alias?: string;
  /** Recorded in the history entries appended above. */
  actor: string;
  comment: string;
}

/** A run with its params, metric history and end state, created in one step (see `NewModelVersion.run`). */
export interface NewRunRecord {
  /**
   * The run's experiment, found by name; created with this id, tags and time when missing
   * (event `experiment.created`). The run's `experimentId` is the found or created one; a found
   * experiment that is deleted is `CONFLICT` (nothing is written).
   */
  experiment: NewExperiment;
  run: Omit<NewRun, 'experimentId'>;
  params: Record<string, string>;
  /** The full metric history, in logging order. */
  metrics: MetricPoint[];
  /** A `running` run (with `endTime` null) is created as running; otherwise event `run.updated` follows `run.created`. */
  status: RunStatus;
  endTime: number | null;
}

export interface StageTransition {
  name: string;
  version: number;
  toStage: string;
  /** When set, every other live version in `toStage` moves to `archiveStage` in the same transaction. */
  archiveExisting: boolean;
  archiveStage: string;
  actor: string;
  comment: string;
  time: number;
}

export interface AliasChange {
  name: string;
  alias: string;
  /**
   * Compare-and-set: `undefined` changes unconditionally; `null` requires that the alias does not
   * exist yet; a number requires that the alias points at that version now. A failed check throws `CONFLICT`.
   */
  ifVersion?: number | null;
  actor: string;
  comment: string;
  time: number;
}

/** Which version of a model a `models:/` URI picks, as {@link MetadataStore.resolveVersion} reads it. */
export type VersionSelector =
  | { type: 'version'; version: number }
  | { type: 'latest' }
  | { type: 'stage'; stage: string }
  | { type: 'alias'; alias: string };

export type NewDatasetVersion = Omit<DatasetVersion, 'version' | 'deletedAt'>;

export interface ListModelsQuery {
  /** Case-sensitive substring of the name. */
  nameContains?: string;
  /** Every given tag must be equal. */
  tags?: Record<string, string>;
  limit: number;
  offset: number;
}

/**
 * Where modelreg keeps its metadata: experiments, runs, registered models, versions, stage and
 * alias history, datasets, and an ordered event log.
 *
 * Rules every implementation follows (the conformance suite in `@modelreg/core/testing` checks them):
 * - Core validates names, numbers and stages before calling; a store trusts its input and owns
 *   persistence and atomicity only.
 * - Reads return `null` (or an empty list) when the thing does not exist; changes to something
 *   that does not exist throw `RegistryError('NOT_FOUND')`.
 * - Every method that changes state appends the event named in its documentation to the event
 *   log **in the same transaction** as the change: either both are visible or neither.
 * - Soft-deleted models, versions and datasets are invisible to reads unless a method says otherwise.
 * - Returned objects are fresh copies; mutating them does not change the store.
 */
export interface MetadataStore {
  /** A short name used in error messages, e.g. `meta-sqlite`. */
  readonly name: string;

  /** Creates tables or applies migrations. Called once by core before any other method. */
  init(): Promise<void>;
  /** Releases connections. Called once by core; no method is called afterwards. */
  close(): Promise<void>;

  // ---- experiments ----
  /**
   * Creates a live experiment. `ALREADY_EXISTS` when the name is taken (by a deleted experiment too).
   * Event `experiment.created` `{ id, name }`.
   */
  createExperiment(experiment: NewExperiment): Promise<Experiment>;
  /** An experiment, deleted ones too (their `deletedAt` is set), or `null`. */
  getExperiment(id: string): Promise<Experiment | null>;
  /** The experiment with this name, deleted or not (a deleted experiment keeps its name), or `null`. */
  getExperimentByName(name: string): Promise<Experiment | null>;
  /** The experiments of a lifecycle view (default: live ones), oldest first. */
  listExperiments(query?: { lifecycle?: LifecycleView }): Promise<Experiment[]>;
  /**
   * Renames a live experiment and/or merges its tags (`null` deletes a tag). `NOT_FOUND` for an
   * unknown id, `CONFLICT` when it is deleted, `ALREADY_EXISTS` when another experiment (deleted
   * ones too) has the new name; nothing changes then. Event `experiment.updated`
   * `{ id, name, fromName }` (`fromName` is the name before the call).
   */
  updateExperiment(id: string, change: ExperimentChange): Promise<Experiment>;
  /**
   * Soft-deletes a live experiment and, in the same transaction, every live run of it (their
   * `deletedAt` is the same `time`). `NOT_FOUND` for an unknown id, `CONFLICT` when it is already
   * deleted. Event `experiment.deleted` `{ id, name }` (no `run.deleted` per run).
   */
  deleteExperiment(id: string, time: number): Promise<Experiment>;
  /**
   * Restores a deleted experiment and the runs deleted with it (those whose `deletedAt` equals the
   * experiment's); runs deleted on their own before stay deleted. `NOT_FOUND` for an unknown id,
   * `CONFLICT` when it is live. Event `experiment.restored` `{ id, name }`.
   */
  restoreExperiment(id: string): Promise<Experiment>;

  // ---- runs ----
  /**
   * Creates a live run in status `running`. `NOT_FOUND` for an unknown experiment, `CONFLICT` when
   * the experiment is deleted. Event `run.created` `{ runId, experimentId }`.
   */
  createRun(run: NewRun): Promise<Run>;
  /** A run, deleted ones too (their `deletedAt` is set), or `null`. */
  getRun(id: string): Promise<Run | null>;
  /**
   * Soft-deletes a live run (its status is kept). `NOT_FOUND` for an unknown run, `CONFLICT` when it
   * is already deleted. Event `run.deleted` `{ runId, experimentId }`.
   */
  deleteRun(id: string, time: number): Promise<Run>;
  /**
   * Restores a deleted run. `NOT_FOUND` for an unknown run, `CONFLICT` when it is live or its
   * experiment is deleted (restore the experiment instead). Event `run.restored` `{ runId, experimentId }`.
   */
  restoreRun(id: string): Promise<Run>;
  /**
   * Ends a run: sets status and end time. `CONFLICT` when the run has already ended.
   * Event `run.updated` `{ runId, status }`.
   */
  endRun(id: string, status: Exclude<RunStatus, 'running'>, endTime: number): Promise<Run>;
  /**
   * Logs params, all or none. A key that already has the same value is accepted; a key with
   * another value throws `CONFLICT` and nothing of the call is written. No event.
   */
  logParams(runId: string, params: Record<string, string>): Promise<void>;
  /** Appends metric points (the history is never rewritten). No event. */
  logMetrics(runId: string, points: MetricPoint[]): Promise<void>;
  /** Sets (inserts or overwrites) tags. No event. */
  setRunTags(runId: string, tags: Record<string, string>): Promise<void>;
  /** Deletes one tag; deleting a missing tag is not an error. No event. */
  deleteRunTag(runId: string, key: string): Promise<void>;
  /** The history of one metric ordered by step, then timestamp, then logging order. Empty when none. */
  getMetricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  /** Runs of the given experiments and lifecycle view that match `where`, sorted and paged as the query says. */
  searchRuns(query: RunSearchQuery): Promise<Run[]>;

  // ---- run artifacts ----
  /**
   * Records files that were written to the artifact store for a run. A path already recorded with
   * the same sha256 is accepted; with another sha256 it throws `ALREADY_EXISTS` and nothing of the
   * call is written. `NOT_FOUND` for an unknown run. No event.
   */
  recordRunArtifacts(runId: string, files: FileRecord[]): Promise<void>;
  /** The run's recorded files whose path starts with `prefix` (all when omitted), sorted by path. */
  listRunArtifacts(runId: string, prefix?: string): Promise<FileRecord[]>;

  // ---- registered models ----
  /**
   * Creates a registered model. `ALREADY_EXISTS` when a live model has the name. A name whose model
   * was deleted is revived with the new description and tags; its version counter continues, so
   * numbers are never reused. Event `model.created` `{ name }`.
   */
  createModel(model: {
    name: string;
    description: string;
    tags: Record<string, string>;
    createdAt: number;
  }): Promise<RegisteredModel>;
  getModel(name: string): Promise<RegisteredModel | null>;
  /** Live models sorted by name. */
  listModels(query: ListModelsQuery): Promise<RegisteredModel[]>;
  /** Sets the description and/or merges tags (`null` value deletes a tag). Event `model.updated` `{ name }`. */
  updateModel(
    name: string,
    change: { description?: string; tags?: Record<string, string | null>; time: number },
  ): Promise<RegisteredModel>;
  /** Soft-deletes a model with its versions and aliases. Event `model.deleted` `{ name }`. */
  deleteModel(name: string, time: number): Promise<void>;
  /**
   * Renames a live model in one transaction: its versions (deleted ones too, keeping their numbers
   * and version counter), aliases and stage/alias history move to `newName`, and `name` is free
   * afterwards. `NOT_FOUND` when no live model has `name`; `ALREADY_EXISTS` when any model has
   * `newName` (a deleted one too: it keeps that name's version numbers); `CONFLICT` when the model
   * has a live deployment. Nothing changes on error. Event `model.renamed` `{ name, newName }`.
   */
  renameModel(name: string, newName: string, time: number): Promise<RegisteredModel>;

  // ---- versions ----
  /**
   * Allocates the next version number of the model (last + 1, atomically, never reused) and
   * creates the version in `stage`. `NOT_FOUND` when the model does not exist (unless `createModel`).
   * Event `version.created` `{ name, version, stage }`.
   *
   * The optional members make one registration one transaction, in this order: the experiment and
   * run (`run`), the run's files (`runArtifacts`), the model (`createModel`), the version, its stage
   * history and the archiving of others (`placement`), the alias. Either all of it is visible, with
   * all its events and history, or none of it. The returned version carries the alias.
   */
  createVersion(version: NewModelVersion): Promise<ModelVersion>;
  /** A live version, or a deleted one too with `includeDeleted`. */
  getVersion(
    name: string,
    version: number,
    options?: { includeDeleted?: boolean },
  ): Promise<ModelVersion | null>;
  /** Live versions of a model (optionally of one stage), ascending by number. */
  listVersions(name: string, options?: { stage?: string; includeDeleted?: boolean }): Promise<ModelVersion[]>;
  /**
   * The live version a selector picks now, read in one indexed query whose cost does not grow with
   * the number of versions: `version` = that number; `latest` = the highest live version; `stage` =
   * the highest live version in that stage; `alias` = the version the alias points at.
   * `null` when the model does not exist or is deleted; `{ version: null }` when the model exists
   * but the selector picks nothing.
   */
  resolveVersion(name: string, selector: VersionSelector): Promise<{ version: ModelVersion | null } | null>;
  /** Sets the description and/or merges tags (`null` deletes). Event `version.updated` `{ name, version }`. */
  updateVersion(
    name: string,
    version: number,
    change: { description?: string; tags?: Record<string, string | null>; time: number },
  ): Promise<ModelVersion>;
  /**
   * Soft-deletes a version; aliases pointing at it are deleted (recorded as `alias_deleted` history
   * with actor `system`). Event `version.deleted` `{ name, version }` (plus `alias.deleted` per alias).
   */
  deleteVersion(name: string, version: number, time: number): Promise<void>;
  /**
   * Moves a version to a stage, atomically with the archiving of the other versions of that stage
   * when `archiveExisting` is set. Appends one `stage` history entry per version moved (the target
   * first). Moving a version to the stage it is in records nothing and returns it unchanged.
   * Events `version.stage_changed` `{ name, version, fromStage, toStage }` per version moved.
   */
  transitionStage(change: StageTransition): Promise<{ version: ModelVersion; archived: ModelVersion[] }>;

  // ---- aliases ----
  /**
   * Points an alias at a live version (compare-and-set through `ifVersion`). Appends an
   * `alias_set` history entry. Event `alias.set` `{ name, alias, version, fromVersion }`.
   */
  setAlias(change: AliasChange & { version: number }): Promise<void>;
  /**
   * Deletes an alias (compare-and-set through `ifVersion`). `NOT_FOUND` when it does not exist.
   * Appends an `alias_deleted` history entry. Event `alias.deleted` `{ name, alias, version }`.
   */
  deleteAlias(change: AliasChange): Promise<void>;

  /** The append-only history of a model (stage and alias moves), oldest first; optionally for one version. */
  getHistory(name: string, options?: { version?: number }): Promise<HistoryEntry[]>;

  // ---- datasets ----
  /**
   * Creates the next version of a dataset, unless a live version with the same sha256 exists, in
   * which case that version is returned unchanged (`created: false`, no event).
   * Event `dataset.created` `{ name, version, sha256 }`.
   */
  createDatasetVersion(dataset: NewDatasetVersion): Promise<{ dataset: DatasetVersion; created: boolean }>;
  /** A live dataset version; the latest live one when `version` is omitted. */
  getDataset(name: string, version?: number): Promise<DatasetVersion | null>;
  /** The latest live version of every dataset, sorted by name. */
  listDatasets(): Promise<DatasetVersion[]>;
  /** The live versions of one dataset, ascending. */
  listDatasetVersions(name: string): Promise<DatasetVersion[]>;
  /** Soft-deletes one version, or every version when omitted. Event `dataset.deleted` `{ name, version }` per version. */
  deleteDataset(name: string, version: number | undefined, time: number): Promise<void>;

  // ---- artifacts referenced by metadata (for gc) ----
  /** Every artifact key any metadata refers to: run artifacts, version files (deleted versions too) and dataset files. */
  listReferencedKeys(): Promise<string[]>;

  // ---- binding and run leases (for open and gc) ----
  /** The id of the registry this metadata belongs to, or `null` before the first {@link claimRegistryId}. */
  getRegistryId(): Promise<string | null>;
  /**
   * Records `id` as this metadata's registry id unless one is recorded already, atomically (the first
   * of concurrent callers wins), and returns the id recorded now. Never changes an existing id. No event.
   */
  claimRegistryId(id: string): Promise<string>;
  /**
   * Sets the last heartbeat of each listed run that is still `running` to `time`; returns the ids of
   * those runs (ended or unknown ones are left out). No event.
   */
  heartbeatRuns(runIds: string[], time: number): Promise<string[]>;
  /**
   * Ends as `failed` (end time `endTime`) every `running` run whose last heartbeat — its start time
   * when it never sent one — is before `heartbeatBefore`, in one transaction, and returns their ids
   * sorted. With `dryRun` nothing changes and the ids that would end are returned.
   * Event `run.updated` `{ runId, status: 'failed' }` per run ended.
   */
  expireRuns(change: { heartbeatBefore: number; endTime: number; dryRun?: boolean }): Promise<string[]>;

  // ---- training jobs (see domain/jobs.ts; the transitions are `jobRules` in core, shared by every store) ----
  /**
   * Stores a new `queued` job (attempts 0, progress `queued` 0) and appends `job.submitted`
   * `{ id, kind, submittedBy }`, in one transaction. When `idempotencyKey` is already used by any
   * job (whatever its state), stores nothing and returns that job with `created: false`. An `id`
   * already used is `ALREADY_EXISTS`.
   */
  createJob(job: NewJob): Promise<{ job: Job; created: boolean }>;
  /** The job, or `null` when no job has this id. */
  getJob(id: string): Promise<Job | null>;
  /** Newest first (`createdAt` desc, then `id` desc), filtered (AND) and paged by `offset`/`limit`. */
  listJobs(query: ListJobsQuery): Promise<Job[]>;
  /**
   * Compare-and-set claim of one attempt, atomic against concurrent claims (two claims of one job:
   * exactly one wins). Claimable: a `queued` job, or a `running` job whose `leaseUntil` is before
   * `time` (its owner died). With `id`, that job only; without, the oldest claimable job
   * (`createdAt`, then `id`). Sets state `running`, attempts + 1, the lease, progress `queued` 0 and
   * `startedAt` (first attempt only), and appends `job.started` `{ id, attempt, owner }`.
   * A claimable job whose attempts are used up (`attempts >= maxAttempts`) is ended as `failed`
   * instead — code `LEASE_EXPIRED` when its last attempt lost the lease, `ATTEMPTS_EXHAUSTED` when it
   * was given back — with `job.failed` `{ id, code, attempts }`; without `id` the claim then goes on
   * to the next claimable job. Returns the running job, or `null` when nothing was claimed.
   */
  claimJob(claim: ClaimJob): Promise<Job | null>;
  /**
   * Renews the lease of the running attempt held by `owner` (`leaseUntil`, `updatedAt`) and records
   * `progress`, appending `job.progress` `{ id, phase, fraction }` when it is given. A lease that ran
   * out but was not claimed by anyone else is still renewed. `null` when the attempt no longer holds
   * the job (cancelled, ended, or claimed by another owner after the lease ran out): it must stop.
   */
  renewJob(change: RenewJob): Promise<Job | null>;
  /**
   * Ends an attempt or the job (see {@link FinishJob}) and appends its event: `job.succeeded`
   * `{ id, runId, model, version }`, `job.failed` `{ id, code, attempts }`, `job.cancelled` `{ id }`,
   * `job.requeued` `{ id, attempts }` (state `queued`, lease cleared, for another attempt).
   * `null` when the compare-and-set fails: the job is missing or already terminal, or (all but
   * `cancelled`) `owner` does not hold the running attempt.
   */
  finishJob(change: FinishJob): Promise<Job | null>;

  // ---- event log ----
  /** Events with `seq > afterSeq`, ascending, at most `limit`. */
  readEvents(afterSeq: number, limit: number): Promise<RegistryEvent[]>;
  /** The highest `seq` written so far (0 when the log is empty). */
  lastEventSeq(): Promise<number>;
  /**
   * Optional push wake-ups: calls `onWake` (at least once) soon after events are appended, in this
   * or another process. A wake-up carries no data: readers re-read from their last `seq`, so a lost
   * wake-up delays but never loses an event. Returns an unsubscribe function.
   */
  subscribe?(onWake: () => void): Promise<() => Promise<void>>;

  // ---- identity (API tokens; see domain/identity.ts) ----
  /**
   * Stores a new token with its secret's hash (the secret itself is never given to a store).
   * `ALREADY_EXISTS` when the id or the hash is taken. Event `token.created` `{ id, name, role }`.
   */
  createToken(token: NewApiToken): Promise<ApiToken>;
  /** A token by id, revoked ones too. */
  getToken(id: string): Promise<ApiToken | null>;
  /**
   * The token whose secret hash is `secretHash` (an indexed lookup), revoked ones too, with the hash
   * so the caller can compare it in constant time. `null` when none has it.
   */
  findTokenByHash(secretHash: string): Promise<(ApiToken & { secretHash: string }) | null>;
  /** Every token, revoked ones too, oldest first (`createdAt`, then `id`). */
  listTokens(): Promise<ApiToken[]>;
  /**
   * Revokes a token at `time`. `NOT_FOUND` for an unknown id. Revoking a revoked token changes
   * nothing and writes no event. Event `token.revoked` `{ id, name }`.
   */
  revokeToken(id: string, time: number): Promise<ApiToken>;
  /** Sets a live token's `lastUsedAt` to `time` (unknown or revoked: nothing). No event. */
  touchToken(id: string, time: number): Promise<void>;

  // ---- deployments (see domain/deployments.ts) ----
  /**
   * Creates or replaces the live deployment of `change.deployment.model`, compare-and-set through
   * `ifRevision` (`CONFLICT` when it does not hold; nothing is written). The new revision is the
   * model's last revision + 1 — counting deleted deployments, so a revision is never reused — and
   * `createdAt` is kept when a live deployment is replaced. Appends a history entry (the new state,
   * `action`, actor, comment, time) and the event `deployment.updated` `{ model, revision, action }`
   * in the same transaction. Core checks that the model and both references exist.
   */
  saveDeployment(change: DeploymentChange): Promise<Deployment>;
  /** The live deployment of a model, or `null`. */
  getDeployment(model: string): Promise<Deployment | null>;
  /** Every live deployment, sorted by model name. */
  listDeployments(): Promise<Deployment[]>;
  /**
   * Deletes the live deployment of a model (compare-and-set through `ifRevision`, `CONFLICT` when it
   * does not hold). `NOT_FOUND` when there is none. Appends a `delete` history entry (the last state,
   * at the next revision) and the event `deployment.deleted` `{ model, revision }` in one transaction.
   */
  deleteDeployment(change: DeploymentDeletion): Promise<void>;
  /** The append-only history of a model's deployments, oldest first; empty when it never had one. */
  getDeploymentHistory(model: string): Promise<DeploymentHistoryEntry[]>;

  // ---- event cursors (webhook delivery, the NATS relay; see domain/webhooks.ts) ----
  /** The cursor named `name`, or `null` before its first {@link claimCursor}. */
  getCursor(name: string): Promise<EventCursorState | null>;
  /**
   * Takes or renews the cursor's lease for `owner` until the store's clock plus `leaseMs`, creating
   * the cursor at `seq` 0 when it is missing. Succeeds (`true`) when the lease is free, expired or
   * already `owner`'s; `false` (nothing changed) while another owner holds a live lease. Atomic:
   * of concurrent claims of a free cursor, exactly one wins. No event.
   */
  claimCursor(name: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Moves the cursor to `seq`, compare-and-set on the lease: `CONFLICT` when `owner` does not hold a
   * live lease (never claimed, expired, or taken by another owner), `NOT_FOUND` for an unknown cursor.
   * The position only grows: a `seq` below the current one changes nothing. No event.
   */
  advanceCursor(name: string, owner: string, seq: number): Promise<void>;
  /** Gives up `owner`'s lease (the position stays); nothing when `owner` does not hold it. No event. */
  releaseCursor(name: string, owner: string): Promise<void>;

  // ---- webhooks (see domain/webhooks.ts) ----
  /**
   * Stores a webhook with its signing secret (as given: it must stay usable to sign). `ALREADY_EXISTS`
   * when the id is taken. No event (webhooks are admin configuration, not registry state).
   */
  createWebhook(webhook: StoredWebhook): Promise<StoredWebhook>;
  /** A webhook with its secret, or `null`. */
  getWebhook(id: string): Promise<StoredWebhook | null>;
  /** Every webhook with its secret, oldest first (`createdAt`, then `id`). */
  listWebhooks(): Promise<StoredWebhook[]>;
  /** Applies the change and sets `updatedAt` to `change.time`. `NOT_FOUND` for an unknown id. No event. */
  updateWebhook(id: string, change: WebhookChange): Promise<StoredWebhook>;
  /** Deletes a webhook and its delivery log. `NOT_FOUND` for an unknown id. No event. */
  deleteWebhook(id: string): Promise<void>;
  /**
   * Inserts or replaces the delivery log entry (`webhookId`, `id`). `NOT_FOUND` when the webhook does
   * not exist (a delivery racing its webhook's deletion stores nothing). No event.
   */
  saveWebhookDelivery(delivery: WebhookDelivery): Promise<void>;
  /** One entry of a webhook's delivery log, or `null`. */
  getWebhookDelivery(webhookId: string, id: string): Promise<WebhookDelivery | null>;
  /** The newest `limit` entries of a webhook's delivery log, newest first (`createdAt` desc, then `seq` desc). */
  listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>;
}

/** A token as `createToken` stores it: the public fields and the sha256 (hex) of its secret. */
export interface NewApiToken {
  id: string;
  name: string;
  role: ApiToken['role'];
  models: string[] | null;
  createdAt: number;
  /** Lowercase hex sha256 of the full token string. */
  secretHash: string;
}

/** What a store appends to its event log; `seq` and `time` come from the store's transaction. */
export interface EventDraft {
  type: EventType;
  payload: EventPayload;
}

/**
 * The method groups of {@link MetadataStore}, for a store that implements them in separate
 * modules (the memory store, meta-sqlite and meta-postgres each do).
 */
export type TrackingMethods = Pick<
  MetadataStore,
  | 'createExperiment'
  | 'getExperiment'
  | 'getExperimentByName'
  | 'listExperiments'
  | 'updateExperiment'
  | 'deleteExperiment'
  | 'restoreExperiment'
  | 'createRun'
  | 'getRun'
  | 'deleteRun'
  | 'restoreRun'
  | 'endRun'
  | 'logParams'
  | 'logMetrics'
  | 'setRunTags'
  | 'deleteRunTag'
  | 'getMetricHistory'
  | 'searchRuns'
  | 'recordRunArtifacts'
  | 'listRunArtifacts'
>;
/** Models and versions; see {@link TrackingMethods}. */
export type ModelMethods = Pick<
  MetadataStore,
  | 'createModel'
  | 'getModel'
  | 'listModels'
  | 'updateModel'
  | 'deleteModel'
  | 'renameModel'
  | 'createVersion'
  | 'getVersion'
  | 'listVersions'
  | 'resolveVersion'
  | 'updateVersion'
  | 'deleteVersion'
>;
/** Stages, aliases and their history; see {@link TrackingMethods}. */
export type StageMethods = Pick<MetadataStore, 'transitionStage' | 'setAlias' | 'deleteAlias' | 'getHistory'>;
/** Datasets, the keys metadata references, and the event log; see {@link TrackingMethods}. */
export type DatasetAndEventMethods = Pick<
  MetadataStore,
  | 'createDatasetVersion'
  | 'getDataset'
  | 'listDatasets'
  | 'listDatasetVersions'
  | 'deleteDataset'
  | 'listReferencedKeys'
  | 'readEvents'
  | 'lastEventSeq'
>;
/** Training jobs; see {@link TrackingMethods}. */
export type JobMethods = Pick<
  MetadataStore,
  'createJob' | 'getJob' | 'listJobs' | 'claimJob' | 'renewJob' | 'finishJob'
>;
/** Deployments and their history; see {@link TrackingMethods}. */
export type DeploymentMethods = Pick<
  MetadataStore,
  'saveDeployment' | 'getDeployment' | 'listDeployments' | 'deleteDeployment' | 'getDeploymentHistory'
>;
/** The registry id and run heartbeats; see {@link TrackingMethods}. */
export type HousekeepingMethods = Pick<
  MetadataStore,
  'getRegistryId' | 'claimRegistryId' | 'heartbeatRuns' | 'expireRuns'
>;
/** API tokens; see {@link TrackingMethods}. */
export type IdentityMethods = Pick<
  MetadataStore,
  'createToken' | 'getToken' | 'findTokenByHash' | 'listTokens' | 'revokeToken' | 'touchToken'
>;
/** Event cursors; see {@link TrackingMethods}. */
export type CursorMethods = Pick<
  MetadataStore,
  'getCursor' | 'claimCursor' | 'advanceCursor' | 'releaseCursor'
>;
/** Webhooks and their delivery log; see {@link TrackingMethods}. */
export type WebhookMethods = Pick<
  MetadataStore,
  | 'createWebhook'
  | 'getWebhook'
  | 'listWebhooks'
  | 'updateWebhook'
  | 'deleteWebhook'
  | 'saveWebhookDelivery'
  | 'getWebhookDelivery'
  | 'listWebhookDeliveries'
>;
