// The REST API of the Express server, as the UI uses it. Every read and write goes through these
// functions; URLs are relative to the page so the server can be mounted under a prefix.

import type {
  CanaryArmStats,
  HistoryEntry,
  Label,
  ModelManifest,
  ModelSignature,
  ModelVersion,
  RegisteredModel,
  Run,
} from '@modelreg/core/types';

export type {
  ColumnInfo,
  DatasetVersion,
  Experiment,
  HistoryEntry,
  Label,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
  SignatureInput,
} from '@modelreg/core/types';

export interface ModelSummary extends RegisteredModel {
  summary?: { latestVersion: number | null; stages: Record<string, number>; lastChange: HistoryEntry | null };
}

export interface ModelDetail extends RegisteredModel {
  latestVersions: ModelVersion[];
  stages: string[];
}

/** What the server answers of a logged model's MODEL.json. */
export interface ModelInfo extends Pick<ModelManifest, 'task' | 'target' | 'trainer' | 'metrics'> {
  classes: Label[] | null;
  signature: ModelSignature;
}

export interface RunDetail {
  run: Run;
  experiment: string | null;
  artifacts: { path: string; size: number; sha256: string }[];
  model: ModelInfo | null;
}

/** A training job (`POST /train` answers 202 with it; `GET /jobs/:id/events` streams its progress). */
export interface Job {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { phase: string; fraction: number };
  result: { runId: string; model: string | null; version: number | null } | null;
  error: { code: string; message: string } | null;
  submittedBy: string;
  createdAt: number;
}

export interface CanaryArm extends CanaryArmStats {
  ref: number | string;
}

export interface CanaryState {
  model: string;
  weight: number;
  shadow: boolean;
  mode?: string;
  revision?: number;
  stickyKey: string | null;
  createdAt: number;
  updatedAt?: number;
  updatedBy?: string;
  current: CanaryArm;
  next: CanaryArm;
}

/** An error answer of the API (`{ error: { code, message } }`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const isErrorBody = (v: unknown): v is { error: { code: string; message: string } } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { error?: { message?: unknown } }).error?.message === 'string';

const unauthenticatedListeners = new Set<() => void>();

/** Calls `listener` when the server answers 401 (the session ended); returns the unsubscribe. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

async function call<T>(method: string, path: string, body?: BodyInit, json = false): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { Accept: 'application/json', ...(json ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (e) {
    throw new ApiError(
      0,
      'NETWORK',
      `the server did not answer (${e instanceof Error ? e.message : 'network error'})`,
    );
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== 'auth/whoami' && path !== 'auth/session') {
      for (const listener of unauthenticatedListeners) listener();
    }
    if (isErrorBody(parsed)) throw new ApiError(res.status, parsed.error.code, parsed.error.message);
    throw new ApiError(res.status, 'HTTP', `${method} ${path} answered ${res.status} ${res.statusText}`);
  }
  return parsed as T;
}

/** Encodes one path segment (a name, a run id, an alias). */
export const seg = encodeURIComponent;

/** `a/b c.txt` -> `a/b%20c.txt`: each segment encoded, the slashes kept. */
export const artifactUrl = (runId: string, path: string): string =>
  `runs/${seg(runId)}/artifacts/${path.split('/').map(seg).join('/')}`;

export const api = {
  get: <T>(path: string): Promise<T> => call<T>('GET', path),
  post: <T>(path: string, body?: unknown): Promise<T> =>
    call<T>('POST', path, JSON.stringify(body ?? {}), true),
  put: <T>(path: string, body: unknown): Promise<T> => call<T>('PUT', path, JSON.stringify(body), true),
  patch: <T>(path: string, body: unknown): Promise<T> => call<T>('PATCH', path, JSON.stringify(body), true),
  delete: (path: string): Promise<void> => call<void>('DELETE', path),
  upload: <T>(path: string, form: FormData): Promise<T> => call<T>('POST', path, form),
};

/** The message of anything thrown, for the alert region. */
export const messageOf = (e: unknown): string =>
  e instanceof ApiError ? `${e.message} (${e.status ? `${e.status} ` : ''}${e.code})` : String(e);
