import { setOwn } from '../domain/records.js';
import type { FileRecord, HistoryEntry } from '../domain/types.js';
import { RegistryError } from '../errors.js';

/**
 * The rules every metadata store applies, with their messages, in one place: the memory store,
 * meta-sqlite and meta-postgres call these and own only persistence and atomicity.
 */

/** The `NOT_FOUND` / `ALREADY_EXISTS` errors of a store, worded the same in every store; `where` is the store's name. */
export function storeErrors(where: string) {
  const error = (code: 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT', message: string): RegistryError =>
    new RegistryError(code, message, { where });
  return {
    modelNotFound: (name: string) => error('NOT_FOUND', `model "${name}" does not exist`),
    versionNotFound: (name: string, version: number) =>
      error('NOT_FOUND', `model "${name}" has no version ${version}`),
    aliasNotFound: (name: string, alias: string) =>
      error('NOT_FOUND', `model "${name}" has no alias "${alias}"`),
    modelExists: (name: string) => error('ALREADY_EXISTS', `model "${name}" already exists`),
    runNotFound: (id: string) => error('NOT_FOUND', `run "${id}" does not exist`),
    experimentNotFound: (id: string) => error('NOT_FOUND', `experiment "${id}" does not exist`),
    runExists: (id: string) => error('ALREADY_EXISTS', `run "${id}" already exists`),
    runEnded: (id: string, status: string) => error('CONFLICT', `run "${id}" has already ended (${status})`),
    experimentExists: (name: string) => error('ALREADY_EXISTS', `experiment "${name}" already exists`),
    experimentIdTaken: (id: string) => error('ALREADY_EXISTS', `experiment id "${id}" is already taken`),
    experimentDeleted: (id: string, name: string) =>
      error('CONFLICT', `experiment "${name}" (id "${id}") is deleted; restore it first`),
    experimentNotDeleted: (id: string, name: string) =>
      error('CONFLICT', `experiment "${name}" (id "${id}") is not deleted`),
    runDeleted: (id: string) => error('CONFLICT', `run "${id}" is deleted; restore it first`),
    runNotDeleted: (id: string) => error('CONFLICT', `run "${id}" is not deleted`),
    runOfDeletedExperiment: (id: string, experimentId: string) =>
      error(
        'CONFLICT',
        `run "${id}" belongs to the deleted experiment "${experimentId}"; restore the experiment instead`,
      ),
    modelNameTaken: (name: string, deleted: boolean) =>
      error(
        'ALREADY_EXISTS',
        deleted
          ? `model "${name}" exists as a deleted model, which keeps that name's version numbers; choose another name`
          : `model "${name}" already exists`,
      ),
    modelDeployed: (name: string) =>
      error('CONFLICT', `model "${name}" has a live deployment; delete the deployment before renaming it`),
    tokenNotFound: (id: string) => error('NOT_FOUND', `token "${id}" does not exist`),
    tokenExists: (id: string) => error('ALREADY_EXISTS', `token "${id}" (or its secret) already exists`),
    deploymentNotFound: (model: string) => error('NOT_FOUND', `model "${model}" has no deployment`),
    webhookNotFound: (id: string) => error('NOT_FOUND', `webhook "${id}" does not exist`),
    webhookExists: (id: string) => error('ALREADY_EXISTS', `webhook "${id}" already exists`),
    cursorNotFound: (name: string) => error('NOT_FOUND', `event cursor "${name}" does not exist`),
    cursorNotHeld: (name: string, owner: string, holder: string | null) =>
      error(
        'CONFLICT',
        `event cursor "${name}" is not leased to "${owner}" (${holder === null ? 'its lease is free or expired' : `"${holder}" holds it`})`,
      ),
    datasetNotFound: (name: string, version?: number) =>
      error(
        'NOT_FOUND',
        version === undefined
          ? `dataset "${name}" does not exist`
          : `dataset "${name}" has no version ${version}`,
      ),
  };
}
export type StoreErrors = ReturnType<typeof storeErrors>;

const versionText = (v: number | null): string => (v === null ? 'nothing' : `version ${v}`);

/**
 * The alias compare-and-set: with `ifVersion` given (a number, or `null` for "the alias must not
 * exist"), the alias must point at it now, else `CONFLICT`. `current` is `null` when the alias is unset.
 */
export function checkAliasCas(
  where: string,
  change: { name: string; alias: string; ifVersion?: number | null | undefined },
  current: number | null,
): void {
  if (change.ifVersion === undefined || change.ifVersion === current) return;
  throw new RegistryError(
    'CONFLICT',
    `alias "${change.alias}" of model "${change.name}" points at ${versionText(current)}, not ${versionText(change.ifVersion)}`,
    { where, details: { alias: change.alias, current, expected: change.ifVersion } },
  );
}

const revisionText = (r: number | null): string => (r === null ? 'no deployment' : `revision ${r}`);

/**
 * The deployment compare-and-set: with `ifRevision` given (a number, or `null` for "the model must
 * have no live deployment"), the live deployment must be at it now, else `CONFLICT`. `current` is the
 * live deployment's revision, `null` when there is none.
 */
export function checkDeploymentCas(
  where: string,
  model: string,
  ifRevision: number | null | undefined,
  current: number | null,
): void {
  if (ifRevision === undefined || ifRevision === current) return;
  throw new RegistryError(
    'CONFLICT',
    `the deployment of model "${model}" is at ${revisionText(current)}, not ${revisionText(ifRevision)}`,
    { where, details: { model, current, expected: ifRevision } },
  );
}

/**
 * The stage the other versions of `toStage` move to, or `undefined` when nothing is archived:
 * archiving is asked for and the archive stage is not the target stage itself.
 */
export function archiveStageFor(toStage: string, archiveStage: string | undefined): string | undefined {
  return archiveStage !== undefined && archiveStage !== toStage ? archiveStage : undefined;
}

/** Tag changes: a string sets the key, `null` removes it. */
export type TagChange = Record<string, string | null> | undefined;

/** The tags after `change`: a new object; `tags` is not modified. */
export function mergeTags(tags: Record<string, string>, change: TagChange): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) setOwn(merged, key, value);
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === null) delete merged[key];
    else setOwn(merged, key, value);
  }
  return merged;
}

/** A tag change split for a store that merges in SQL: the keys to set, and the keys to remove. */
export function splitTagChange(change: TagChange): { set: Record<string, string>; removed: string[] } {
  const set: Record<string, string> = {};
  const removed: string[] = [];
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === null) removed.push(key);
    else setOwn(set, key, value);
  }
  return { set, removed };
}

/** The order of names, aliases, paths and ids in every store: by UTF-16 code unit, as SQL `COLLATE "C"`/BINARY. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The wait before retry `attempt` (0-based) of a transaction the database refused for a transient
 * reason (busy, serialization failure, deadlock): jittered exponential backoff, half fixed and half
 * random, so competing writers spread out. At most `capMs`.
 */
export function backoffMs(attempt: number, baseMs = 10, capMs = 500): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

type Who = Pick<HistoryEntry, 'actor' | 'comment' | 'time'>;
export type HistoryDraft = Omit<HistoryEntry, 'id'>;

/** The history entry of one stage move. */
export const stageMoveEntry = (
  name: string,
  version: number,
  fromStage: string,
  toStage: string,
  { actor, comment, time }: Who,
): HistoryDraft => ({
  name,
  kind: 'stage',
  version,
  fromStage,
  toStage,
  alias: null,
  fromVersion: null,
  actor,
  comment,
  time,
});

/** The history entry of an alias set (`fromVersion`: where it pointed before, or `null`) or deleted. */
export const aliasEntry = (
  kind: 'alias_set' | 'alias_deleted',
  name: string,
  alias: string,
  version: number,
  fromVersion: number | null,
  { actor, comment, time }: Who,
): HistoryDraft => ({
  name,
  kind,
  version,
  fromStage: null,
  toStage: null,
  alias,
  fromVersion,
  actor,
  comment,
  time,
});

/** Who dropped the aliases of a deleted version: the store itself. */
export const systemActor = (time: number): Who => ({ actor: 'system', comment: '', time });

/**
 * Params are write-once: logging a key again with the same value is a no-op, with another value
 * `CONFLICT`. `current` reads the stored value of a key. Returns the entries not stored yet.
 */
export function newParams(
  where: string,
  runId: string,
  params: Record<string, string>,
  current: (key: string) => string | undefined,
): Array<[string, string]> {
  const added: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(params)) {
    const stored = current(key);
    if (stored === undefined) added.push([key, value]);
    else if (stored !== value) {
      throw new RegistryError(
        'CONFLICT',
        `param "${key}" of run "${runId}" is already ${JSON.stringify(stored)}, cannot set ${JSON.stringify(value)}; params are write-once`,
        { where, details: { runId, key } },
      );
    }
  }
  return added;
}

/**
 * A run's artifact records are write-once per path: the same sha256 again is a no-op, another one
 * `ALREADY_EXISTS`, also within one batch. `stored` reads the recorded sha256 of a path. Returns
 * the records to add, one per new path.
 */
export function newArtifacts(
  where: string,
  runId: string,
  files: FileRecord[],
  stored: (path: string) => string | undefined,
): FileRecord[] {
  const pending = new Map<string, FileRecord>();
  for (const file of files) {
    const sha256 = pending.get(file.path)?.sha256 ?? stored(file.path);
    if (sha256 !== undefined && sha256 !== file.sha256) {
      throw new RegistryError(
        'ALREADY_EXISTS',
        `run "${runId}" already has artifact "${file.path}" with another sha256`,
        { where, details: { runId, path: file.path } },
      );
    }
    if (sha256 === undefined) pending.set(file.path, file);
  }
  return [...pending.values()];
}
