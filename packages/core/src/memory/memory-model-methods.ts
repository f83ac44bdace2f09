import { ownValue } from '../domain/records.js';
import type { HistoryEntry, ModelVersion, RegisteredModel } from '../domain/types.js';
import type { EventDraft, MetadataStore, ModelMethods, StageMethods } from '../stores/metadata-store.js';
import {
  aliasEntry,
  archiveStageFor,
  checkAliasCas,
  compareText,
  mergeTags,
  stageMoveEntry,
  systemActor,
} from '../stores/rules.js';
import { errors, WHERE } from './memory-state.js';
import type { Journal, ModelState, VersionRecord } from './memory-state.js';

type Who = Pick<HistoryEntry, 'actor' | 'comment' | 'time'>;
type NewModel = Parameters<MetadataStore['createModel']>[0];
const who = ({ actor, comment, time }: Who): Who => ({ actor, comment, time });

/** Registered models, versions, stages, aliases and their history, over the memory store's state. */
export function memoryModelMethods(
  models: Map<string, ModelState>,
  history: HistoryEntry[],
  { emit, record }: Journal,
  /** Whether a model has a live deployment (it may not be renamed then). */
  isDeployed: (name: string) => boolean,
): ModelMethods & StageMethods {
  const liveModel = (name: string): ModelState => {
    const state = models.get(name);
    if (!state || state.deletedAt !== null) throw errors.modelNotFound(name);
    return state;
  };
  const liveVersion = (name: string, version: number): VersionRecord => {
    const found = liveModel(name).versions.get(version);
    if (!found || found.deletedAt !== null) throw errors.versionNotFound(name, version);
    return found;
  };

  const toModel = (state: ModelState): RegisteredModel => {
    const aliases = Object.fromEntries([...state.aliases].sort(([a], [b]) => compareText(a, b)));
    return structuredClone({ ...state.model, aliases });
  };
  const toVersion = (state: ModelState | undefined, version: VersionRecord): ModelVersion => {
    const aliases = [...(state?.aliases ?? [])]
      .filter(([, v]) => v === version.version)
      .map(([alias]) => alias)
      .sort(compareText);
    return structuredClone({ ...version, aliases });
  };

  /** Creates or revives a model; the caller checked that no live model has the name. */
  const addModel = ({ name, description, tags, createdAt }: NewModel): ModelState => {
    const current = models.get(name);
    const lastVersion = current?.model.lastVersion ?? 0;
    const state: ModelState = {
      model: {
        name,
        description,
        tags: structuredClone(tags),
        lastVersion,
        createdAt,
        updatedAt: createdAt,
      },
      deletedAt: null,
      aliases: new Map(),
      versions: current?.versions ?? new Map(),
    };
    models.set(name, state);
    emit({ type: 'model.created', payload: { name } });
    return state;
  };
  /** Moves a version (and, with `archiveStage`, the others of its new stage): history and events, target first. */
  const moveStage = (
    state: ModelState,
    target: VersionRecord,
    toStage: string,
    archiveTo: string | undefined,
    by: Who,
  ): VersionRecord[] => {
    const archiveStage = archiveStageFor(toStage, archiveTo);
    const others = [...state.versions.values()]
      .filter(
        (v) => archiveStage !== undefined && v !== target && v.deletedAt === null && v.stage === toStage,
      )
      .sort((a, b) => a.version - b.version);
    const moves: Array<[VersionRecord, string]> = [
      [target, toStage],
      ...others.map((v): [VersionRecord, string] => [v, archiveStage!]),
    ];
    const drafts: EventDraft[] = [];
    const name = state.model.name;
    for (const [version, to] of moves) {
      const fromStage = version.stage;
      version.stage = to;
      version.updatedAt = by.time;
      record(stageMoveEntry(name, version.version, fromStage, to, by));
      drafts.push({
        type: 'version.stage_changed',
        payload: { name, version: version.version, fromStage, toStage: to },
      });
    }
    emit(...drafts);
    return others;
  };
  const pointAlias = (state: ModelState, alias: string, version: number, by: Who): void => {
    const name = state.model.name;
    const current = state.aliases.get(alias) ?? null;
    state.aliases.set(alias, version);
    record(aliasEntry('alias_set', name, alias, version, current, by));
    emit({ type: 'alias.set', payload: { name, alias, version, fromVersion: current } });
  };

  return {
    async createModel(input) {
      const current = models.get(input.name);
      if (current && current.deletedAt === null) throw errors.modelExists(input.name);
      return toModel(addModel(input));
    },
    async getModel(name) {
      const state = models.get(name);
      return state && state.deletedAt === null ? toModel(state) : null;
    },
    async listModels(query) {
      return [...models.values()]
        .filter((s) => s.deletedAt === null)
        .filter((s) => query.nameContains === undefined || s.model.name.includes(query.nameContains))
        .filter((s) => Object.entries(query.tags ?? {}).every(([k, v]) => ownValue(s.model.tags, k) === v))
        .sort((a, b) => compareText(a.model.name, b.model.name))
        .slice(query.offset, query.offset + query.limit)
        .map(toModel);
    },
    async updateModel(name, change) {
      const state = liveModel(name);
      if (change.description !== undefined) state.model.description = change.description;
      state.model.tags = mergeTags(state.model.tags, change.tags);
      state.model.updatedAt = change.time;
      emit({ type: 'model.updated', payload: { name } });
      return toModel(state);
    },
    async deleteModel(name, time) {
      const state = liveModel(name);
      state.deletedAt = time;
      state.aliases.clear();
      for (const version of state.versions.values()) version.deletedAt ??= time;
      emit({ type: 'model.deleted', payload: { name } });
    },
    async renameModel(name, newName, time) {
      const state = liveModel(name);
      const taken = models.get(newName);
      if (taken) throw errors.modelNameTaken(newName, taken.deletedAt !== null);
      if (isDeployed(name)) throw errors.modelDeployed(name);
      models.delete(name);
      models.set(newName, state);
      state.model.name = newName;
      state.model.updatedAt = time;
      for (const version of state.versions.values()) version.name = newName;
      for (const entry of history) if (entry.name === name) entry.name = newName;
      emit({ type: 'model.renamed', payload: { name, newName } });
      return toModel(state);
    },

    async createVersion(input) {
      // `run` and `runArtifacts` are the memory store's part (it owns the runs); see memory-metadata-store.
      const { createModel, placement, run: _run, runArtifacts: _files, ...fields } = input;
      const current = models.get(fields.name);
      const state =
        current && current.deletedAt === null
          ? current
          : createModel
            ? addModel({ name: fields.name, description: '', tags: {}, createdAt: fields.createdAt })
            : liveModel(fields.name);
      const number = state.model.lastVersion + 1;
      const initialStage = placement?.fromStage ?? fields.stage;
      const version: VersionRecord = {
        ...structuredClone(fields),
        stage: initialStage,
        version: number,
        updatedAt: fields.createdAt,
        deletedAt: null,
      };
      state.versions.set(number, version);
      state.model.lastVersion = number;
      state.model.updatedAt = Math.max(state.model.updatedAt, fields.createdAt);
      emit({ type: 'version.created', payload: { name: fields.name, version: number, stage: initialStage } });
      if (placement) {
        const by = { actor: placement.actor, comment: placement.comment, time: fields.createdAt };
        if (fields.stage !== initialStage) moveStage(state, version, fields.stage, placement.archiveTo, by);
        if (placement.alias !== undefined) pointAlias(state, placement.alias, number, by);
      }
      return toVersion(state, version);
    },
    async getVersion(name, version, options = {}) {
      const state = models.get(name);
      const found = state?.versions.get(version);
      if (!found || (found.deletedAt !== null && !options.includeDeleted)) return null;
      return toVersion(state, found);
    },
    async listVersions(name, options = {}) {
      const state = models.get(name);
      return [...(state?.versions.values() ?? [])]
        .filter((v) => options.includeDeleted || v.deletedAt === null)
        .filter((v) => options.stage === undefined || v.stage === options.stage)
        .sort((a, b) => a.version - b.version)
        .map((v) => toVersion(state, v));
    },
    async resolveVersion(name, selector) {
      const state = models.get(name);
      if (!state || state.deletedAt !== null) return null;
      const live = (n: number | undefined): VersionRecord | undefined => {
        const found = n === undefined ? undefined : state.versions.get(n);
        return found && found.deletedAt === null ? found : undefined;
      };
      let picked: VersionRecord | undefined;
      if (selector.type === 'version') picked = live(selector.version);
      else if (selector.type === 'alias') picked = live(state.aliases.get(selector.alias));
      else {
        for (let n = state.model.lastVersion; n >= 1 && !picked; n--) {
          const found = live(n);
          if (found && (selector.type === 'latest' || found.stage === selector.stage)) picked = found;
        }
      }
      return { version: picked ? toVersion(state, picked) : null };
    },
    async updateVersion(name, number, change) {
      const version = liveVersion(name, number);
      if (change.description !== undefined) version.description = change.description;
      version.tags = mergeTags(version.tags, change.tags);
      version.updatedAt = change.time;
      emit({ type: 'version.updated', payload: { name, version: number } });
      return toVersion(models.get(name), version);
    },
    async deleteVersion(name, number, time) {
      const version = liveVersion(name, number);
      const state = liveModel(name);
      const dropped = [...state.aliases]
        .filter(([, v]) => v === number)
        .map(([alias]) => alias)
        .sort(compareText);
      version.deletedAt = time;
      const drafts: EventDraft[] = [{ type: 'version.deleted', payload: { name, version: number } }];
      for (const alias of dropped) {
        state.aliases.delete(alias);
        record(aliasEntry('alias_deleted', name, alias, number, number, systemActor(time)));
        drafts.push({ type: 'alias.deleted', payload: { name, alias, version: number } });
      }
      emit(...drafts);
    },
    async transitionStage(change) {
      const target = liveVersion(change.name, change.version);
      const state = liveModel(change.name);
      if (target.stage === change.toStage) return { version: toVersion(state, target), archived: [] };
      const archiveStage = change.archiveExisting ? change.archiveStage : undefined;
      const others = moveStage(state, target, change.toStage, archiveStage, who(change));
      return { version: toVersion(state, target), archived: others.map((v) => toVersion(state, v)) };
    },

    async setAlias(change) {
      const { name, alias, version } = change;
      liveVersion(name, version);
      const state = liveModel(name);
      checkAliasCas(WHERE, change, state.aliases.get(alias) ?? null);
      pointAlias(state, alias, version, who(change));
    },
    async deleteAlias(change) {
      const { name, alias } = change;
      const state = liveModel(name);
      const current = state.aliases.get(alias);
      if (current === undefined) throw errors.aliasNotFound(name, alias);
      checkAliasCas(WHERE, change, current);
      state.aliases.delete(alias);
      record(aliasEntry('alias_deleted', name, alias, current, current, change));
      emit({ type: 'alias.deleted', payload: { name, alias, version: current } });
    },
    async getHistory(name, options = {}) {
      const state = models.get(name);
      if (!state || state.deletedAt !== null) return [];
      return history
        .filter((h) => h.name === name && (options.version === undefined || h.version === options.version))
        .map((h) => structuredClone(h));
    },
  };
}
