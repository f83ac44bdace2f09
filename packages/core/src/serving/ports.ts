import type { FileRecord, ModelVersion, RegistryEvent } from '../domain/types.js';
import type { ArtifactStore } from '../stores/artifact-store.js';

/**
 * What serving needs from the registry, declared here so that serving never imports the registry:
 * the registry (the facade, one layer up) implements these ports and passes them in.
 */

/** What a URI points at now. */
export interface ResolvedUri {
  uri: string;
  /** The version for `models:/` URIs; `null` for `runs:/` URIs. */
  modelVersion: ModelVersion | null;
  runId: string | null;
  /** The model folder inside the run's artifacts (e.g. `model`). */
  path: string;
  /** The files, with paths relative to the model folder. */
  files: FileRecord[];
}

/** A listener of registry events (`registry.on`). */
export type EventHandler = (event: RegistryEvent) => void;

/** Where `load` finds a model: URI resolution plus read access to the (guarded) artifact store. */
export interface ModelSource {
  resolve(uri: string): Promise<ResolvedUri>;
  readonly artifacts: Pick<ArtifactStore, 'get' | 'getStream'>;
}

/** The options a canary passes when it promotes by moving a stage (see `registry.transitionStage`). */
export interface StageMoveOptions {
  archiveExisting?: boolean;
  comment?: string;
  actor?: string;
}

/** The options a canary passes when it promotes by moving an alias (see `registry.setAlias`). */
export interface AliasMoveOptions {
  ifVersion?: number | null;
  comment?: string;
  actor?: string;
}
