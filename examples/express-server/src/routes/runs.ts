import { extname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Response } from 'express';
import type { ModelRegistry, SearchRunsOptions } from '@modelreg/core';
import { assertArtifactKey, isRegistryError, RegistryError, verifyChunks } from '@modelreg/core';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { loggerOf } from '../context.js';
import { HttpError, parseRequest } from '../errors.js';
import { readModelInfo } from '../model-info.js';
import type { SearchRunsQuery } from '../schemas.js';
import { experimentParams, metricParams, runParams, searchRunsQuery } from '../schemas.js';

export const artifactParams = runParams.extend({ path: z.array(z.string()).min(1) });

/** Types a browser could render or run from our origin are sent as bytes, never as themselves. */
const RENDERABLE = new Set(['.html', '.htm', '.xhtml', '.svg', '.xml', '.js', '.mjs', '.css']);

/** `searchRunsQuery` (flat query parameters) to the registry's `searchRuns` options. */
function toSearchOptions(experiment: string, query: SearchRunsQuery): SearchRunsOptions {
  const direction = query.direction ?? 'asc';
  let orderBy: SearchRunsOptions['orderBy'];
  if (query.orderBy?.startsWith('metric:')) orderBy = [{ metric: query.orderBy.slice(7), direction }];
  else if (query.orderBy?.startsWith('param:')) orderBy = [{ param: query.orderBy.slice(6), direction }];
  else if (query.orderBy === 'startTime' || query.orderBy === 'endTime' || query.orderBy === 'name')
    orderBy = [{ field: query.orderBy, direction }];
  return {
    experiment,
    ...(query.status ? { where: { status: query.status } } : {}),
    ...(orderBy ? { orderBy } : {}),
    ...(query.limit ? { limit: query.limit } : {}),
    ...(query.pageToken ? { pageToken: query.pageToken } : {}),
  };
}

async function requireRun(registry: ModelRegistry, id: string) {
  const run = await registry.getRun(id);
  if (!run) throw new HttpError(404, 'NOT_FOUND', `run "${id}" does not exist`);
  return run;
}

/** The artifact path of a request, or 400 when it could escape the run's folder. */
export function artifactPathOf(segments: string[]): string {
  const path = segments.join('/');
  try {
    assertArtifactKey(path, 'express-server');
  } catch (e) {
    if (isRegistryError(e, 'INVALID_ARGUMENT')) {
      throw new HttpError(400, 'INVALID_REQUEST', `params.path: ${e.message.replace(/^(\[[^\]]*\] )+/, '')}`);
    }
    throw e;
  }
  return path;
}

/** Streams `body` to `res`; a failure after the headers went out cuts the connection. */
/** Headers of a download, removed when it fails before the first byte so the error answer is plain JSON. */
const DOWNLOAD_HEADERS = ['Content-Disposition', 'Content-Length', 'Content-Type', 'X-Artifact-Sha256'];

/**
 * Streams a body to the response. A failure before the first chunk is thrown (the error handler
 * answers it); a failure after it is logged and the connection destroyed, so the client sees a
 * cut transfer (fewer bytes than `Content-Length`), never a complete wrong body.
 */
async function streamTo(res: Response, body: AsyncIterable<Uint8Array>, onLateError: (e: unknown) => void) {
  const chunks = body[Symbol.asyncIterator]();
  // The first chunk is read before anything is sent: a failure there is still a clean error answer
  // (pipeline would destroy the response).
  let first: IteratorResult<Uint8Array>;
  try {
    first = await chunks.next();
  } catch (e) {
    for (const header of DOWNLOAD_HEADERS) res.removeHeader(header);
    throw e;
  }
  try {
    await pipeline(async function* rest() {
      if (first.done) return;
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    }, res);
  } catch (e) {
    onLateError(e);
    res.destroy();
  }
}

/**
 * Read-only views of tracking: `GET /experiments`, `GET /experiments/:name/runs`, `GET /runs/:id`,
 * `GET /runs/:id/metrics/:key` and `GET /runs/:id/artifacts/*` (a download of a recorded artifact).
 */
export function runRoutes(ctx: AppContext): Router {
  const router = Router();
  const { registry } = ctx;

  router.get('/experiments', async (_req, res) => {
    res.json({ experiments: await registry.listExperiments() });
  });

  router.get('/experiments/:name/runs', async (req, res) => {
    const { name } = parseRequest(experimentParams, req.params, 'params');
    const query = parseRequest(searchRunsQuery, req.query, 'query');
    const experiments = await registry.listExperiments();
    if (!experiments.some((e) => e.name === name))
      throw new HttpError(404, 'NOT_FOUND', `experiment "${name}" does not exist`);
    res.json(await registry.searchRuns(toSearchOptions(name, query)));
  });

  router.get('/runs/:id', async (req, res) => {
    const { id } = parseRequest(runParams, req.params, 'params');
    const run = await requireRun(registry, id);
    const [experiments, files] = await Promise.all([
      registry.listExperiments(),
      (await registry.openRun(id)).listArtifacts(),
    ]);
    const manifest = files.find((f) => f.path === 'model/MODEL.json');
    res.json({
      run,
      experiment: experiments.find((e) => e.id === run.experimentId)?.name ?? null,
      artifacts: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
      model: manifest ? await readModelInfo(registry, `runs:/${id}/model`) : null,
    });
  });

  router.get('/runs/:id/metrics/:key', async (req, res) => {
    const { id, key } = parseRequest(metricParams, req.params, 'params');
    await requireRun(registry, id);
    res.json({ runId: id, key, history: await registry.getMetricHistory(id, key) });
  });

  router.get('/runs/:id/artifacts/*path', async (req, res) => {
    const { id, path: segments } = parseRequest(artifactParams, req.params, 'params');
    const path = artifactPathOf(segments);
    await requireRun(registry, id);
    const record = (await (await registry.openRun(id)).listArtifacts()).find((f) => f.path === path);
    if (!record) throw new HttpError(404, 'NOT_FOUND', `run "${id}" has no artifact "${path}"`);
    const body = await registry.stores.artifacts.getStream(record.key);
    if (!body) {
      throw new RegistryError(
        'INTEGRITY',
        `run "${id}": artifact "${path}" is recorded but its bytes are missing`,
        {
          where: 'express-server',
        },
      );
    }
    const filename = posix.basename(path);
    res.attachment(filename);
    if (RENDERABLE.has(extname(filename).toLowerCase())) res.type('application/octet-stream');
    res.setHeader('Content-Length', String(record.size));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('X-Artifact-Sha256', record.sha256);
    // The bytes are checked against the record as they pass; the last chunk waits for the check.
    const verified = verifyChunks(
      body as AsyncIterable<Uint8Array>,
      record,
      `run "${id}": artifact "${path}"`,
      'express-server',
    );
    await streamTo(res, verified, (e) =>
      isRegistryError(e, 'INTEGRITY')
        ? loggerOf(res, ctx.logger).error(
            { err: e, code: 'INTEGRITY', runId: id, path },
            'artifact download stopped: bytes do not match their sha256',
          )
        : loggerOf(res, ctx.logger).warn({ err: e, runId: id, path }, 'artifact download cut'),
    );
  });

  return router;
}
