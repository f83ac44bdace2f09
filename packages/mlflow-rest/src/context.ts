import type { Request, RequestHandler, Response, Router } from 'express';
import type { Experiment, ModelRegistry, Run } from '@modelreg/core';
import { MlflowError } from './errors.js';
import { DEFAULT_EXPERIMENT, fromMlflowExperimentId, toMlflowExperimentId } from './views.js';

/** The registry a request acts through (a view `registry.as(principal)` when the host authenticates). */
export type RegistryOfRequest = (req: Request, res: Response) => ModelRegistry;

/** What each route module gets. */
export interface RouteContext {
  registryOf: RegistryOfRequest;
  /** Largest artifact accepted by the proxied upload, in bytes. */
  artifactUploadBytes: number;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;

/** An async route answering its result as JSON (or nothing when it answered itself). */
export const route =
  (handler: Handler): RequestHandler =>
  (req, res, next) => {
    handler(req, res).then((body) => {
      if (!res.headersSent) res.json(body ?? {});
    }, next);
  };

/** Registers one endpoint for several methods (the protos give some both GET and POST). */
export function endpoint(
  router: Router,
  methods: ('get' | 'post' | 'patch' | 'delete')[],
  path: string,
  handler: Handler,
): void {
  for (const m of methods) router[m](path, route(handler));
}

export const noSuchExperiment = (id: string): MlflowError =>
  new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);

export const noSuchRun = (id: string): MlflowError =>
  new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);

/** The experiment of an MLflow id (`0` is `Default`, created on first use when `create`). */
export async function experimentById(
  registry: ModelRegistry,
  mlflowId: unknown,
  options: { create?: boolean } = {},
): Promise<Experiment> {
  const ref = fromMlflowExperimentId(mlflowId);
  if (ref === 'default') {
    // A read never creates it: experiment 0 exists once a run was logged without an experiment.
    const found = await registry.stores.metadata.getExperimentByName(DEFAULT_EXPERIMENT);
    if (found) return found;
    if (options.create) return registry.getOrCreateExperiment(DEFAULT_EXPERIMENT);
    throw noSuchExperiment('0');
  }
  const found = ref.id ? await registry.stores.metadata.getExperiment(ref.id) : null;
  if (!found) throw noSuchExperiment(String(mlflowId));
  return found;
}

/** A run that must exist. */
export async function runById(registry: ModelRegistry, runId: string): Promise<Run> {
  if (runId.length > 256) throw noSuchRun(runId.slice(0, 64));
  const run = await registry.getRun(runId);
  if (!run) throw noSuchRun(runId);
  return run;
}

/** A run that must exist and be active: MLflow refuses to change a deleted run. */
export async function activeRunById(registry: ModelRegistry, runId: string): Promise<Run> {
  const run = await runById(registry, runId);
  if (run.deletedAt !== null) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `The run ${runId} must be in the 'active' state. Current state is deleted.`,
    );
  }
  return run;
}

/** An experiment that must be active (MLflow's check before runs are created or tags set in it). */
export function requireActiveExperiment(experiment: Experiment): Experiment {
  if (experiment.deletedAt !== null) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `The experiment ${toMlflowExperimentId(experiment)} must be in the 'active' state. Current state is deleted.`,
    );
  }
  return experiment;
}

/** MLflow experiment ids of modelreg experiment ids, read once per request. */
export class ExperimentIds {
  private readonly cache = new Map<string, Promise<string>>();
  constructor(private readonly registry: ModelRegistry) {}
  of(experimentId: string): Promise<string> {
    let found = this.cache.get(experimentId);
    if (!found) {
      found = this.registry.stores.metadata
        .getExperiment(experimentId)
        .then((e) => toMlflowExperimentId(e ?? { id: experimentId, name: '' }));
      this.cache.set(experimentId, found);
    }
    return found;
  }
}
