import { posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Request, Response } from 'express';
import type { FileRecord, ModelRegistry, Run } from '@modelreg/core';
import { assertArtifactPrefix, RegistryError, verifyChunks } from '@modelreg/core';
import type { RouteContext } from './context.js';
import { endpoint, ExperimentIds, route, runById } from './context.js';
import { invalidParameter, MlflowError } from './errors.js';
import { optionalString, paramsOf, runIdOf } from './params.js';
import { artifactRoot, fromMlflowExperimentId } from './views.js';

/** MLflow's FileInfo list of the direct children of `dir` ('' = the root) among a run's recorded files. */
export function listChildren(
  files: FileRecord[],
  dir: string,
): { path: string; is_dir: boolean; file_size?: number }[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  const dirs = new Set<string>();
  const out: { path: string; is_dir: boolean; file_size?: number }[] = [];
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) out.push({ path: f.path, is_dir: false, file_size: f.size });
    else dirs.add(`${prefix}${rest.slice(0, slash)}`);
  }
  for (const d of dirs) out.push({ path: d, is_dir: true });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const cleanDir = (path: string | undefined): string => {
  const dir = (path ?? '').replace(/^\/+|\/+$/g, '');
  if (dir !== '') assertArtifactPrefix(dir, 'mlflow-artifacts');
  return dir;
};

/**
 * A proxied artifact path `<experiment_id>/<run_id>/artifacts[/<path>]`: the run (which must be in
 * that experiment) and the path inside its artifacts.
 */
async function locate(registry: ModelRegistry, raw: string): Promise<{ run: Run; path: string }> {
  const m = /^([0-9]+)\/([^/]+)\/artifacts(?:\/(.*))?$/.exec(raw.replace(/^\/+/, ''));
  if (!m) {
    throw new MlflowError(
      'RESOURCE_DOES_NOT_EXIST',
      `No artifact at ${JSON.stringify(raw)}: paths are <experiment_id>/<run_id>/artifacts/<path>`,
    );
  }
  fromMlflowExperimentId(m[1]);
  const run = await runById(registry, m[2]!);
  if ((await new ExperimentIds(registry).of(run.experimentId)) !== m[1]) {
    throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run ${run.id} is not in experiment ${m[1]}`);
  }
  return { run, path: (m[3] ?? '').replace(/\/+$/, '') };
}

/** Counts bytes through; past `limit` the upload fails with REQUEST_LIMIT_EXCEEDED. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) {
        done(
          new MlflowError(
            'REQUEST_LIMIT_EXCEEDED',
            `the artifact is larger than the limit of ${limit} bytes`,
          ),
        );
      } else done(null, chunk);
    },
  });
}

async function download(registry: ModelRegistry, run: Run, path: string, res: Response): Promise<void> {
  const record = (await (await registry.openRun(run.id)).listArtifacts()).find((f) => f.path === path);
  if (!record)
    throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run ${run.id} has no artifact ${JSON.stringify(path)}`);
  const body = await registry.stores.artifacts.getStream(record.key);
  if (!body) {
    throw new RegistryError(
      'INTEGRITY',
      `run "${run.id}": artifact "${path}" is recorded but its bytes are missing`,
      {
        where: 'mlflow-artifacts',
      },
    );
  }
  res.status(200);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader(
    'Content-Disposition',
    `attachment; filename="${posix.basename(path).replace(/["\\\r\n]/g, '_')}"`,
  );
  res.setHeader('Content-Length', String(record.size));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Artifact-Sha256', record.sha256);
  // The bytes are checked against the recorded sha256 as they pass.
  const verified = verifyChunks(
    body as AsyncIterable<Uint8Array>,
    record,
    `run "${run.id}": artifact "${path}"`,
    'mlflow-artifacts',
  );
  await pipeline(verified, res).catch((e: unknown) => {
    res.destroy(e instanceof Error ? e : undefined);
  });
}

/** `artifacts/list` (service.proto ListArtifacts). */
export function artifactListRoutes(ctx: RouteContext): Router {
  const router = Router();
  endpoint(router, ['get'], '/artifacts/list', async (req, res) => {
    const p = paramsOf(req);
    const registry = ctx.registryOf(req, res);
    const run = await runById(registry, runIdOf(p));
    const dir = cleanDir(optionalString(p, 'path'));
    const files = await (await registry.openRun(run.id)).listArtifacts(dir === '' ? undefined : `${dir}/`);
    const experimentId = await new ExperimentIds(registry).of(run.experimentId);
    return { root_uri: artifactRoot(experimentId, run.id), files: listChildren(files, dir) };
  });
  return router;
}

/**
 * The proxied artifact service (mlflow_artifacts.proto MlflowArtifactsService), mounted at
 * `/api/2.0/mlflow-artifacts`: `GET /artifacts?path=` lists, `PUT /artifacts/<path>` uploads
 * (streamed into the artifact store, sha256 recorded), `GET /artifacts/<path>` downloads.
 */
export function proxiedArtifactRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get(
    '/artifacts',
    route(async (req: Request, res: Response) => {
      const registry = ctx.registryOf(req, res);
      const raw = optionalString(paramsOf(req), 'path') ?? '';
      const { run, path } = await locate(registry, raw);
      const dir = cleanDir(path);
      const files = await (await registry.openRun(run.id)).listArtifacts(dir === '' ? undefined : `${dir}/`);
      // Paths relative to the listed folder, as MLflow's artifact server answers.
      return {
        files: listChildren(files, dir).map((f) => ({
          ...f,
          path: dir === '' ? f.path : f.path.slice(dir.length + 1),
        })),
      };
    }),
  );

  router.get(
    '/artifacts/*path',
    route(async (req: Request, res: Response) => {
      const registry = ctx.registryOf(req, res);
      const { run, path } = await locate(registry, (req.params['path'] as unknown as string[]).join('/'));
      if (path === '') throw invalidParameter('Give the path of a file to download');
      await download(registry, run, path, res);
    }),
  );

  router.put(
    '/artifacts/*path',
    route(async (req: Request, res: Response) => {
      const registry = ctx.registryOf(req, res);
      const { run, path } = await locate(registry, (req.params['path'] as unknown as string[]).join('/'));
      if (path === '') throw invalidParameter('Give the path of the file to upload');
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > ctx.artifactUploadBytes) {
        throw new MlflowError(
          'REQUEST_LIMIT_EXCEEDED',
          `the artifact of ${declared} bytes is larger than the limit of ${ctx.artifactUploadBytes} bytes`,
        );
      }
      const limited = req.pipe(byteLimit(ctx.artifactUploadBytes));
      req.on('error', (e) => limited.destroy(e));
      await (await registry.openRun(run.id)).logArtifact(path, limited);
      return {};
    }),
  );

  return router;
}
