import { DatasetCatalog } from '../datasets/dataset-catalog.js';
import type { ModelManifest } from '../formats/manifest.js';
import type { LoadedModel, LoadOptions, ModelRuntime } from '../serving/load.js';
import { loadModel, loadNativeRuntime, readModelManifest } from '../serving/load.js';
import type { RuntimeLoader } from '../serving/load.js';
import type { ModelSource } from '../serving/ports.js';
import { createOnnxRuntimeLoader } from '../serving/onnx-runtime.js';
import type { ClassProbabilities } from '../serving/predictor.js';
import { ModelCache } from '../serving/model-cache.js';
import type { Canary, CanaryOptions } from '../serving/canary.js';
import { createCanary } from '../serving/canary.js';
import type { DeploymentCanary, DeploymentCanaryOptions } from '../serving/deployment-canary.js';
import { createDeploymentCanary } from '../serving/deployment-canary.js';
import { Deployments } from './deployments.js';
import type { LiveModel, WatchOptions } from '../serving/live-model.js';
import { createLiveModel } from '../serving/live-model.js';
import { ResolvedModels } from './resolved-models.js';
import type { PredictInput } from '../serving/signature.js';
import type { Label, Trainer, TrainerRegistry } from '../training/trainer.js';
import { createDefaultTrainerRegistry } from '../training/trainers/index.js';
import type { EvaluateOptions, EvaluateResult } from './evaluate.js';
import { evaluate } from './evaluate.js';
import type { TrainOptions, TrainResult } from './train.js';
import { train } from './train.js';
import { createEmbeddedQueue } from './embedded-queue.js';
import { Jobs } from './jobs.js';
import type { JobsSettings } from './jobs.js';
import type {
  EventType,
  Experiment,
  HistoryEntry,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
} from '../domain/types.js';
import { z } from 'zod';
import { nameSchema, parseArg } from '../domain/names.js';
import { eventTypeSchema } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import { guardArtifactStore, guardMetadataStore } from '../stores/guard.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import type { RegistryContext } from './context.js';
import type { CopyModelVersionOptions, CopyModelVersionResult } from './copy-version.js';
import { copyVersion } from './copy-version.js';
import type { EventHandler } from './events.js';
import { EventFeed } from './events.js';
import type { GcOptions, GcResult } from './gc.js';
import { collectGarbage } from './gc.js';
import { bindStores } from './binding.js';
import type { Binding } from './binding.js';
import { RunLeases } from './leases.js';
import * as experiments from './experiments.js';
import * as models from './models.js';
import type { RegistryOptions } from './options.js';
import { defaultActor, parseRegistryOptions } from './options.js';
import type { ResolvedUri } from './resolve.js';
import { resolveUri } from './resolve.js';
import type { SearchRunsOptions, SearchRunsResult, StartRunOptions } from './runs.js';
import { getOrCreateExperiment, RunHandle, runIdSchema, searchRuns, startRun } from './runs.js';
import type { Principal } from '../domain/identity.js';
import { principalSchema } from '../domain/identity.js';
import { authorize, authorizeModelUri, scopeStores } from './access.js';
import { RegistryAuth } from './auth.js';
import type { EventCursor, EventCursorOptions } from './event-cursor.js';
import { createEventCursor, defaultOwner } from './event-cursor.js';
import { Webhooks } from './webhooks.js';
import type { WebhookSettings } from './webhook-dispatcher.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { httpTransport } from './webhook-target.js';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The registry: one object over a metadata store and an artifact store. Open it once per process
 * with {@link ModelRegistry.open} and share it; close it on shutdown.
 */
export class ModelRegistry {
  private readonly ctx: RegistryContext;
  private readonly feed: EventFeed;
  /** What a registry and its views (`as`) share; `closed` is set by the registry's `close`. */
  private readonly shared: Shared;
  /** The dataset catalog: upload CSVs, list, load typed tables, delete. */
  readonly datasets: DatasetCatalog;
  /** Durable training jobs: submit, get, list, cancel, wait; `start()` runs them in this process. */
  readonly jobs: Jobs;
  /** API tokens and authentication; see {@link RegistryAuth}. */
  readonly auth: RegistryAuth;
  private readonly trainers: TrainerRegistry;
  /** Canary and shadow deployments stored in the metadata store, shared by every process. */
  readonly deployments: Deployments;
  /** Signed HTTP callbacks for registry events (admin); `start()` delivers them from this process. */
  readonly webhooks: Webhooks;
  private readonly cache: ModelCache<ModelRuntime>;
  /** Live models and canaries made by `watch` and `canary`, closed with the registry. */
  private readonly serving: Set<{ close(): Promise<void> }>;
  private readonly loaders: { native: RuntimeLoader; onnx: RuntimeLoader };
  /** Where serving finds models: URI resolution and the guarded artifact store. */
  private readonly source: ModelSource;

  private constructor(ctx: RegistryContext, shared: Shared) {
    this.ctx = ctx;
    this.shared = shared;
    ({ feed: this.feed, trainers: this.trainers, cache: this.cache, serving: this.serving } = shared);
    this.loaders = shared.loaders;
    this.source = { resolve: (u) => resolveUri(ctx, u), artifacts: ctx.artifacts };
    this.datasets = new DatasetCatalog({ metadata: ctx.metadata, artifacts: ctx.artifacts, now: ctx.now });
    this.auth = new RegistryAuth(ctx, shared.metadata);
    this.deployments = new Deployments(ctx);
    this.webhooks = new Webhooks(ctx, shared.webhookSettings, shared.dispatcher);
    this.jobs = new Jobs(
      ctx,
      this.datasets,
      this.trainers,
      (type, handler) => shared.feed.on(type, handler),
      () => shared.feed.ready(),
      shared.jobSettings,
      ctx.principal === null ? undefined : shared.hostJobs,
    );
    if (ctx.principal === null) shared.hostJobs ??= this.jobs;
  }

  private get closed(): boolean {
    return this.shared.closed;
  }

  /**
   * Validates the options, initializes both stores (migrations, folders), checks that they belong to
   * one registry (binding them on first use; a warning `MODELREG_STORES_NOT_BOUND` when they do not,
   * and then `gc` deletes nothing), ends as `failed` the runs whose process died (no heartbeat for
   * `runLeaseMs`), and returns the registry.
   */
  static async open(options: RegistryOptions): Promise<ModelRegistry> {
    const opts = parseRegistryOptions(options);
    const metadata = guardMetadataStore(opts.metadata);
    const artifacts = guardArtifactStore(opts.artifacts);
    await metadata.init();
    try {
      await artifacts.init();
    } catch (e) {
      await metadata.close();
      throw e;
    }
    const now = opts.now ?? Date.now;
    const leases = new RunLeases(metadata, now, opts.runLeaseMs);
    // Neither step may keep a registry from opening (a worker may hold read-only credentials).
    const binding = await bindStores(metadata, artifacts).catch((e: unknown): Binding => ({
      bound: false,
      reason: `checking the registry id failed (${messageOf(e)})`,
    }));
    if (!binding.bound) {
      process.emitWarning(`[modelreg] ${binding.reason}; gc will delete nothing`, {
        code: 'MODELREG_STORES_NOT_BOUND',
      });
    }
    await leases.expire().catch((e: unknown) => {
      process.emitWarning(`[modelreg] ending the runs of dead processes failed: ${messageOf(e)}`);
    });
    const feed = new EventFeed(metadata, opts.eventPollIntervalMs, (e) => {
      process.emitWarning(`[modelreg] event listener failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    // A URI per cached model and a few spare: kept models pin their runtime, so this stays near the cache size.
    const resolved = new ResolvedModels(feed, opts.modelCacheSize * 2);
    const ctx: RegistryContext = {
      metadata,
      artifacts,
      stages: opts.stages,
      actor: opts.actor ?? defaultActor(),
      principal: null,
      now,
      changed: () => {
        resolved.changed();
        feed.poke();
      },
      leases,
      trainIsolation: opts.trainIsolation,
    };
    const queue = opts.jobs.queue ?? createEmbeddedQueue();
    try {
      await queue.init?.();
    } catch (e) {
      await feed.close();
      leases.close();
      await Promise.allSettled([metadata.close(), artifacts.close()]);
      throw e;
    }
    const w = opts.webhooks;
    const webhookSettings: WebhookSettings = {
      ...w,
      allowPrivate: w.allowPrivate ?? process.env['MODELREG_WEBHOOK_ALLOW_PRIVATE'] === 'true',
      transport: w.transport ?? httpTransport,
    };
    const dispatcher = new WebhookDispatcher(
      metadata,
      webhookSettings,
      defaultOwner(),
      now,
      (wake) => feed.on('*', wake),
      (e) => process.emitWarning(`[modelreg] webhook delivery failed: ${messageOf(e)}`),
    );
    return new ModelRegistry(ctx, {
      metadata,
      feed,
      webhookSettings,
      dispatcher,
      trainers: createDefaultTrainerRegistry(),
      cache: new ModelCache<ModelRuntime>(opts.modelCacheSize, (runtime) => runtime.dispose()),
      serving: new Set(),
      loaders: {
        native: loadNativeRuntime,
        onnx: createOnnxRuntimeLoader({ intraOpNumThreads: opts.onnxThreads }),
      },
      resolved,
      closed: false,
      jobSettings: { ...opts.jobs, queue },
    });
  }

  /**
   * A view of this registry that acts as `principal` (from `auth.authenticate`): the same stores,
   * model cache, trainers and event feed, but every change is checked against the principal's role
   * and model grants (`PERMISSION_DENIED`) and records the principal's name as its actor; a per-call
   * `actor` is refused (`INVALID_ARGUMENT`). Roles: `reader` reads; `predictor` also loads and
   * predicts (`load`, `predict`, `evaluate`, `watch`, `canary`); `editor` also uploads datasets, logs
   * runs, trains, registers and moves stages and aliases; `admin` also manages tokens, deletes and
   * runs `gc`. Model grants narrow a predictor's predictions and an editor's model changes to the
   * named models. A view is cheap (make one per request) and needs no closing; closing the registry
   * closes its views.
   */
  as(principal: Principal): ModelRegistry {
    if (this.ctx.principal !== null) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `this registry already acts as principal "${this.ctx.principal.name}"`,
        { where: 'as' },
      );
    }
    const p = parseArg(principalSchema, principal, 'principal', 'as');
    const stores = scopeStores(p, { metadata: this.ctx.metadata, artifacts: this.ctx.artifacts });
    return new ModelRegistry({ ...this.ctx, ...stores, actor: p.name, principal: p }, this.shared);
  }

  /** The principal this registry acts as, or `null` for the host's own registry (see {@link ModelRegistry.as}). */
  get principal(): Principal | null {
    return this.ctx.principal === null ? null : structuredClone(this.ctx.principal);
  }

  /** The configured stages, in order. */
  get stages(): readonly string[] {
    return this.ctx.stages;
  }

  /** The guarded stores, for tools that need them directly. */
  get stores(): { metadata: MetadataStore; artifacts: ArtifactStore } {
    return { metadata: this.ctx.metadata, artifacts: this.ctx.artifacts };
  }

  // ---- tracking ----
  /** Starts a run in an experiment (created when missing). */
  startRun(options?: StartRunOptions): Promise<RunHandle> {
    return startRun(this.ctx, options);
  }

  /** A handle on an existing run, for logging more or ending it. A deleted run is `CONFLICT` (restore it first). */
  async openRun(runId: string): Promise<RunHandle> {
    const handle = new RunHandle(this.ctx, parseArg(runIdSchema, runId, 'run id', 'runs'));
    const run = await handle.info();
    if (run.deletedAt !== null) {
      throw new RegistryError('CONFLICT', `run "${runId}" is deleted; restore it (restoreRun) first`, {
        where: 'runs',
      });
    }
    if (run.status === 'running') this.ctx.leases.hold(runId);
    return handle;
  }

  /** A run, deleted ones too (their `deletedAt` is set), or `null`. */
  async getRun(runId: string): Promise<Run | null> {
    return this.ctx.metadata.getRun(parseArg(runIdSchema, runId, 'run id', 'runs'));
  }

  /**
   * Soft-deletes a run (admin): it keeps its status, data and files, leaves default searches, and
   * no longer opens for logging until `restoreRun`. `CONFLICT` when it is already deleted.
   */
  deleteRun(runId: string): Promise<Run> {
    return experiments.deleteRun(this.ctx, runId);
  }

  /** Restores a deleted run (admin). `CONFLICT` when it is live or its experiment is deleted. */
  restoreRun(runId: string): Promise<Run> {
    return experiments.restoreRun(this.ctx, runId);
  }

  searchRuns(options: SearchRunsOptions): Promise<SearchRunsResult> {
    return searchRuns(this.ctx, options);
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    parseArg(runIdSchema, runId, 'run id', 'runs');
    parseArg(nameSchema, key, 'metric key', 'runs');
    if (!(await this.ctx.metadata.getRun(runId))) {
      throw new RegistryError('NOT_FOUND', `run "${runId}" does not exist`, { where: 'runs' });
    }
    return this.ctx.metadata.getMetricHistory(runId, parseArg(nameSchema, key, 'metric key', 'runs'));
  }

  /**
   * The experiment named `name`, created (without tags) when missing; concurrent calls in any
   * process get the same experiment. `INVALID_ARGUMENT` for a bad name.
   */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return getOrCreateExperiment(this.ctx, parseArg(nameSchema, name, 'experiment name', 'runs'));
  }

  /**
   * Creates an experiment with tags. `ALREADY_EXISTS` when the name is taken (by a deleted experiment
   * too); `getOrCreateExperiment` is the forgiving form. Event `experiment.created`.
   */
  createExperiment(name: string, options?: experiments.CreateExperimentOptions): Promise<Experiment> {
    return experiments.createExperiment(this.ctx, name, options);
  }

  /**
   * The experiment named `name` (or `{ id }`), deleted ones too (their `deletedAt` is set), or `null`.
   * The methods below take `{ id }` too: an id names one experiment even while names change.
   */
  getExperiment(ref: experiments.ExperimentRef): Promise<Experiment | null> {
    return experiments.getExperiment(this.ctx, ref);
  }

  /** Live experiments oldest first; `{ lifecycle: 'deleted' | 'all' }` lists deleted ones too. */
  listExperiments(options?: experiments.ListExperimentsOptions): Promise<Experiment[]> {
    return experiments.listExperiments(this.ctx, options);
  }

  /**
   * Renames an experiment and/or sets tags (`null` deletes one). `NOT_FOUND` for an unknown name,
   * `ALREADY_EXISTS` when the new name is taken (by a deleted experiment too), `CONFLICT` when the
   * experiment is deleted. Event `experiment.updated`.
   */
  updateExperiment(
    ref: experiments.ExperimentRef,
    change: experiments.ExperimentChangeOptions,
  ): Promise<Experiment> {
    return experiments.updateExperiment(this.ctx, ref, change);
  }

  /**
   * Soft-deletes an experiment and its live runs (admin): they leave default listings and searches,
   * the name stays taken, and no run starts in it until `restoreExperiment`. `CONFLICT` when it is
   * already deleted. Event `experiment.deleted`.
   */
  deleteExperiment(ref: experiments.ExperimentRef): Promise<Experiment> {
    return experiments.deleteExperiment(this.ctx, ref);
  }

  /**
   * Restores a deleted experiment and the runs deleted with it (admin); runs deleted on their own
   * before stay deleted. `CONFLICT` when it is live. Event `experiment.restored`.
   */
  restoreExperiment(ref: experiments.ExperimentRef): Promise<Experiment> {
    return experiments.restoreExperiment(this.ctx, ref);
  }

  // ---- registered models ----
  createModel(name: string, options?: models.CreateModelOptions): Promise<RegisteredModel> {
    return models.createModel(this.ctx, name, options);
  }
  getModel(name: string): Promise<RegisteredModel | null> {
    return models.getModel(this.ctx, name);
  }
  listModels(options?: models.ListModelsOptions): Promise<RegisteredModel[]> {
    return models.listModels(this.ctx, options);
  }
  updateModel(name: string, change: models.UpdateOptions): Promise<RegisteredModel> {
    return models.updateModel(this.ctx, name, change);
  }
  /** Soft-deletes a model: its versions and aliases disappear; its version numbers are never reused. */
  deleteModel(name: string): Promise<void> {
    return models.deleteModel(this.ctx, name);
  }
  /**
   * Renames a model (admin), atomically: its versions, aliases and stage history follow the new name
   * and the old name is free (`models:/<old>/…` is `NOT_FOUND` afterwards; `watch` of it reports
   * that and keeps serving). `ALREADY_EXISTS` when any model has `newName` (a deleted one too),
   * `CONFLICT` while the model has a live deployment. Grants name models by name: update tokens
   * granted the old name. Event `model.renamed` `{ name, newName }`.
   */
  renameModel(name: string, newName: string): Promise<RegisteredModel> {
    return models.renameModel(this.ctx, name, newName);
  }

  // ---- versions, stages, aliases ----
  /** Registers a run's logged model as the next version (the model is created when missing). */
  registerModel(name: string, options: models.RegisterModelOptions): Promise<ModelVersion> {
    return models.registerModel(this.ctx, name, options);
  }
  getVersion(name: string, version: number): Promise<ModelVersion | null> {
    return models.getVersion(this.ctx, name, version);
  }
  listVersions(name: string, options?: { stage?: string }): Promise<ModelVersion[]> {
    return models.listVersions(this.ctx, name, options);
  }
  updateVersion(name: string, version: number, change: models.UpdateOptions): Promise<ModelVersion> {
    return models.updateVersion(this.ctx, name, version, change);
  }
  /** Soft-deletes a version; its number is never reused and aliases pointing at it are removed. */
  deleteVersion(name: string, version: number): Promise<void> {
    return models.deleteVersion(this.ctx, name, version);
  }
  transitionStage(
    name: string,
    version: number,
    stage: string,
    options?: models.TransitionStageOptions,
  ): Promise<ModelVersion> {
    return models.transitionStage(this.ctx, name, version, stage, options);
  }
  setAlias(name: string, alias: string, version: number, options?: models.AliasOptions): Promise<void> {
    return models.setAlias(this.ctx, name, alias, version, options);
  }
  deleteAlias(name: string, alias: string, options?: models.AliasOptions): Promise<void> {
    return models.deleteAlias(this.ctx, name, alias, options);
  }
  /** The append-only history of stage and alias moves, oldest first. */
  getStageHistory(name: string, options?: { version?: number }): Promise<HistoryEntry[]> {
    return models.getStageHistory(this.ctx, name, options);
  }
  /**
   * Copies one version of `source` into this registry — its files (byte for byte, sha256 verified),
   * its run (params, full metric history, tags), description, tags and stage/alias history — as the
   * next version here: how a team promotes from a dev registry to a production one. All or nothing:
   * a failure leaves this registry's metadata as it was (details at {@link copyVersion}).
   */
  async copyVersionFrom(
    source: ModelRegistry,
    options: CopyModelVersionOptions,
  ): Promise<CopyModelVersionResult> {
    if (!(source instanceof ModelRegistry)) {
      throw new RegistryError('INVALID_ARGUMENT', 'the source of a copy must be a ModelRegistry', {
        where: 'copyModelVersion',
      });
    }
    return copyVersion(source.ctx, this.ctx, options);
  }

  /** What a `models:/…` or `runs:/…` URI points at now. */
  resolve(uri: string): Promise<ResolvedUri> {
    return resolveUri(this.ctx, uri);
  }

  // ---- training and prediction ----
  /**
   * Trains a model on a dataset and logs everything as one run: params, test metrics, tags (dataset
   * name, version and sha256, trainer) and the model folder; registers it when `register` is given.
   * Bad input (unknown target, single-class target, too few rows, bad params) fails before any run
   * is created. For the built-in trainers, parsing, fitting, metrics, the ONNX export and its parity
   * check run in a worker thread, so the caller's event loop stays free; trainers added with
   * {@link registerTrainer} run on the calling thread (see there). `onProgress` reports each phase.
   */
  train(options: TrainOptions): Promise<TrainResult> {
    return train(this.ctx, this.datasets, this.trainers, options);
  }

  /**
   * Adds a trainer, usable as `model: { type: trainer.name }` and to load the models it wrote.
   * A trainer is a closure of this thread, so `train` runs it — and parses, evaluates and exports
   * for it — on the calling thread, not in the train worker the built-in trainers use: a long `fit`
   * holds the event loop unless it yields (`await` between steps) and checks `signal`.
   */
  registerTrainer<P>(trainer: Trainer<P>): void {
    this.trainers.register(trainer);
  }

  /**
   * Loads the model a URI points at now. The first load of a model's content in this process reads
   * MODEL.json and every file of the model folder (the served one and the others) and checks each
   * against its recorded size and sha256 (`INTEGRITY` on mismatch); loaded models are then cached by
   * content, and concurrent loads of the same content share one read.
   */
  load(uri: string, options?: LoadOptions): Promise<LoadedModel> {
    try {
      authorizeModelUri(this.ctx.principal, 'predict', 'load a model', uri);
    } catch (e) {
      return Promise.reject(e);
    }
    if (options?.resolution === 'cached' && typeof uri === 'string' && !this.closed) {
      const { resolution: _, ...rest } = options;
      return this.shared.resolved.get(`${rest.format ?? 'auto'} ${uri}`, () => this.loadNow(uri, rest));
    }
    return this.loadNow(uri, options);
  }

  private loadNow(uri: string, options: LoadOptions | undefined): Promise<LoadedModel> {
    return loadModel(
      {
        source: this.source,
        trainers: this.trainers,
        cache: this.cache,
        loaders: this.loaders,
      },
      uri,
      options,
    );
  }

  /**
   * The MODEL.json of the model a URI points at (task, target, features, classes, files, trainer,
   * metrics, signature), checked against its recorded sha256 (`INTEGRITY`), without loading the model.
   */
  readManifest(uri: string): Promise<ModelManifest> {
    return readModelManifest(this.source, uri);
  }

  /**
   * One call: load and predict. The model a URI resolves to is kept between calls and follows the
   * registry's events as `watch` does: a stage or alias move made by this process is seen by the next
   * call, one made by another process as soon as its event arrives (the event feed's delay). The
   * permission to predict is checked on every call.
   */
  async predict(uri: string, input: PredictInput): Promise<Label[]> {
    return (await this.served(uri)).predict(input);
  }

  /** One call: load and predict class probabilities (the model is kept as in {@link ModelRegistry.predict}). */
  async predictProba(uri: string, input: PredictInput): Promise<ClassProbabilities[]> {
    return (await this.served(uri)).predictProba(input);
  }

  private served(uri: string): Promise<LoadedModel> {
    if (this.closed) {
      return Promise.reject(new RegistryError('CONFLICT', 'the registry is closed', { where: 'predict' }));
    }
    return this.load(uri, { resolution: 'cached' });
  }

  /** Scores the model on every row of a catalog dataset that has the model's target. */
  async evaluate(uri: string, options: EvaluateOptions): Promise<EvaluateResult> {
    return evaluate(await this.load(uri), this.datasets, options);
  }

  // ---- serving helpers ----
  /**
   * A model that follows `uri` (`models:/iris/production`, `models:/iris@champion`, `/latest`): it
   * returns at once, loads in the background, and when the stage or alias moves (in this process or
   * another one sharing the stores) loads the new version and swaps it in atomically; predictions in
   * flight finish on the old one. If the URI stops resolving or the new version fails to load, it
   * keeps serving the last good version and reports through `onError`. Closed with the registry.
   */
  watch(uri: string, options?: WatchOptions): LiveModel {
    if (this.closed) throw new RegistryError('CONFLICT', 'the registry is closed', { where: 'watch' });
    authorizeModelUri(this.ctx.principal, 'predict', 'watch a model', uri);
    const live = createLiveModel(this, uri, options, () => this.serving.delete(live));
    this.serving.add(live);
    return live;
  }

  /**
   * Splits the traffic of `model` between two versions.
   *
   * - `registry.canary({ model })` follows the model's stored deployment (`registry.deployments`):
   *   every process serves the same split, a change made anywhere is applied within the event feed's
   *   delay (about 0.5 s on SQLite, at once on Postgres), and a restart starts from the stored state.
   *   `setWeight`, `rollback` and `promote` write to the store, compare-and-set against the revision
   *   it serves.
   * - With `current`, `next` and `weight` it is an in-process canary, as before: each a version
   *   number, a stage name, `'@alias'` or `'latest'`; a `weight` share of rows goes to `next`,
   *   randomly or by a stable hash of `stickyKey(row)`; `shadow` answers with `current` only and runs
   *   `next` on the side. `promote()` moves current's stage or alias to next (recorded in the
   *   history), `rollback()` sets the weight to 0. Nothing is stored.
   *
   * Both arms follow their stage or alias like {@link ModelRegistry.watch}; `stats()` gives per-arm
   * counts and latency percentiles. Closed with the registry.
   */
  canary(options: CanaryOptions): Canary;
  canary(options: DeploymentCanaryOptions): DeploymentCanary;
  canary(options: CanaryOptions | DeploymentCanaryOptions): Canary | DeploymentCanary {
    if (this.closed) throw new RegistryError('CONFLICT', 'the registry is closed', { where: 'canary' });
    const model: unknown = (options as { model?: unknown } | undefined)?.model;
    authorize(this.ctx.principal, 'predict', 'run a canary', typeof model === 'string' ? model : undefined);
    const host = {
      stages: this.stages,
      watch: (uri: string, o?: WatchOptions) => createLiveModel(this, uri, o),
      resolve: (uri: string) => this.resolve(uri),
      transitionStage: this.transitionStage.bind(this),
      setAlias: this.setAlias.bind(this),
    };
    const follows =
      typeof options === 'object' &&
      options !== null &&
      !('current' in options) &&
      !('next' in options) &&
      !('weight' in options);
    const canary: Canary | DeploymentCanary = follows
      ? createDeploymentCanary(
          {
            ...host,
            on: (type, handler) => this.feed.on(type, handler),
            eventsReady: () => this.feed.ready(),
            getDeployment: (model) => this.deployments.get(model),
            setWeight: (model, weight, o) => this.deployments.setWeight(model, weight, o),
            rollback: (model, o) => this.deployments.rollback(model, o),
            promote: (model, o) => this.deployments.promote(model, o),
          },
          options,
          () => this.serving.delete(canary),
        )
      : createCanary(host, options as CanaryOptions, () => this.serving.delete(canary));
    this.serving.add(canary);
    return canary;
  }

  // ---- events and housekeeping ----
  /**
   * Calls `handler` for each event of `type` (or every event with `'*'`) written from now on, by
   * this process or another one sharing the stores. Returns a function that removes the handler.
   */
  on(type: EventType | '*', handler: EventHandler): () => void {
    parseArg(eventTypeSchema.or(z.literal('*')), type, 'event type', 'events');
    parseArg(
      z.custom<EventHandler>((v) => typeof v === 'function', 'must be a function'),
      handler,
      'event handler',
      'events',
    );
    return this.feed.on(type, handler);
  }

  /**
   * A named, leased position in the event log stored in the metadata store (admin): for consumers
   * that must resume where they stopped, across restarts and replicas (webhooks use one per webhook;
   * `@modelreg/bus-nats` relays with one). `owner` defaults to a new id per call; `leaseMs` to 30 s.
   */
  eventCursor(name: string, options?: EventCursorOptions): EventCursor {
    authorize(this.ctx.principal, 'admin', 'use an event cursor');
    return createEventCursor(this.ctx.metadata, name, options);
  }

  /** Resolves when event listeners are attached to the store (after the first `on`). */
  eventsReady(): Promise<void> {
    return this.feed.ready();
  }

  /**
   * Deletes what no metadata references and is older than the grace period — artifact objects, the
   * artifact store's temp files of killed writers, upload spool files — and ends as `failed` the runs
   * whose process died. Deletes nothing, and says why in `refused`, when the metadata store is not
   * the artifact store's own. `dryRun` reports without changing anything.
   */
  gc(options?: GcOptions): Promise<GcResult> {
    try {
      authorize(this.ctx.principal, 'admin', 'collect garbage');
    } catch (e) {
      return Promise.reject(e);
    }
    return collectGarbage(this.ctx, options);
  }

  /**
   * Stops the job queue in this process — running attempts are aborted and their jobs given back to
   * the queue (`job.requeued`, the attempt counts) for another process or the next start — stops
   * event delivery and closes both stores. Safe to call twice. On a view (`as`) it does nothing: the
   * registry the view came from owns the stores and the queue.
   */
  async close(): Promise<void> {
    if (this.closed || this.ctx.principal !== null) return;
    this.shared.closed = true;
    await this.jobs.close().catch((e: unknown) => {
      process.emitWarning(`[modelreg] stopping the job queue failed: ${messageOf(e)}`);
    });
    await Promise.allSettled([...this.serving].map((s) => s.close()));
    await this.shared.dispatcher.stop().catch((e: unknown) => {
      process.emitWarning(`[modelreg] stopping webhook delivery failed: ${messageOf(e)}`);
    });
    this.ctx.leases.close();
    this.shared.resolved.close();
    await this.feed.close();
    await this.cache.clear();
    await Promise.allSettled([this.ctx.metadata.close(), this.ctx.artifacts.close()]);
  }
}

/** What a registry shares with its views. */
interface Shared {
  /** The guarded, unscoped metadata store (authentication reads tokens through it). */
  readonly metadata: MetadataStore;
  readonly feed: EventFeed;
  readonly trainers: TrainerRegistry;
  readonly cache: ModelCache<ModelRuntime>;
  readonly serving: Set<{ close(): Promise<void> }>;
  readonly loaders: { native: RuntimeLoader; onnx: RuntimeLoader };
  /** The models `predict(uri)` serves, by URI. */
  readonly resolved: ResolvedModels;
  closed: boolean;
  readonly jobSettings: JobsSettings;
  readonly webhookSettings: WebhookSettings;
  /** Webhook delivery of this process (one per registry, started by `webhooks.start()`). */
  readonly dispatcher: WebhookDispatcher;
  /** The host registry's jobs, which run them; views submit through their own. */
  hostJobs?: Jobs;
}
