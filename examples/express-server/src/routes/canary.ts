import { Router } from 'express';
import type { Canary, CanaryArm, PredictInput } from '@modelreg/core';
import { formatModelUri, RegistryError } from '@modelreg/core';
import { actorOption, principalOf, requirePermission } from '../auth.js';
import type { AppContext } from '../context.js';
import { HttpError, parseRequest, requireContentType } from '../errors.js';
import { canaryBody, canaryPromoteBody, canaryWeightBody, modelParams } from '../schemas.js';
import type { CanaryRouter, PredictOutcome } from './predict.js';

const json = requireContentType('application/json');

/** An active canary and how it was asked for. */
interface CanaryEntry {
  canary: Canary;
  current: number | string;
  next: number | string;
  stickyKey: string | undefined;
  createdAt: number;
}

/** The canaries of one app, one per model at most. */
export class CanaryBook {
  private readonly entries = new Map<string, CanaryEntry>();

  get(model: string): CanaryEntry | undefined {
    return this.entries.get(model);
  }

  require(model: string): CanaryEntry {
    const entry = this.entries.get(model);
    if (!entry) throw new HttpError(404, 'NOT_FOUND', `model "${model}" has no active canary`);
    return entry;
  }

  add(model: string, entry: CanaryEntry): void {
    this.entries.set(model, entry);
  }

  async remove(model: string): Promise<void> {
    const entry = this.entries.get(model);
    this.entries.delete(model);
    await entry?.canary.close();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.entries.keys()].map((m) => this.remove(m)));
  }
}

/** What `GET /models/:name/canary` answers: the configuration and each arm's counters. */
export function describeCanary(model: string, entry: CanaryEntry) {
  const stats = entry.canary.stats();
  return {
    model,
    weight: stats.weight,
    shadow: stats.shadow,
    stickyKey: entry.stickyKey ?? null,
    createdAt: entry.createdAt,
    current: { ref: entry.current, ...stats.current },
    next: { ref: entry.next, ...stats.next },
  };
}

/** The value of `field` in a row, as the canary's sticky key. */
function stickyKeyOf(field: string): (row: Record<string, unknown>) => string | number {
  return (row) => {
    const value = Object.hasOwn(row, field) ? row[field] : undefined;
    if (typeof value === 'string' || typeof value === 'number') return value;
    if (typeof value === 'boolean') return String(value);
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `a row has no string or number in the stickyKey field "${field}"`,
      {
        where: 'canary',
        details: { field },
      },
    );
  };
}

/**
 * Predicts through the model's canary, if it has one: rows are split between the arms, and each row
 * says which version served it. Probabilities (when asked) come from the version that served each row.
 */
export function canaryRouter(ctx: AppContext, book: CanaryBook): CanaryRouter {
  return async (model, input, proba) => {
    const entry = book.get(model);
    if (!entry) return undefined;
    const result = await entry.canary.predict(input);
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
export function canaryRoutes(ctx: AppContext, book: CanaryBook): Router {
  const router = Router();

  router.post('/models/:name/canary', json, async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryBody, req.body, 'body');
    requirePermission(res, 'edit', 'start a canary', name);
    if (book.get(name)) {
      throw new HttpError(409, 'CONFLICT', `model "${name}" already has a canary; DELETE it first`);
    }
    const log = ctx.logger.child({ model: name, canary: true });
    const canary = ctx.registry.canary({
      model: name,
      current: body.current,
      next: body.next,
      weight: body.weight,
      shadow: body.shadow ?? false,
      ...(body.stickyKey ? { stickyKey: stickyKeyOf(body.stickyKey) } : {}),
      onError: (e) => log.warn({ err: e.error, arm: e.arm, phase: e.phase }, 'canary arm re-check failed'),
    });
    try {
      await canary.ready();
    } catch (e) {
      await canary.close();
      throw e;
    }
    if (book.get(name)) {
      await canary.close();
      throw new HttpError(409, 'CONFLICT', `model "${name}" already has a canary; DELETE it first`);
    }
    const entry: CanaryEntry = {
      canary,
      current: body.current,
      next: body.next,
      stickyKey: body.stickyKey,
      createdAt: Date.now(),
    };
    book.add(name, entry);
    res.status(201).json(describeCanary(name, entry));
  });

  router.get('/models/:name/canary', (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    res.json(describeCanary(name, book.require(name)));
  });

  router.patch('/models/:name/canary', json, (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryWeightBody, req.body, 'body');
    requirePermission(res, 'edit', 'change a canary', name);
    const entry = book.require(name);
    entry.canary.setWeight(body.weight);
    res.json(describeCanary(name, entry));
  });

  router.post('/models/:name/canary/promote', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(canaryPromoteBody, req.body ?? {}, 'body');
    requirePermission(res, 'edit', 'promote a canary', name);
    const actor = actorOption(res, body.actor);
    const entry = book.require(name);
    // The canary belongs to the server (any editor of the model may promote it): the history
    // records the request's principal, or in open mode the body's actor.
    const principal = principalOf(res);
    const promoted = await entry.canary.promote({
      ...(body.comment ? { comment: body.comment } : {}),
      ...(principal ? { actor: principal.name } : actor),
    });
    const final = describeCanary(name, entry);
    await book.remove(name);
    res.json({ promoted, canary: final });
  });

  router.post('/models/:name/canary/rollback', (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    requirePermission(res, 'edit', 'roll back a canary', name);
    const entry = book.require(name);
    entry.canary.rollback();
    res.json(describeCanary(name, entry));
  });

  router.delete('/models/:name/canary', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    requirePermission(res, 'edit', 'stop a canary', name);
    book.require(name);
    await book.remove(name);
    res.status(204).end();
  });

  return router;
}
