import { z } from 'zod';
import type {
  Deployment,
  DeploymentHistoryEntry,
  DeploymentRef,
  DeploymentSpec,
} from '../domain/deployments.js';
import { deploymentModeSchema } from '../domain/deployments.js';
import { aliasSchema, nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import { formatModelUri } from '../domain/uri.js';
import { RegistryError, invalidArgument } from '../errors.js';
import type { RegistryContext } from './context.js';
import { setAlias, transitionStage } from './models.js';
import { resolveUri } from './resolve.js';

const where = 'deployments';

const refSchema = z.union([versionNumberSchema, z.string().min(1).max(130)]);
const weightSchema = z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1');
const revisionSchema = z.number().int().min(1);
const commentSchema = z.string().max(5000).default('');
const actorSchema = z.string().min(1).max(256).optional();

export const setDeploymentOptionsSchema = z.strictObject({
  /** What answers by default: a version number, a stage name (`'production'`), `'@alias'` or `'latest'`. */
  current: refSchema,
  /** The candidate, in the same forms. */
  next: refSchema,
  /** Share of rows routed to `next`, from 0 to 1. */
  weight: weightSchema,
  /** A field of each record row: rows with equal values always go to the same arm. Default: random routing. */
  stickyKey: z.string().min(1).max(256).nullable().default(null),
  /** `canary` (default): `next` answers its share; `shadow`: `current` answers, `next` runs on the side. */
  mode: deploymentModeSchema.default('canary'),
  /** Compare-and-set: `null` = only when the model has no deployment; a number = only at that revision. */
  ifRevision: revisionSchema.nullable().optional(),
  comment: commentSchema,
  actor: actorSchema,
});
export type SetDeploymentOptions = z.input<typeof setDeploymentOptionsSchema>;

export const changeDeploymentOptionsSchema = z.strictObject({
  /** Compare-and-set: only when the deployment is at this revision now, else `CONFLICT`. */
  ifRevision: revisionSchema.optional(),
  comment: commentSchema,
  actor: actorSchema,
});
/** Options of `setWeight`, `promote`, `rollback` and `delete`. */
export type ChangeDeploymentOptions = z.input<typeof changeDeploymentOptionsSchema>;

/** What `deployments.promote` did. */
export interface DeploymentPromotion {
  /** The deployment afterwards: weight 0, every row on the new current. */
  deployment: Deployment;
  /** The version that served as current before. */
  from: number;
  /** The version that serves as current now. */
  to: number;
  /** The stage or alias that moved. */
  target: { stage: string } | { alias: string };
}

type ParsedRef =
  | { kind: 'version'; version: number }
  | { kind: 'stage'; stage: string }
  | { kind: 'alias'; alias: string }
  | { kind: 'latest' };

/** A reference in canonical form (configured stage spelling, `'@alias'`, `'latest'`, a number). */
export function parseDeploymentRef(stages: readonly string[], ref: DeploymentRef, label: string): ParsedRef {
  if (typeof ref === 'number') return { kind: 'version', version: ref };
  if (/^\d+$/.test(ref))
    return { kind: 'version', version: parseArg(versionNumberSchema, Number(ref), label, where) };
  if (ref.startsWith('@')) return { kind: 'alias', alias: parseArg(aliasSchema, ref.slice(1), label, where) };
  if (ref.toLowerCase() === 'latest') return { kind: 'latest' };
  const stage = stages.find((s) => s.toLowerCase() === ref.toLowerCase());
  if (!stage) {
    throw invalidArgument(
      `${label} ${JSON.stringify(ref)} is not a version number, '@alias', 'latest' or a stage (${stages.join(', ')})`,
      where,
    );
  }
  return { kind: 'stage', stage };
}

const refValue = (ref: ParsedRef): DeploymentRef =>
  ref.kind === 'version'
    ? ref.version
    : ref.kind === 'stage'
      ? ref.stage
      : ref.kind === 'alias'
        ? `@${ref.alias}`
        : 'latest';

/** The `models:/` URI of a deployment reference. */
export function deploymentRefUri(stages: readonly string[], model: string, ref: DeploymentRef): string {
  const parsed = parseDeploymentRef(stages, ref, 'deployment reference');
  switch (parsed.kind) {
    case 'version':
      return formatModelUri(model, parsed.version);
    case 'stage':
      return formatModelUri(model, parsed.stage);
    case 'alias':
      return formatModelUri(model, { alias: parsed.alias });
    case 'latest':
      return formatModelUri(model, 'latest');
  }
}

const specOf = (d: Deployment): DeploymentSpec => ({
  model: d.model,
  current: d.current,
  next: d.next,
  weight: d.weight,
  stickyKey: d.stickyKey,
  mode: d.mode,
});

/**
 * `registry.deployments`: how each model's traffic is split, stored in the metadata store so that
 * every process serving the registry follows the same deployment (`registry.canary({ model })`),
 * and a restart keeps it. Each change bumps the deployment's `revision`, appends a history entry
 * (who, when, why) and the event `deployment.updated` (or `deployment.deleted`).
 */
export class Deployments {
  constructor(private readonly ctx: RegistryContext) {}

  private model(name: unknown): string {
    return parseArg(nameSchema, name, 'model name', where);
  }

  private async requireModel(model: string): Promise<void> {
    if (!(await this.ctx.metadata.getModel(model))) {
      throw new RegistryError('NOT_FOUND', `model "${model}" does not exist`, { where });
    }
  }

  private async require(model: string): Promise<Deployment> {
    const found = await this.ctx.metadata.getDeployment(model);
    if (!found) throw new RegistryError('NOT_FOUND', `model "${model}" has no deployment`, { where });
    return found;
  }

  /** The version a reference picks now (`NOT_FOUND` when it picks nothing). */
  private async versionOf(model: string, ref: DeploymentRef): Promise<number> {
    const resolved = await resolveUri(this.ctx, deploymentRefUri(this.ctx.stages, model, ref));
    return resolved.modelVersion!.version;
  }

  /**
   * Creates or replaces the deployment of `model` (like `kubectl apply`). The model must exist and
   * both references must pick a version now (`NOT_FOUND` otherwise); stages are matched
   * case-insensitively and stored in their configured spelling.
   */
  async set(model: string, options: SetDeploymentOptions): Promise<Deployment> {
    const name = this.model(model);
    const opts = parseArg(setDeploymentOptionsSchema, options, 'deployment options', where);
    const current = refValue(parseDeploymentRef(this.ctx.stages, opts.current, 'deployment current'));
    const next = refValue(parseDeploymentRef(this.ctx.stages, opts.next, 'deployment next'));
    await this.requireModel(name);
    await Promise.all([this.versionOf(name, current), this.versionOf(name, next)]);
    const saved = await this.ctx.metadata.saveDeployment({
      deployment: {
        model: name,
        current,
        next,
        weight: opts.weight,
        stickyKey: opts.stickyKey,
        mode: opts.mode,
      },
      action: 'set',
      ...(opts.ifRevision !== undefined ? { ifRevision: opts.ifRevision } : {}),
      actor: opts.actor ?? this.ctx.actor,
      comment: opts.comment,
      time: this.ctx.now(),
    });
    this.ctx.changed();
    return saved;
  }

  /** The deployment of `model`, or `null` when it has none. */
  async get(model: string): Promise<Deployment | null> {
    return this.ctx.metadata.getDeployment(this.model(model));
  }

  /** Every deployment, sorted by model name. */
  async list(): Promise<Deployment[]> {
    return this.ctx.metadata.listDeployments();
  }

  private async change(
    model: string,
    options: ChangeDeploymentOptions | undefined,
    action: 'weight' | 'rollback',
    weight: number,
  ): Promise<Deployment> {
    const name = this.model(model);
    const opts = parseArg(changeDeploymentOptionsSchema, options ?? {}, `${action} options`, where);
    const found = await this.require(name);
    const saved = await this.ctx.metadata.saveDeployment({
      deployment: { ...specOf(found), weight },
      action,
      ifRevision: opts.ifRevision ?? found.revision,
      actor: opts.actor ?? this.ctx.actor,
      comment: opts.comment,
      time: this.ctx.now(),
    });
    this.ctx.changed();
    return saved;
  }

  /** Sets the share of rows routed to `next` (0 to 1). With `ifRevision`, compare-and-set. */
  setWeight(model: string, weight: number, options?: ChangeDeploymentOptions): Promise<Deployment> {
    return this.change(model, options, 'weight', parseArg(weightSchema, weight, 'deployment weight', where));
  }

  /**
   * Sends every row back to `current` (weight 0); the deployment stays. Compare-and-set against
   * `ifRevision`, or the revision read at the start of the call: a concurrent change is `CONFLICT`.
   */
  rollback(model: string, options?: ChangeDeploymentOptions): Promise<Deployment> {
    return this.change(model, options, 'rollback', 0);
  }

  /**
   * Makes `next` the new `current`: moves current's stage to next's version (archiving the version
   * there) or current's alias to it (alias compare-and-set), recorded in the stage history, and sets
   * the weight to 0. The deployment is claimed first, compare-and-set against `ifRevision` (or the
   * revision read at the start): of two concurrent promotes, one gets `CONFLICT` and moves nothing.
   * `INVALID_ARGUMENT` when current is a version number or `'latest'`; `CONFLICT` when both pick the
   * same version. If the stage or alias move then fails, the deployment stays at weight 0 (every row
   * on the unchanged current) and the error is thrown.
   */
  async promote(model: string, options?: ChangeDeploymentOptions): Promise<DeploymentPromotion> {
    const name = this.model(model);
    const opts = parseArg(changeDeploymentOptionsSchema, options ?? {}, 'promote options', where);
    const found = await this.require(name);
    const revision = opts.ifRevision ?? found.revision;
    if (revision !== found.revision) {
      throw new RegistryError(
        'CONFLICT',
        `the deployment of model "${name}" is at revision ${found.revision}, not revision ${revision}`,
        { where, details: { model: name, current: found.revision, expected: revision } },
      );
    }
    const ref = parseDeploymentRef(this.ctx.stages, found.current, 'deployment current');
    if (ref.kind === 'version' || ref.kind === 'latest') {
      throw invalidArgument(
        `cannot promote: current is ${ref.kind === 'version' ? `the fixed version ${ref.version}` : "'latest'"}, which nothing can be moved onto; give current as a stage ('production') or an alias ('@champion')`,
        where,
      );
    }
    const [from, to] = await Promise.all([
      this.versionOf(name, found.current),
      this.versionOf(name, found.next),
    ]);
    if (from === to) {
      throw new RegistryError('CONFLICT', `cannot promote: current and next are both version ${from}`, {
        where,
      });
    }
    const target = ref.kind === 'stage' ? `stage "${ref.stage}"` : `alias "${ref.alias}"`;
    const comment = opts.comment || `deployment: promote version ${to} over version ${from} (${target})`;
    const actor = opts.actor ?? this.ctx.actor;
    const deployment = await this.ctx.metadata.saveDeployment({
      deployment: { ...specOf(found), weight: 0 },
      action: 'promote',
      ifRevision: revision,
      actor,
      comment,
      time: this.ctx.now(),
    });
    this.ctx.changed();
    if (ref.kind === 'stage') {
      await transitionStage(this.ctx, name, to, ref.stage, { archiveExisting: true, comment, actor });
    } else {
      await setAlias(this.ctx, name, ref.alias, to, { ifVersion: from, comment, actor });
    }
    return {
      deployment,
      from,
      to,
      target: ref.kind === 'stage' ? { stage: ref.stage } : { alias: ref.alias },
    };
  }

  /** Ends the deployment: the model is served by its default again. `NOT_FOUND` when it has none. */
  async delete(model: string, options?: ChangeDeploymentOptions): Promise<void> {
    const name = this.model(model);
    const opts = parseArg(changeDeploymentOptionsSchema, options ?? {}, 'delete options', where);
    await this.ctx.metadata.deleteDeployment({
      model: name,
      ...(opts.ifRevision !== undefined ? { ifRevision: opts.ifRevision } : {}),
      actor: opts.actor ?? this.ctx.actor,
      comment: opts.comment,
      time: this.ctx.now(),
    });
    this.ctx.changed();
  }

  /** Every change of the model's deployments (deleted ones too), oldest first. */
  async history(model: string): Promise<DeploymentHistoryEntry[]> {
    return this.ctx.metadata.getDeploymentHistory(this.model(model));
  }
}
