import { z } from 'zod';
import { readCsvRecords } from '../datasets/csv.js';
import { nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import type { ModelVersion } from '../domain/types.js';
import { RegistryError, invalidArgument } from '../errors.js';
import { aliasSchema } from '../domain/names.js';
import { formatModelUri } from '../domain/uri.js';
import type { AliasMoveOptions, ResolvedUri, StageMoveOptions } from './ports.js';
import type { Label } from '../training/trainer.js';
import type { CanaryStats } from './canary-stats.js';
import { ArmMeter, stableFraction } from './canary-stats.js';
import type { LiveModel, WatchErrorEvent, WatchOptions } from './live-model.js';
import type { LoadedModel } from './load.js';
import type { PredictInput } from './signature.js';

const where = 'canary';

export type CanaryArm = 'current' | 'next';

const fn = <T>() => z.custom<T>((v) => typeof v === 'function');
const weightSchema = z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1');
/** A version number, a stage name, `'@alias'` or `'latest'`. */
const armRefSchema = z.union([versionNumberSchema, z.string().min(1).max(130)]);

export const canaryOptionsSchema = z
  .object({
    /** The registered model. */
    model: nameSchema,
    /** What serves by default: a version number, a stage name (`'production'`) or `'@alias'`. */
    current: armRefSchema,
    /** The candidate, in the same forms. */
    next: armRefSchema,
    /** Share of rows routed to `next`, from 0 to 1. */
    weight: weightSchema,
    /**
     * Routes by a stable hash of this key instead of a random draw: the same key always goes to the
     * same arm for a given weight (and raising the weight only moves keys from current to next).
     * Needs record input (or CSV).
     */
    stickyKey: fn<(row: Record<string, unknown>) => string | number>().optional(),
    /** Always answer with `current`; also run `next` on the rows routed to it, in the background, to measure it. */
    shadow: z.boolean().default(false),
    /** Random source in [0, 1) for non-sticky routing; default `Math.random`. Tests inject a seeded one. */
    random: fn<() => number>().optional(),
    /** Which model file both arms serve (as in `registry.load`). */
    format: z.enum(['native', 'onnx']).optional(),
    /** How many recent latencies per arm the percentiles are computed from. Default 1024. */
    latencySamples: z.number().int().min(16).max(1_000_000).default(1024),
    /** Told when an arm's re-check fails (it keeps serving its last good version). Default: a process warning. */
    onError: fn<(e: WatchErrorEvent & { arm: CanaryArm }) => void>().optional(),
    /** How an arm predicts its rows; default `model.predict(rows)` (e.g. a `PredictBatcher`'s `predict`). */
    predict: fn<(model: LoadedModel, rows: PredictInput) => Promise<Label[]>>().optional(),
  })
  .strict();
export type CanaryOptions = z.input<typeof canaryOptionsSchema>;

export const promoteOptionsSchema = z
  .object({ comment: z.string().max(5000).optional(), actor: z.string().min(1).max(256).optional() })
  .strict();
export type PromoteOptions = z.input<typeof promoteOptionsSchema>;

/** What `canary.predict` returns. */
export interface CanaryPrediction {
  /** One per input row, in input order. */
  predictions: Label[];
  /** Which arm answered each row (in shadow mode always `'current'`). */
  arms: CanaryArm[];
  /** The version each arm served in this call (or serves now, when no row went to it; `null` before it loaded). */
  versions: { current: number | null; next: number | null };
  /** Shadow mode: rows also sent to `next` in the background (0 otherwise). */
  shadowed: number;
}

/** What `canary.promote` did. */
export interface PromoteResult {
  /** The version that served before. */
  from: number;
  /** The version that serves now. */
  to: number;
  /** The stage or alias that moved. */
  target: { stage: string } | { alias: string };
}

/**
 * Splits traffic of one model between two versions. Both arms are {@link LiveModel}s, so they follow
 * their stage or alias when it moves (in this process or another one).
 */
export interface Canary {
  readonly model: string;
  /** Share of rows routed to `next` now. */
  readonly weight: number;
  readonly shadow: boolean;
  /** Resolves when both arms have loaded. */
  ready(): Promise<void>;
  /**
   * Routes each row to an arm, predicts each arm's rows as one batch (both arms in parallel), and
   * merges the answers back in input order. An arm failure fails the call (and counts as an error of
   * that arm); in shadow mode, `next` failures are only counted.
   */
  predict(input: PredictInput): Promise<CanaryPrediction>;
  /** From 0 to 1, else `INVALID_ARGUMENT`. */
  setWeight(weight: number): void;
  /**
   * Makes `next` the new `current`: moves `current`'s stage to it (archiving the version there) or
   * moves `current`'s alias to it with compare-and-set (`CONFLICT` if someone moved the alias
   * meanwhile). Recorded in the stage history with the comment. Afterwards every row goes to the
   * new current (weight 0). `INVALID_ARGUMENT` when `current` is a version number or `latest`.
   */
  promote(options?: PromoteOptions): Promise<PromoteResult>;
  /** Sends every row back to `current` (weight 0). */
  rollback(): void;
  stats(): CanaryStats;
  /** Closes both arms; waits for shadow predictions in flight. Safe to call twice. */
  close(): Promise<void>;
}

/** What a canary needs from the registry. */
export interface CanaryHost {
  readonly stages: readonly string[];
  watch(uri: string, options?: WatchOptions): LiveModel;
  resolve(uri: string): Promise<ResolvedUri>;
  transitionStage(
    name: string,
    version: number,
    stage: string,
    options?: StageMoveOptions,
  ): Promise<ModelVersion>;
  setAlias(name: string, alias: string, version: number, options?: AliasMoveOptions): Promise<void>;
}

type ArmRef =
  | { kind: 'version'; version: number; uri: string }
  | { kind: 'latest'; uri: string }
  | { kind: 'stage'; stage: string; uri: string }
  | { kind: 'alias'; alias: string; uri: string };

function parseArmRef(host: CanaryHost, model: string, ref: number | string, which: CanaryArm): ArmRef {
  if (typeof ref === 'number') return { kind: 'version', version: ref, uri: formatModelUri(model, ref) };
  if (/^\d+$/.test(ref)) {
    const version = parseArg(versionNumberSchema, Number(ref), `canary ${which} version`, where);
    return { kind: 'version', version, uri: formatModelUri(model, version) };
  }
  if (ref.startsWith('@')) {
    const alias = parseArg(aliasSchema, ref.slice(1), `canary ${which} alias`, where);
    return { kind: 'alias', alias, uri: formatModelUri(model, { alias }) };
  }
  if (ref.toLowerCase() === 'latest') return { kind: 'latest', uri: formatModelUri(model, 'latest') };
  const stage = host.stages.find((s) => s.toLowerCase() === ref.toLowerCase());
  if (!stage) {
    throw invalidArgument(
      `canary ${which} ${JSON.stringify(ref)} is not a version number, '@alias', 'latest' or a stage (${host.stages.join(', ')})`,
      where,
    );
  }
  return { kind: 'stage', stage, uri: formatModelUri(model, stage) };
}

const inputSchema = z.union([z.array(z.unknown()), z.object({ csv: z.string() })]);

function rowsOf(input: PredictInput): ReadonlyArray<unknown> {
  const parsed = parseArg(inputSchema, input, 'canary predict input', where);
  if (Array.isArray(parsed)) return input as ReadonlyArray<unknown>;
  // The dataset CSV reader, as `predict({ csv })` uses: records of cell text that the models read with their value rules.
  return readCsvRecords((parsed as { csv: string }).csv, { label: 'canary predict CSV', allowNoRows: true });
}

const pick = <T>(rows: ReadonlyArray<T>, idx: readonly number[]): T[] => idx.map((i) => rows[i]!);

/** How a canary's owner re-resolves both arms now (after a promote moved a stage or alias). */
const refreshers = new WeakMap<Canary, () => Promise<void>>();
export const refreshCanary = (canary: Canary): Promise<void> =>
  refreshers.get(canary)?.() ?? Promise.resolve();

class CanaryImpl implements Canary {
  readonly model: string;
  readonly shadow: boolean;
  private w: number;
  private readonly refs: Record<CanaryArm, ArmRef>;
  private readonly arms: Record<CanaryArm, LiveModel>;
  private readonly meters: Record<CanaryArm, ArmMeter>;
  private readonly random: () => number;
  private readonly shadows = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly host: CanaryHost,
    private readonly opts: z.output<typeof canaryOptionsSchema>,
    private readonly onClose: () => void,
  ) {
    this.model = opts.model;
    this.shadow = opts.shadow;
    this.w = opts.weight;
    this.random = opts.random ?? Math.random;
    this.refs = {
      current: parseArmRef(host, opts.model, opts.current, 'current'),
      next: parseArmRef(host, opts.model, opts.next, 'next'),
    };
    const watch = (arm: CanaryArm): LiveModel =>
      host.watch(this.refs[arm].uri, {
        ...(opts.format ? { format: opts.format } : {}),
        ...(opts.onError ? { onError: (e: WatchErrorEvent) => opts.onError?.({ ...e, arm }) } : {}),
      });
    this.arms = { current: watch('current'), next: watch('next') };
    refreshers.set(this, async () => {
      await Promise.all([this.arms.current.refresh(), this.arms.next.refresh()]);
    });
    this.meters = { current: new ArmMeter(opts.latencySamples), next: new ArmMeter(opts.latencySamples) };
  }

  get weight(): number {
    return this.w;
  }

  async ready(): Promise<void> {
    await Promise.all([this.arms.current.ready(), this.arms.next.ready()]);
  }

  setWeight(weight: number): void {
    this.w = parseArg(weightSchema, weight, 'canary weight', where);
  }

  rollback(): void {
    this.w = 0;
  }

  private route(rows: ReadonlyArray<unknown>): CanaryArm[] {
    const weight = this.w;
    const arms = new Array<CanaryArm>(rows.length);
    const key = this.opts.stickyKey;
    for (let i = 0; i < rows.length; i++) {
      let fraction: number;
      if (key) {
        const row = rows[i];
        if (typeof row !== 'object' || row === null || Array.isArray(row)) {
          throw invalidArgument(`row ${i}: stickyKey needs records (or CSV), got a non-record row`, where, {
            row: i,
          });
        }
        const k = key(row as Record<string, unknown>);
        if (typeof k !== 'string' && typeof k !== 'number') {
          throw invalidArgument(`row ${i}: stickyKey returned ${typeof k}, expected a string`, where, {
            row: i,
          });
        }
        fraction = stableFraction(String(k));
      } else {
        fraction = weight === 0 ? 1 : this.random();
      }
      arms[i] = fraction < weight ? 'next' : 'current';
    }
    return arms;
  }

  private async runArm(
    arm: CanaryArm,
    rows: ReadonlyArray<unknown>,
  ): Promise<{ predictions: Label[]; version: number | null }> {
    const meter = this.meters[arm];
    let model: LoadedModel;
    try {
      const live = this.arms[arm];
      model = live.current ?? (await live.ready());
      const t0 = performance.now();
      const predict = this.opts.predict;
      const predictions = await (predict
        ? predict(model, rows as PredictInput)
        : model.predict(rows as PredictInput));
      meter.record(rows.length, performance.now() - t0);
      return { predictions, version: model.version?.version ?? null };
    } catch (e) {
      meter.fail();
      throw e;
    }
  }

  async predict(input: PredictInput): Promise<CanaryPrediction> {
    if (this.closed)
      throw new RegistryError('CONFLICT', `the canary of "${this.model}" is closed`, { where });
    const rows = rowsOf(input);
    const routed = this.route(rows);
    const idx: Record<CanaryArm, number[]> = { current: [], next: [] };
    for (let i = 0; i < routed.length; i++) idx[routed[i]!].push(i);
    const versions = {
      current: this.arms.current.version?.version ?? null,
      next: this.arms.next.version?.version ?? null,
    };

    if (this.shadow) {
      const served = rows.length > 0 ? await this.runArm('current', rows) : null;
      if (served) versions.current = served.version;
      if (idx.next.length > 0) {
        const shadow = this.runArm('next', pick(rows, idx.next)).catch(() => undefined);
        this.shadows.add(shadow);
        void shadow.finally(() => this.shadows.delete(shadow));
      }
      return {
        predictions: served?.predictions ?? [],
        arms: new Array<CanaryArm>(rows.length).fill('current'),
        versions,
        shadowed: idx.next.length,
      };
    }

    const run = (arm: CanaryArm) =>
      idx[arm].length > 0
        ? this.runArm(arm, idx[arm].length === rows.length ? rows : pick(rows, idx[arm]))
        : null;
    const [current, next] = await Promise.all([run('current'), run('next')]);
    const predictions = new Array<Label>(rows.length);
    for (const [arm, result] of [
      ['current', current],
      ['next', next],
    ] as const) {
      if (!result) continue;
      versions[arm] = result.version;
      const positions = idx[arm];
      for (let j = 0; j < positions.length; j++) predictions[positions[j]!] = result.predictions[j]!;
    }
    return { predictions, arms: routed, versions, shadowed: 0 };
  }

  async promote(options?: PromoteOptions): Promise<PromoteResult> {
    const opts = parseArg(promoteOptionsSchema, options ?? {}, 'promote options', where);
    const ref = this.refs.current;
    if (ref.kind === 'version' || ref.kind === 'latest') {
      throw invalidArgument(
        `cannot promote: current is ${ref.kind === 'version' ? `the fixed version ${ref.version}` : "'latest'"}, which nothing can be moved onto; give current as a stage ('production') or an alias ('@champion')`,
        where,
      );
    }
    const [cur, nxt] = await Promise.all([this.arms.current.ready(), this.arms.next.ready()]);
    const from = cur.version!.version;
    const to = nxt.version!.version;
    if (from === to) {
      throw new RegistryError('CONFLICT', `cannot promote: current and next are both version ${from}`, {
        where,
      });
    }
    // Narrows the race for stages (the store has no compare-and-set for them); aliases are CAS'd below.
    const now = (await this.host.resolve(ref.uri)).modelVersion?.version;
    if (now !== from) {
      throw new RegistryError(
        'CONFLICT',
        `cannot promote: ${ref.uri} now points at version ${now}, not version ${from} that the canary compared against`,
        { where },
      );
    }
    const target = ref.kind === 'stage' ? `stage "${ref.stage}"` : `alias "${ref.alias}"`;
    const comment = opts.comment ?? `canary: promote version ${to} over version ${from} (${target})`;
    const who = opts.actor ? { actor: opts.actor } : {};
    if (ref.kind === 'stage') {
      await this.host.transitionStage(this.model, to, ref.stage, { archiveExisting: true, comment, ...who });
    } else {
      await this.host.setAlias(this.model, ref.alias, to, { ifVersion: from, comment, ...who });
    }
    this.w = 0;
    await this.arms.current.refresh();
    return { from, to, target: ref.kind === 'stage' ? { stage: ref.stage } : { alias: ref.alias } };
  }

  stats(): CanaryStats {
    const version = (arm: CanaryArm) => this.arms[arm].version?.version ?? null;
    return {
      weight: this.w,
      shadow: this.shadow,
      current: this.meters.current.snapshot(version('current')),
      next: this.meters.next.snapshot(version('next')),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.shadows]);
    await Promise.all([this.arms.current.close(), this.arms.next.close()]);
    this.onClose();
  }
}

/** Validates the options and starts both arms loading; returns at once. */
export function createCanary(
  host: CanaryHost,
  options: CanaryOptions,
  onClose: () => void = () => undefined,
): Canary {
  const opts = parseArg(canaryOptionsSchema, options, 'canary options', where);
  return new CanaryImpl(host, opts, onClose);
}

/**
 * The `stickyKey` function of a stored deployment's field name: the field's string or number
 * (a boolean as text); a row without one is `INVALID_ARGUMENT` naming the field.
 */
export function stickyKeyField(field: string): (row: Record<string, unknown>) => string | number {
  return (row) => {
    const value = Object.hasOwn(row, field) ? row[field] : undefined;
    if (typeof value === 'string' || typeof value === 'number') return value;
    if (typeof value === 'boolean') return String(value);
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `a row has no string or number in the stickyKey field "${field}"`,
      {
        where,
        details: { field },
      },
    );
  };
}
