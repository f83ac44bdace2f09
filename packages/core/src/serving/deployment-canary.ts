import { z } from 'zod';
import type { Deployment } from '../domain/deployments.js';
import { nameSchema, parseArg } from '../domain/names.js';
import type { EventType } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type {
  Canary,
  CanaryArm,
  CanaryHost,
  CanaryPrediction,
  PromoteOptions,
  PromoteResult,
} from './canary.js';
import { createCanary, refreshCanary, stickyKeyField } from './canary.js';
import type { CanaryStats } from './canary-stats.js';
import type { WatchErrorEvent } from './live-model.js';
import type { EventHandler } from './ports.js';
import type { PredictInput } from './signature.js';
import type { LoadedModel } from './load.js';
import type { Label } from '../training/trainer.js';

const where = 'canary';
const fn = <T>() => z.custom<T>((v) => typeof v === 'function');

export const deploymentCanaryOptionsSchema = z.strictObject({
  /** The registered model whose stored deployment this canary follows. */
  model: nameSchema,
  /** Random source in [0, 1) for non-sticky routing; default `Math.random`. */
  random: fn<() => number>().optional(),
  /** Which model file both arms serve (as in `registry.load`). */
  format: z.enum(['native', 'onnx']).optional(),
  /** How many recent latencies per arm the percentiles are computed from. Default 1024. */
  latencySamples: z.number().int().min(16).max(1_000_000).default(1024),
  /** Told when an arm's re-check fails (it keeps serving its last good version). */
  onError: fn<(e: WatchErrorEvent & { arm: CanaryArm }) => void>().optional(),
  /** Told after this canary applied a new revision of the deployment (`null`: it was deleted). */
  onChange: fn<(deployment: Deployment | null) => void>().optional(),
  /** How an arm predicts its rows; default `model.predict(rows)` (e.g. a `PredictBatcher`'s `predict`). */
  predict: fn<(model: LoadedModel, rows: PredictInput) => Promise<Label[]>>().optional(),
});
/** Options of `registry.canary({ model })`: a canary that follows the model's stored deployment. */
export type DeploymentCanaryOptions = z.input<typeof deploymentCanaryOptionsSchema>;

/**
 * A canary that follows the stored deployment of its model (see `registry.deployments`): in every
 * process, a change made anywhere is applied within the event feed's delay, and a new process starts
 * from the stored state. Changes made through it go to the store with compare-and-set against the
 * revision it serves.
 */
export interface DeploymentCanary extends Omit<Canary, 'setWeight' | 'rollback' | 'promote'> {
  /** The deployment this canary serves now (`null`: the model has none, and `predict` is `NOT_FOUND`). */
  readonly deployment: Deployment | null;
  /** Stores a new weight (compare-and-set against the served revision) and applies it. */
  setWeight(weight: number): Promise<Deployment>;
  /** Stores weight 0 (compare-and-set against the served revision) and applies it. */
  rollback(): Promise<Deployment>;
  /** `registry.deployments.promote` against the served revision; see there. */
  promote(options?: PromoteOptions): Promise<PromoteResult>;
  /** Re-reads the stored deployment now; resolves once applied. */
  sync(): Promise<void>;
}

type ChangeOptions = { ifRevision?: number; comment?: string; actor?: string };

/** What a following canary needs from the registry. */
export interface DeploymentCanaryHost extends CanaryHost {
  on(type: EventType | '*', handler: EventHandler): () => void;
  eventsReady(): Promise<void>;
  /** The stored deployment, or `null`. */
  getDeployment(model: string): Promise<Deployment | null>;
  setWeight(model: string, weight: number, options: ChangeOptions): Promise<Deployment>;
  rollback(model: string, options: ChangeOptions): Promise<Deployment>;
  promote(
    model: string,
    options: ChangeOptions,
  ): Promise<{ deployment: Deployment; from: number; to: number; target: PromoteResult['target'] }>;
}

type Inner = ReturnType<typeof createCanary>;

const shapeOf = (d: Deployment): string => JSON.stringify([d.current, d.next, d.stickyKey, d.mode]);

const emptyArm = { version: null, rows: 0, requests: 0, errors: 0, latencyMs: null };

class DeploymentCanaryImpl implements DeploymentCanary {
  readonly model: string;
  private state: Deployment | null = null;
  private inner: Inner | undefined;
  private readonly unsubscribe: Array<() => void>;
  private syncing: Promise<void> = Promise.resolve();
  private readonly loaded: Promise<void>;
  private closed = false;
  private readonly retiring = new Set<Inner>();

  constructor(
    private readonly host: DeploymentCanaryHost,
    private readonly opts: z.output<typeof deploymentCanaryOptionsSchema>,
    private readonly onClose: () => void,
  ) {
    this.model = opts.model;
    const onEvent: EventHandler = (e) => {
      if (e.payload['model'] !== this.model) return;
      const revision = e.payload['revision'];
      if (typeof revision === 'number' && this.state && revision <= this.state.revision) return;
      void this.sync();
    };
    this.unsubscribe = [host.on('deployment.updated', onEvent), host.on('deployment.deleted', onEvent)];
    // Listen first, then read: a change made after the feed started is never missed.
    this.loaded = host.eventsReady().then(() => this.sync());
    this.loaded.catch(() => undefined);
  }

  get deployment(): Deployment | null {
    return this.state === null ? null : structuredClone(this.state);
  }

  get weight(): number {
    return this.inner?.weight ?? 0;
  }

  get shadow(): boolean {
    return this.state?.mode === 'shadow';
  }

  sync(): Promise<void> {
    const run = this.syncing.then(async () => {
      if (this.closed) return;
      this.apply(await this.host.getDeployment(this.model));
    });
    this.syncing = run.catch(() => undefined);
    return run;
  }

  /** Applies a stored state unless it is older than the one served. */
  private apply(next: Deployment | null): void {
    if (this.closed) return;
    const prev = this.state;
    if (next && prev && next.revision <= prev.revision) return;
    if (next === null && prev === null) return;
    this.state = next;
    if (next === null) {
      void this.swap(undefined);
    } else if (!this.inner || !prev || shapeOf(prev) !== shapeOf(next)) {
      void this.swap(this.build(next));
    } else {
      this.inner.setWeight(next.weight);
    }
    this.opts.onChange?.(this.deployment);
  }

  private build(d: Deployment): Inner {
    const opts = this.opts;
    return createCanary(this.host, {
      model: this.model,
      current: d.current,
      next: d.next,
      weight: d.weight,
      shadow: d.mode === 'shadow',
      latencySamples: opts.latencySamples,
      ...(d.stickyKey ? { stickyKey: stickyKeyField(d.stickyKey) } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.format ? { format: opts.format } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
      ...(opts.predict ? { predict: opts.predict } : {}),
    });
  }

  /** Serves `next` from now on; the old arms close once it has loaded, so calls in flight finish on them. */
  private async swap(next: Inner | undefined): Promise<void> {
    const old = this.inner;
    this.inner = next;
    if (!old) return;
    this.retiring.add(old);
    await next?.ready().catch(() => undefined);
    await old.close();
    this.retiring.delete(old);
  }

  async ready(): Promise<void> {
    await this.loaded;
    await this.syncing;
    const inner = this.inner;
    if (!inner) throw this.noDeployment();
    await inner.ready();
  }

  private noDeployment(): RegistryError {
    return new RegistryError('NOT_FOUND', `model "${this.model}" has no deployment`, { where });
  }

  async predict(input: PredictInput): Promise<CanaryPrediction> {
    if (this.closed)
      throw new RegistryError('CONFLICT', `the canary of "${this.model}" is closed`, { where });
    if (!this.inner) await this.loaded;
    const inner = this.inner;
    if (!inner) throw this.noDeployment();
    return inner.predict(input);
  }

  private revision(): number {
    if (!this.state) throw this.noDeployment();
    return this.state.revision;
  }

  async setWeight(weight: number): Promise<Deployment> {
    const saved = await this.host.setWeight(this.model, weight, { ifRevision: this.revision() });
    this.apply(saved);
    return saved;
  }

  async rollback(): Promise<Deployment> {
    const saved = await this.host.rollback(this.model, { ifRevision: this.revision() });
    this.apply(saved);
    return saved;
  }

  async promote(options?: PromoteOptions): Promise<PromoteResult> {
    const { deployment, from, to, target } = await this.host.promote(this.model, {
      ...(options ?? {}),
      ifRevision: this.revision(),
    });
    this.apply(deployment);
    if (this.inner) await refreshCanary(this.inner);
    return { from, to, target };
  }

  stats(): CanaryStats {
    return (
      this.inner?.stats() ?? {
        weight: 0,
        shadow: this.shadow,
        current: { ...emptyArm },
        next: { ...emptyArm },
      }
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    await this.syncing;
    await Promise.allSettled([this.swap(undefined), ...[...this.retiring].map((c) => c.close())]);
    this.onClose();
  }
}

/** Validates the options and starts following the stored deployment; returns at once. */
export function createDeploymentCanary(
  host: DeploymentCanaryHost,
  options: DeploymentCanaryOptions,
  onClose: () => void = () => undefined,
): DeploymentCanary {
  const opts = parseArg(deploymentCanaryOptionsSchema, options, 'canary options', where);
  return new DeploymentCanaryImpl(host, opts, onClose);
}
