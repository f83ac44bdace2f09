import { Router } from 'express';
import type {
  CanaryArm,
  Deployment,
  DeploymentCanary,
  LoadedModel,
  ModelRegistry,
  PredictBatcher,
  PredictInput,
} from '@modelreg/core';
import { formatModelUri, RegistryError } from '@modelreg/core';
import { actorOption, registryOf, requirePermission } from '../auth.js';
import type { Logger } from 'pino';
import type { AppContext } from '../context.js';
import { HttpError, parseRequest, requireContentType } from '../errors.js';
import {
  canaryBody,
  canaryPromoteBody,
  canaryRevisionBody,
  canaryWeightBody,
  modelParams,
} from '../schemas.js';
import type { CanaryRouter, PredictOutcome } from './predict.js';

const json = requireContentType('application/json');

/**
 * The deployments this replica serves: one `registry.canary({ model })` per stored deployment. It
 * starts from the stored list and hears of new deployments through the registry's event feed, so
 * every replica of a registry serves the same split, and a restart keeps it.
 */
export class DeploymentBook {
  private readonly canaries = new Map<string, DeploymentCanary>();
  /** Resolves once the stored deployments are being followed. */
  readonly started: Promise<void>;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
    /** With predict batching on: each arm's rows go through it, so concurrent requests share model calls. */
    private readonly batcher?: PredictBatcher,
  ) {
    // The registry closes the canaries and the listener when it closes.
    registry.on('deployment.updated', (e) => {
      const model = e.payload['model'];
      if (typeof model === 'string') this.follow(model);
    });
    this.started = (async () => {
      await registry.eventsReady();
      for (const d of await registry.deployments.list()) this.follow(d.model);
    })().catch((e: unknown) => {
      logger.warn({ err: e }, 'reading the stored deployments failed');
    });
  }

  /** The canary of `model`, created when this replica does not follow it yet. */
  follow(model: string): DeploymentCanary {
    let canary = this.canaries.get(model);
    if (canary) return canary;
    const log = this.logger.child({ model, canary: true });
    const batcher = this.batcher;
    canary = this.registry.canary({
      model,
      onError: (e) => log.warn({ err: e.error, arm: e.arm, phase: e.phase }, 'canary arm re-check failed'),
      ...(batcher ? { predict: (m: LoadedModel, rows: PredictInput) => batcher.predict(m, rows) } : {}),
      onChange: (d) => {
        if (d === null) void this.drop(model);
        else log.info({ revision: d.revision, weight: d.weight, mode: d.mode }, 'deployment applied');
      },
    });
    this.canaries.set(model, canary);
    return canary;
  }

  /** The canary of `model` when it serves a deployment now. */
  serving(model: string): DeploymentCanary | undefined {
    const canary = this.canaries.get(model);
    return canary?.deployment ? canary : undefined;
  }

  /** The canary of `model` brought up to the stored deployment; 404 when there is none. */
  async current(model: string): Promise<DeploymentCanary> {
    const canary = this.follow(model);
    await canary.sync();
    if (!canary.deployment) {
      await this.drop(model);
      throw new HttpError(404, 'NOT_FOUND', `model "${model}" has no active canary`);
    }
    return canary;
  }

  /** Stops following `model` once its deployment is gone. */
  async drop(model: string): Promise<void> {
    const canary = this.canaries.get(model);
    if (!canary) return;
    await canary.sync().catch(() => undefined);
    if (canary.deployment || this.canaries.get(model) !== canary) return;
    this.canaries.delete(model);
    await canary.close();
  }

  /** What each deployment serves here, for `/health`. */
  describeAll(): Array<ReturnType<typeof describeServed>> {
    return [...this.canaries.values()]
      .filter((c) => c.deployment !== null)
      .map(describeServed)
      .sort((a, b) => (a.model < b.model ? -1 : 1));
  }
}

/** A deployment as `/health` shows it: the versions this replica serves now, and the weight. */
function describeServed(canary: DeploymentCanary) {
  const d = canary.deployment!;
  const stats = canary.stats();
  return {
    model: d.model,
    mode: d.mode,
    revision: d.revision,
    weight: stats.weight,
    current: { ref: d.current, version: stats.current.version },
    next: { ref: d.next, version: stats.next.version },
  };
}

/** What `GET /models/:name/canary` answers: the stored deployment and this replica's counters per arm. */
export function describeCanary(canary: DeploymentCanary, deployment: Deployment = canary.deployment!) {
  const stats = canary.stats();
  return {
    model: deployment.model,
    weight: deployment.weight,
    shadow: deployment.mode === 'shadow',
    mode: deployment.mode,
    stickyKey: deployment.stickyKey,
    revision: deployment.revision,
    createdAt: deployment.createdAt,
    updatedAt: deployment.updatedAt,
    updatedBy: deployment.updatedBy,
    current: { ref: deployment.current, ...stats.current },
    next: { ref: deployment.next, ...stats.next },
  };
}

/**
 * Predicts through the model's deployment, if it has one: rows are split between the arms, and each
 * row says which version served it. Probabilities (when asked) come from the version that served each row.
 */
export function canaryRouter(ctx: AppContext, book: DeploymentBook): CanaryRouter {
  return async (model, input, proba) => {
    const canary = book.serving(model);
    if (!canary) return undefined;
    const result = await canary.predict(input);
    const versionOf = (arm: CanaryArm): number => {
      const v = result.versions[arm];
      if (v === null)
        throw new RegistryError('STORE_FAILURE', `canary arm ${arm} served no version`, { where: 'canary' });
      return v;
    };
    const versions = result.arms.map(versionOf);
    const distinct = [...new Set(versions)];
    const outcome: PredictOutcome = {
      version: distinct.length === 1 ? distinct[0]! : null,
      versions,
      via: 'canary',
      predictions: result.predictions,
    };
    if (proba) outcome.probabilities = await probabilitiesByVersion(ctx, model, input, versions, distinct);
    outcome.arms = result.arms;
    return outcome;
  };
}

async function probabilitiesByVersion(
  ctx: AppContext,
  model: string,
  input: PredictInput,
  versions: number[],
  distinct: number[],
): Promise<unknown[]> {
  const byVersion = new Map<number, unknown[]>();
  await Promise.all(
    distinct.map(async (v) => {
      // The request's permission to predict with `model` was checked by the predict route.
      const loaded = await ctx.registry.load(formatModelUri(model, v));
      byVersion.set(v, await loaded.predictProba(input));
    }),
  );
  return versions.map((v, i) => byVersion.get(v)![i]);
}

/** `POST|GET|PATCH|DELETE /models/:name/canary`, `POST /models/:name/canary/{promote,rollback}`. */
export function canaryRoutes(ctx: AppContext, book: DeploymentBook): Router {
  const router = Router();
  const revision = (ifRevision: number | undefined) => (ifRevision !== undefined ? { ifRevision } : {});

  router.post('/models/:name/canary', json, async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryBody, req.body, 'body');
    requirePermission(res, 'edit', 'start a canary', name);
    const deployments = registryOf(res).deployments;
    if (await deployments.get(name)) {
      throw new HttpError(409, 'CONFLICT', `model "${name}" already has a canary; DELETE it first`);
    }
    const saved = await deployments.set(name, {
      current: body.current,
      next: body.next,
      weight: body.weight,
      mode: body.shadow ? 'shadow' : 'canary',
      stickyKey: body.stickyKey ?? null,
      ifRevision: null,
      ...(body.comment ? { comment: body.comment } : {}),
    });
    const canary = await book.current(name);
    await canary.ready().catch(() => undefined);
    res.status(201).json(describeCanary(canary, saved));
  });

  router.get('/models/:name/canary', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    res.json(describeCanary(await book.current(name)));
  });

  router.patch('/models/:name/canary', json, async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryWeightBody, req.body, 'body');
    requirePermission(res, 'edit', 'change a canary', name);
    const saved = await registryOf(res).deployments.setWeight(name, body.weight, revision(body.ifRevision));
    res.json(describeCanary(await book.current(name), saved));
  });

  router.post('/models/:name/canary/promote', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryPromoteBody, req.body ?? {}, 'body');
    requirePermission(res, 'edit', 'promote a canary', name);
    const actor = actorOption(res, body.actor);
    const deployments = registryOf(res).deployments;
    const { deployment, from, to, target } = await deployments.promote(name, {
      ...revision(body.ifRevision),
      ...(body.comment ? { comment: body.comment } : {}),
      ...actor,
    });
    const canary = await book.current(name).catch(() => undefined);
    const final = canary ? describeCanary(canary, deployment) : undefined;
    // The promotion is done: the deployment ends (a concurrent change of it wins and stays).
    await deployments
      .delete(name, { ifRevision: deployment.revision, comment: `ended by the promotion of version ${to}` })
      .catch(() => undefined);
    await book.drop(name);
    res.json({ promoted: { from, to, target }, canary: final });
  });

  router.post('/models/:name/canary/rollback', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    requirePermission(res, 'edit', 'roll back a canary', name);
    const body = parseRequest(canaryRevisionBody, req.body ?? {}, 'body');
    const saved = await registryOf(res).deployments.rollback(name, revision(body.ifRevision));
    res.json(describeCanary(await book.current(name), saved));
  });

  router.delete('/models/:name/canary', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    requirePermission(res, 'edit', 'stop a canary', name);
    await registryOf(res).deployments.delete(name);
    await book.drop(name);
    res.status(204).end();
  });

  return router;
}
