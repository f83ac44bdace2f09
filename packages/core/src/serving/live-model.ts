import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import type { EventType, ModelVersion, RegistryEvent } from '../domain/types.js';
import { parseModelUri } from '../domain/uri.js';
import { RegistryError } from '../errors.js';
import type { EventHandler, ResolvedUri } from './ports.js';
import type { Label } from '../training/trainer.js';
import type { LoadedModel, LoadOptions } from './load.js';
import type { ClassProbabilities } from './predictor.js';
import type { PredictInput } from './signature.js';

const where = 'watch';

/** Told after a live model started serving another version. */
export interface SwapEvent {
  uri: string;
  /** The version served before (`null` for the first load). */
  from: ModelVersion | null;
  to: ModelVersion;
  /** sha256 of the new version's MODEL.json. */
  digest: string;
}

/** Told when a re-check failed; the live model keeps serving what it had (`serving`). */
export interface WatchErrorEvent {
  uri: string;
  /** `resolve`: the URI no longer points at a version (e.g. the alias was deleted); `load`: its files could not be loaded. */
  phase: 'resolve' | 'load';
  error: unknown;
  /** The version still being served, or `null` when nothing has loaded yet. */
  serving: ModelVersion | null;
}

export const watchOptionsSchema = z
  .object({
    /** Which model file to serve (as in `registry.load`). */
    format: z.enum(['native', 'onnx']).optional(),
    /** Called after each swap to another version, and after the first load (`from: null`). */
    onSwap: z.custom<(e: SwapEvent) => void>((v) => typeof v === 'function').optional(),
    /** Called when a re-check fails; default: a process warning. */
    onError: z.custom<(e: WatchErrorEvent) => void>((v) => typeof v === 'function').optional(),
    /** Events arriving within this window cause one re-check. Default 25 ms. */
    debounceMs: z.number().int().min(0).max(60_000).default(25),
    /** Safety re-check in case an event was missed (e.g. a dropped connection). Default 30 s; 0 turns it off. */
    recheckIntervalMs: z.number().int().min(0).max(86_400_000).default(30_000),
  })
  .strict();
export type WatchOptions = z.input<typeof watchOptionsSchema>;

/**
 * A model that always predicts with the version its URI resolves to now. It re-resolves when an
 * event may have moved the URI (stage change, alias set or deleted, version created or deleted,
 * model deleted or renamed), also when the change was made by another process, and on a slow safety timer.
 * A new version is loaded in the background and swapped in with one reference assignment once it
 * is fully loaded: a prediction runs entirely on the model it started with, never on a half-loaded
 * one.
 *
 * When a re-check fails (the URI stopped resolving, e.g. its alias was deleted, or the new files do
 * not load) the live model keeps serving the last good version, reports through `onError`, and
 * sets {@link LiveModel.lastError} until a later re-check succeeds.
 */
export interface LiveModel {
  readonly uri: string;
  /** The model being served now, or `null` before the first load. */
  readonly current: LoadedModel | null;
  /** The version being served now, or `null` before the first load (and for `runs:/` URIs). */
  readonly version: ModelVersion | null;
  /** The error of the last re-check, or `null` when it succeeded. */
  readonly lastError: unknown;
  /**
   * Resolves with the first loaded model. If that load failed, rejects with its error; calling
   * again retries.
   */
  ready(): Promise<LoadedModel>;
  /** Predicts with the current version (awaits the first load). */
  predict(input: PredictInput): Promise<Label[]>;
  predictProba(input: PredictInput): Promise<ClassProbabilities[]>;
  /** Predicts and tells which version served the whole batch. */
  predictWithVersion(input: PredictInput): Promise<{ predictions: Label[]; version: ModelVersion | null }>;
  /** Re-resolves now (and swaps if the URI moved); resolves when done. Errors go to `onError`. */
  refresh(): Promise<void>;
  /** Stops listening; predictions after close are refused. Safe to call twice. */
  close(): Promise<void>;
}

/** What a live model needs from the registry. */
export interface LiveModelHost {
  resolve(uri: string): Promise<ResolvedUri>;
  load(uri: string, options?: LoadOptions): Promise<LoadedModel>;
  on(type: EventType | '*', handler: EventHandler): () => void;
  eventsReady(): Promise<void>;
}

/** Event types after which a `models:/` URI may resolve to another version (also for `registry.predict`'s cache). */
export const relevantEvents: ReadonlySet<string> = new Set<EventType>([
  'version.stage_changed',
  'alias.set',
  'alias.deleted',
  'version.created',
  'version.deleted',
  'model.deleted',
  'model.created',
  'model.renamed',
]);

interface Deferred {
  promise: Promise<LoadedModel>;
  resolve: (m: LoadedModel) => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: (m: LoadedModel) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<LoadedModel>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that await it still see a rejection; nobody awaiting it is not an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function digestOf(resolved: ResolvedUri): string | undefined {
  return resolved.files.find((f) => f.path === 'MODEL.json')?.sha256;
}

class LiveModelImpl implements LiveModel {
  readonly uri: string;
  private model: LoadedModel | null = null;
  private error: unknown = null;
  private first = deferred();
  private firstFailed = false;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private debounce: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly modelName: string | null;

  constructor(
    private readonly host: LiveModelHost,
    uri: string,
    private readonly opts: z.output<typeof watchOptionsSchema>,
    private readonly onClose: () => void,
  ) {
    this.uri = uri;
    const parsed = parseModelUri(uri);
    this.modelName = parsed.kind === 'model' ? parsed.name : null;
    // runs:/ URIs are immutable: load once, nothing to listen to.
    if (this.modelName !== null) {
      this.unsubscribe = host.on('*', (e) => this.onEvent(e));
      if (opts.recheckIntervalMs > 0) {
        this.timer = setInterval(() => void this.refresh(), opts.recheckIntervalMs);
        this.timer.unref();
      }
    }
    // Listen first, then resolve: a move made after the feed started is never missed.
    void (this.modelName !== null ? host.eventsReady() : Promise.resolve()).then(() => this.refresh());
  }

  get current(): LoadedModel | null {
    return this.model;
  }

  get version(): ModelVersion | null {
    return this.model?.version ?? null;
  }

  get lastError(): unknown {
    return this.error;
  }

  ready(): Promise<LoadedModel> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.model) return Promise.resolve(this.model);
    if (this.firstFailed) {
      this.firstFailed = false;
      this.first = deferred();
      void this.refresh();
    }
    return this.first.promise;
  }

  private async serving(): Promise<LoadedModel> {
    if (this.closed) throw this.closedError();
    return this.model ?? this.ready();
  }

  /** Runs `f` on one model reference (a swap meanwhile does not change what answers this call). */
  private async withModel<T>(f: (m: LoadedModel) => Promise<T>): Promise<{ value: T; model: LoadedModel }> {
    const model = await this.serving();
    return { value: await f(model), model };
  }

  async predict(input: PredictInput): Promise<Label[]> {
    return (await this.withModel((m) => m.predict(input))).value;
  }

  async predictProba(input: PredictInput): Promise<ClassProbabilities[]> {
    return (await this.withModel((m) => m.predictProba(input))).value;
  }

  async predictWithVersion(
    input: PredictInput,
  ): Promise<{ predictions: Label[]; version: ModelVersion | null }> {
    const { value, model } = await this.withModel((m) => m.predict(input));
    return { predictions: value, version: model.version };
  }

  private onEvent(event: RegistryEvent): void {
    if (!relevantEvents.has(event.type)) return;
    // A rename moves the URIs of both names: the old one stops resolving, the new one starts.
    if (event.payload.name !== this.modelName && event.payload.newName !== this.modelName) return;
    if (this.debounce || this.closed) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.refresh();
    }, this.opts.debounceMs);
    this.debounce.unref();
  }

  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.check();
        } while (this.again && !this.closed);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async check(): Promise<void> {
    let resolved: ResolvedUri;
    try {
      resolved = await this.host.resolve(this.uri);
    } catch (e) {
      this.fail('resolve', e);
      return;
    }
    const now = this.model;
    if (now && now.digest === digestOf(resolved) && now.version?.version === resolved.modelVersion?.version) {
      this.error = null;
      return;
    }
    let loaded: LoadedModel;
    try {
      loaded = await this.host.load(this.uri, this.opts.format ? { format: this.opts.format } : undefined);
    } catch (e) {
      this.fail('load', e);
      return;
    }
    if (this.closed) return;
    this.error = null;
    const from = this.model;
    // The swap: one assignment, after the new model is fully loaded.
    this.model = loaded;
    if (!from) this.first.resolve(loaded);
    if (
      loaded.version &&
      (from?.version?.version !== loaded.version.version || from.digest !== loaded.digest)
    ) {
      const swap: SwapEvent = {
        uri: this.uri,
        from: from?.version ?? null,
        to: loaded.version,
        digest: loaded.digest,
      };
      try {
        this.opts.onSwap?.(swap);
      } catch (e) {
        process.emitWarning(`[modelreg] [${where}] onSwap of ${this.uri} threw: ${String(e)}`);
      }
    }
  }

  private fail(phase: 'resolve' | 'load', error: unknown): void {
    if (this.closed) return;
    this.error = error;
    if (!this.model) {
      this.firstFailed = true;
      this.first.reject(error);
    }
    const event: WatchErrorEvent = { uri: this.uri, phase, error, serving: this.model?.version ?? null };
    try {
      if (this.opts.onError) this.opts.onError(event);
      else
        process.emitWarning(
          `[modelreg] [${where}] ${this.uri}: ${phase} failed, ${this.model ? `still serving version ${this.model.version?.version ?? this.model.digest.slice(0, 12)}` : 'nothing loaded yet'}: ${error instanceof Error ? error.message : String(error)}`,
        );
    } catch (e) {
      process.emitWarning(`[modelreg] [${where}] onError of ${this.uri} threw: ${String(e)}`);
    }
  }

  private closedError(): RegistryError {
    return new RegistryError('CONFLICT', `the live model of ${this.uri} is closed`, { where });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    if (!this.model) this.first.reject(this.closedError());
    await this.refreshing;
    this.onClose();
  }
}

/**
 * Starts watching `uri` and returns at once; the first load runs in the background. `onClose` is
 * called once when the live model is closed (the registry uses it to forget it).
 */
export function createLiveModel(
  host: LiveModelHost,
  uri: string,
  options?: WatchOptions,
  onClose: () => void = () => undefined,
): LiveModel {
  parseModelUri(uri);
  const opts = parseArg(watchOptionsSchema, options ?? {}, 'watch options', where);
  return new LiveModelImpl(host, uri, opts, onClose);
}
