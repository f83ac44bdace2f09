import { RegistryError } from '../errors.js';
import type { MetadataInspector } from '../stores/inspector.js';
import type {
  DatasetVersion,
  Experiment,
  HistoryEntry,
  LifecycleView,
  RegistryEvent,
  Run,
} from '../domain/types.js';
import { assignOwn, ownValue } from '../domain/records.js';
import type { EventDraft, MetadataStore, RunSearchQuery } from '../stores/metadata-store.js';
import { memoryJobMethods } from './memory-jobs.js';
import { memoryIdentityMethods } from './memory-identity.js';
import { memoryDeploymentMethods } from './memory-deployments.js';
import type { DeploymentState } from './memory-deployments.js';
import { memoryWebhookMethods } from './memory-webhooks.js';
import { memoryModelMethods } from './memory-model-methods.js';
import { comparePoints, compareRuns, matchesRun } from './memory-run-query.js';
import { compareText, mergeTags, newArtifacts, newParams } from '../stores/rules.js';
import { errors, WHERE } from './memory-state.js';
import type { Journal, LoggedPoint, ModelState, RunState } from './memory-state.js';

interface MemoryState {
  events: RegistryEvent[];
  history: HistoryEntry[];
  models: Map<string, ModelState>;
  runs: Map<string, RunState>;
}
const internals = new WeakMap<MetadataStore, MemoryState>();

/** The reference {@link MetadataStore}: everything lives in this process and is lost on exit. */
export function createMemoryMetadataStore(): MetadataStore {
  const experiments = new Map<string, Experiment>();
  const runs = new Map<string, RunState>();
  const models = new Map<string, ModelState>();
  const datasets = new Map<string, DatasetVersion[]>();
  const history: HistoryEntry[] = [];
  const events: RegistryEvent[] = [];
  /** Last heartbeat per run that sent one. */
  const heartbeats = new Map<string, number>();
  let registryId: string | null = null;
  let metricOrder = 0;

  const journal: Journal = {
    emit: (...drafts) => {
      const time = Date.now();
      for (const draft of drafts) events.push({ seq: events.length + 1, time, ...structuredClone(draft) });
    },
    record: (entry) => {
      history.push({ id: history.length + 1, ...entry });
    },
  };
  const { emit } = journal;
  const deployments = new Map<string, DeploymentState>();
  const modelMethods = memoryModelMethods(
    models,
    history,
    journal,
    (name) => (deployments.get(name)?.live ?? null) !== null,
  );

  const runOf = (id: string): RunState => {
    const state = runs.get(id);
    if (!state) throw errors.runNotFound(id);
    return state;
  };
  const toRun = (state: RunState): Run => {
    const latestMetrics = Object.fromEntries([...state.latest].map(([key, point]) => [key, point.value]));
    return structuredClone({ ...state.run, latestMetrics });
  };
  const experimentOf = (id: string): Experiment => {
    const found = experiments.get(id);
    if (!found) throw errors.experimentNotFound(id);
    return found;
  };
  const inView = (deletedAt: number | null, view: LifecycleView = 'active'): boolean =>
    view === 'all' || (view === 'active') === (deletedAt === null);
  const liveDatasets = (name: string): DatasetVersion[] =>
    (datasets.get(name) ?? []).filter((d) => d.deletedAt === null);

  const store: MetadataStore = {
    name: WHERE,
    async init() {},
    async close() {},
    ...modelMethods,
    ...memoryJobMethods(journal),
    ...memoryIdentityMethods(journal),
    ...memoryDeploymentMethods(emit, deployments),
    ...memoryWebhookMethods(),

    async createVersion(input) {
      // Validate everything, then write without awaiting in between: no other call can see a part.
      const { run, runArtifacts = [] } = input;
      const model = models.get(input.name);
      if ((!model || model.deletedAt !== null) && !input.createModel) {
        throw errors.modelNotFound(input.name);
      }
      const newRun = run !== undefined && !runs.has(run.run.id);
      const experiment = run && [...experiments.values()].find((e) => e.name === run.experiment.name);
      if (newRun && !experiment && experiments.has(run.experiment.id)) {
        throw errors.experimentIdTaken(run.experiment.id);
      }
      if (newRun && experiment && experiment.deletedAt !== null) {
        throw errors.experimentDeleted(experiment.id, experiment.name);
      }
      if (runArtifacts.length > 0) {
        const runId = input.runId ?? '';
        const known = runs.get(runId)?.artifacts;
        if (!runs.has(runId) && !(newRun && run.run.id === runId)) throw errors.runNotFound(runId);
        newArtifacts(WHERE, runId, runArtifacts, (path) => known?.get(path)?.sha256);
      }
      const writes: Promise<unknown>[] = [];
      if (newRun) {
        if (!experiment) writes.push(store.createExperiment(run.experiment));
        const experimentId = experiment?.id ?? run.experiment.id;
        writes.push(
          store.createRun({ ...run.run, experimentId }),
          store.logParams(run.run.id, run.params),
          store.logMetrics(run.run.id, run.metrics),
        );
        if (run.status !== 'running')
          writes.push(store.endRun(run.run.id, run.status, run.endTime ?? run.run.startTime));
      }
      if (runArtifacts.length > 0) writes.push(store.recordRunArtifacts(input.runId!, runArtifacts));
      const created = modelMethods.createVersion(input);
      await Promise.all(writes);
      return created;
    },

    async createExperiment(experiment) {
      for (const existing of experiments.values()) {
        if (existing.name === experiment.name) throw errors.experimentExists(experiment.name);
      }
      if (experiments.has(experiment.id)) throw errors.experimentIdTaken(experiment.id);
      const stored: Experiment = { ...structuredClone(experiment), deletedAt: null };
      experiments.set(experiment.id, stored);
      emit({ type: 'experiment.created', payload: { id: experiment.id, name: experiment.name } });
      return structuredClone(stored);
    },
    async getExperiment(id) {
      const found = experiments.get(id);
      return found ? structuredClone(found) : null;
    },
    async getExperimentByName(name) {
      const found = [...experiments.values()].find((e) => e.name === name);
      return found ? structuredClone(found) : null;
    },
    async listExperiments(query = {}) {
      // Map iteration is insertion order, so equal createdAt keeps creation order (stable sort).
      return [...experiments.values()]
        .filter((e) => inView(e.deletedAt, query.lifecycle))
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((e) => structuredClone(e));
    },
    async updateExperiment(id, change) {
      const experiment = experimentOf(id);
      if (experiment.deletedAt !== null) throw errors.experimentDeleted(id, experiment.name);
      const fromName = experiment.name;
      if (change.name !== undefined && change.name !== fromName) {
        for (const other of experiments.values()) {
          if (other.name === change.name) throw errors.experimentExists(change.name);
        }
        experiment.name = change.name;
      }
      experiment.tags = mergeTags(experiment.tags, change.tags);
      emit({ type: 'experiment.updated', payload: { id, name: experiment.name, fromName } });
      return structuredClone(experiment);
    },
    async deleteExperiment(id, time) {
      const experiment = experimentOf(id);
      if (experiment.deletedAt !== null) throw errors.experimentDeleted(id, experiment.name);
      experiment.deletedAt = time;
      for (const { run } of runs.values()) {
        if (run.experimentId === id && run.deletedAt === null) run.deletedAt = time;
      }
      emit({ type: 'experiment.deleted', payload: { id, name: experiment.name } });
      return structuredClone(experiment);
    },
    async restoreExperiment(id) {
      const experiment = experimentOf(id);
      if (experiment.deletedAt === null) throw errors.experimentNotDeleted(id, experiment.name);
      for (const { run } of runs.values()) {
        if (run.experimentId === id && run.deletedAt === experiment.deletedAt) run.deletedAt = null;
      }
      experiment.deletedAt = null;
      emit({ type: 'experiment.restored', payload: { id, name: experiment.name } });
      return structuredClone(experiment);
    },

    async createRun(run) {
      const experiment = experimentOf(run.experimentId);
      if (experiment.deletedAt !== null) throw errors.experimentDeleted(experiment.id, experiment.name);
      if (runs.has(run.id)) throw errors.runExists(run.id);
      const state: RunState = {
        run: { ...structuredClone(run), status: 'running', endTime: null, params: {}, deletedAt: null },
        metrics: [],
        latest: new Map(),
        artifacts: new Map(),
      };
      runs.set(run.id, state);
      emit({ type: 'run.created', payload: { runId: run.id, experimentId: run.experimentId } });
      return toRun(state);
    },
    async getRun(id) {
      const state = runs.get(id);
      return state ? toRun(state) : null;
    },
    async deleteRun(id, time) {
      const { run } = runOf(id);
      if (run.deletedAt !== null) throw errors.runDeleted(id);
      run.deletedAt = time;
      emit({ type: 'run.deleted', payload: { runId: id, experimentId: run.experimentId } });
      return toRun(runOf(id));
    },
    async restoreRun(id) {
      const { run } = runOf(id);
      if (run.deletedAt === null) throw errors.runNotDeleted(id);
      if (experimentOf(run.experimentId).deletedAt !== null) {
        throw errors.runOfDeletedExperiment(id, run.experimentId);
      }
      run.deletedAt = null;
      emit({ type: 'run.restored', payload: { runId: id, experimentId: run.experimentId } });
      return toRun(runOf(id));
    },
    async endRun(id, status, endTime) {
      const state = runOf(id);
      if (state.run.status !== 'running') throw errors.runEnded(id, state.run.status);
      state.run.status = status;
      state.run.endTime = endTime;
      emit({ type: 'run.updated', payload: { runId: id, status } });
      return toRun(state);
    },
    async logParams(runId, params) {
      const state = runOf(runId);
      const added = newParams(WHERE, runId, params, (key) => ownValue(state.run.params, key));
      assignOwn(state.run.params, Object.fromEntries(added));
    },
    async logMetrics(runId, points) {
      const state = runOf(runId);
      for (const point of points) {
        const logged: LoggedPoint = { ...structuredClone(point), order: ++metricOrder };
        state.metrics.push(logged);
        const latest = state.latest.get(point.key);
        if (!latest || comparePoints(logged, latest) > 0) state.latest.set(point.key, logged);
      }
    },
    async setRunTags(runId, tags) {
      assignOwn(runOf(runId).run.tags, tags);
    },
    async deleteRunTag(runId, key) {
      delete runOf(runId).run.tags[key];
    },
    async getMetricHistory(runId, key) {
      const points = runs.get(runId)?.metrics.filter((p) => p.key === key) ?? [];
      return points
        .sort(comparePoints)
        .map(({ key: k, value, step, timestamp }) => ({ key: k, value, step, timestamp }));
    },
    async searchRuns(query: RunSearchQuery) {
      const experimentIds = new Set(query.experimentIds);
      return [...runs.values()]
        .filter((s) => experimentIds.has(s.run.experimentId) && inView(s.run.deletedAt, query.lifecycle))
        .filter((s) => matchesRun(s, query.where ?? {}))
        .sort(compareRuns(query.orderBy ?? []))
        .slice(query.offset, query.offset + query.limit)
        .map(toRun);
    },

    async recordRunArtifacts(runId, files) {
      const state = runOf(runId);
      const added = newArtifacts(WHERE, runId, files, (path) => state.artifacts.get(path)?.sha256);
      for (const file of added) state.artifacts.set(file.path, structuredClone(file));
    },
    async listRunArtifacts(runId, prefix = '') {
      const files = [...(runs.get(runId)?.artifacts.values() ?? [])].filter((f) => f.path.startsWith(prefix));
      return files.sort((a, b) => compareText(a.path, b.path)).map((f) => structuredClone(f));
    },

    async createDatasetVersion(input) {
      const all = datasets.get(input.name) ?? [];
      const same = all.find((d) => d.deletedAt === null && d.sha256 === input.sha256);
      if (same) return { dataset: structuredClone(same), created: false };
      const version = all.reduce((max, d) => Math.max(max, d.version), 0) + 1;
      const dataset: DatasetVersion = { ...structuredClone(input), version, deletedAt: null };
      datasets.set(input.name, [...all, dataset]);
      emit({ type: 'dataset.created', payload: { name: input.name, version, sha256: input.sha256 } });
      return { dataset: structuredClone(dataset), created: true };
    },
    async getDataset(name, version) {
      const live = liveDatasets(name);
      const found = version === undefined ? live.at(-1) : live.find((d) => d.version === version);
      return found ? structuredClone(found) : null;
    },
    async listDatasets() {
      return [...datasets.keys()]
        .sort(compareText)
        .flatMap((name) => liveDatasets(name).slice(-1))
        .map((d) => structuredClone(d));
    },
    async listDatasetVersions(name) {
      return liveDatasets(name).map((d) => structuredClone(d));
    },
    async deleteDataset(name, version, time) {
      const targets = liveDatasets(name).filter((d) => version === undefined || d.version === version);
      if (targets.length === 0) {
        throw errors.datasetNotFound(name, version);
      }
      for (const d of targets) d.deletedAt = time;
      emit(
        ...targets.map((d): EventDraft => ({
          type: 'dataset.deleted',
          payload: { name, version: d.version },
        })),
      );
    },

    async listReferencedKeys() {
      const keys = new Set<string>();
      for (const state of runs.values()) for (const file of state.artifacts.values()) keys.add(file.key);
      for (const state of models.values()) {
        for (const version of state.versions.values()) for (const file of version.files) keys.add(file.key);
      }
      for (const versions of datasets.values()) for (const d of versions) keys.add(d.key);
      return [...keys].sort(compareText);
    },

    async readEvents(afterSeq, limit) {
      return events
        .filter((e) => e.seq > afterSeq)
        .slice(0, limit)
        .map((e) => structuredClone(e));
    },
    async lastEventSeq() {
      return events.length;
    },

    async getRegistryId() {
      return registryId;
    },
    async claimRegistryId(id) {
      registryId ??= id;
      return registryId;
    },
    async heartbeatRuns(runIds, time) {
      const alive = runIds.filter((id) => runs.get(id)?.run.status === 'running');
      for (const id of alive) heartbeats.set(id, time);
      return alive;
    },
    async expireRuns({ heartbeatBefore, endTime, dryRun }) {
      const expired = [...runs.values()]
        .filter((s) => s.run.status === 'running')
        .filter((s) => (heartbeats.get(s.run.id) ?? s.run.startTime) < heartbeatBefore)
        .map((s) => s.run.id)
        .sort(compareText);
      if (dryRun) return expired;
      for (const id of expired) {
        const { run } = runOf(id);
        run.status = 'failed';
        run.endTime = endTime;
      }
      emit(
        ...expired.map((runId) => ({ type: 'run.updated' as const, payload: { runId, status: 'failed' } })),
      );
      return expired;
    },
  };
  internals.set(store, { events, history, models, runs });
  return store;
}

/**
 * The conformance suite's backdoor into a memory store (what is really kept, not what reads return).
 * Internal: not exported from the package barrel. `MetadataInspector` is declared with the stores, so
 * memory implements it without importing `testing`.
 */
export function inspectMemoryMetadataStore(store: MetadataStore): MetadataInspector {
  const state = internals.get(store);
  if (!state) throw new RegistryError('INVALID_ARGUMENT', 'not a memory metadata store', { where: WHERE });
  return {
    countEvents: async () => state.events.length,
    countHistory: async () => state.history.length,
    rawVersion: async (name: string, version: number) => {
      const found = state.models.get(name)?.versions.get(version);
      if (!found) return null;
      const { stage, deletedAt, tags, files } = structuredClone(found);
      return { stage, deletedAt, tags, files };
    },
    rawModel: async (name) => {
      const found = state.models.get(name);
      if (!found) return null;
      const { lastVersion, tags } = structuredClone(found.model);
      return { deletedAt: found.deletedAt, lastVersion, tags };
    },
    rawAlias: async (name, alias) => state.models.get(name)?.aliases.get(alias) ?? null,
    rawRunArtifacts: async (runId) =>
      [...(state.runs.get(runId)?.artifacts.values() ?? [])]
        .map((f) => structuredClone(f))
        .sort((a, b) => compareText(a.path, b.path)),
  };
}
