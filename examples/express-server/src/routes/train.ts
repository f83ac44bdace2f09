import { Router } from 'express';
import type { Job, ModelRegistry, RegistryErrorCode } from '@modelreg/core';
import { resolveModelOption } from '@modelreg/core/training';
import type { AppContext, Limits } from '../context.js';
import { registryOf } from '../auth.js';
import { loggerOf } from '../context.js';
import { HttpError, parseRequest, requireContentType, statusOfRegistryCode } from '../errors.js';
import { idempotencyKeyHeader, trainBody, trainQuery } from '../schemas.js';
import type { z } from 'zod';

type TrainBody = z.output<typeof trainBody>;

/**
 * 422 before anything is queued when a training asks for more than this server allows. scikit-learn
 * names are checked after mapping (`n_estimators` is `nEstimators`, `n_jobs` is `workers`); a name
 * without a counterpart is left to `jobs.submit`, which refuses it with the known names.
 */
function checkTrainLimits(body: TrainBody, limits: Limits): void {
  let params: Record<string, unknown> = body.model.params ?? {};
  if ('class' in body.model) {
    try {
      params = resolveModelOption(body.model).params;
    } catch {
      return;
    }
  }
  const checks: [string, number][] = [
    ['nEstimators', limits.trainEstimators],
    ['workers', limits.trainWorkers],
  ];
  for (const [param, limit] of checks) {
    const value = params[param];
    if (typeof value === 'number' && value > limit) {
      throw new HttpError(
        422,
        'INVALID_ARGUMENT',
        `body.model.params.${param} is ${value}, above this server's limit of ${limit}`,
        { param: `model.params.${param}`, limit },
      );
    }
  }
}

const isRegistryCode = (code: string): code is RegistryErrorCode => Object.hasOwn(statusOfRegistryCode, code);

/** The answer of `POST /train?wait=true`: the old synchronous body, or the job's error. */
async function trainResultOf(registry: ModelRegistry, job: Job) {
  if (job.state === 'failed') {
    const code = job.error?.code ?? 'INTERNAL';
    const message = job.error?.message ?? `job "${job.id}" failed`;
    if (isRegistryCode(code))
      throw new HttpError(statusOfRegistryCode[code], code, message, { jobId: job.id });
    throw new HttpError(500, 'INTERNAL', message, { jobId: job.id, code });
  }
  if (job.state !== 'succeeded' || !job.result) {
    throw new HttpError(409, 'CONFLICT', `job "${job.id}" was ${job.state}`, { jobId: job.id });
  }
  const { runId, model, version } = job.result;
  const run = await registry.getRun(runId);
  if (!run) throw new HttpError(404, 'NOT_FOUND', `run "${runId}" of job "${job.id}" does not exist`);
  const registered = model !== null && version !== null ? await registry.getVersion(model, version) : null;
  return { run, metrics: run.latestMetrics, version: registered, modelUri: `runs:/${runId}/model` };
}

/**
 * `POST /train` submits a training job and answers `202 { job }` at once, with `Location:
 * /jobs/<id>`; the job runs in a process that runs jobs (this one unless
 * `MODELREG_TRAIN_CONCURRENCY=0`), at most `jobs.concurrency` at a time. A client that disconnects
 * does not cancel it: `DELETE /jobs/:id` does. `?wait=true` answers when the job has ended, with the
 * synchronous `201` body of earlier versions (`{ run, metrics, version, modelUri }`) or the job's
 * error as an error answer.
 */
export function trainRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/train', requireContentType('application/json'), async (req, res) => {
    const body = parseRequest(trainBody, req.body, 'body');
    const query = parseRequest(trainQuery, req.query, 'query');
    const key = req.get('idempotency-key');
    const idempotencyKey =
      key === undefined ? undefined : parseRequest(idempotencyKeyHeader, key, 'header.Idempotency-Key');
    checkTrainLimits(body, ctx.limits);
    const job = await registryOf(res).jobs.submit(body, idempotencyKey ? { idempotencyKey } : {});
    const log = loggerOf(res, ctx.logger);
    log.info({ jobId: job.id, state: job.state, idempotencyKey: idempotencyKey ?? null }, 'job submitted');
    if (!query.wait) {
      res.status(202).location(`/jobs/${job.id}`).json({ job });
      return;
    }
    const ended = await ctx.registry.jobs.wait(job.id);
    const result = await trainResultOf(ctx.registry, ended);
    log.info(
      { jobId: job.id, runId: result.run.id, model: result.version?.name, version: result.version?.version },
      'trained',
    );
    res.status(201).location(`/jobs/${job.id}`).json(result);
  });

  return router;
}
