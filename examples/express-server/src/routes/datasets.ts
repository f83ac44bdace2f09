import { open, rm } from 'node:fs/promises';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { DatasetUpload } from '@modelreg/core';
import { z } from 'zod';
import { registryOf, requirePermission } from '../auth.js';
import type { AppContext } from '../context.js';
import { HttpError, parseRequest } from '../errors.js';
import { datasetParams, uploadDatasetQuery, versionParams } from '../schemas.js';
import { diskCsvUpload, limitedBody, requireFile } from '../uploads.js';

const uploadFields = z.object({ name: z.string().min(1).max(255).optional() }).strict();

/** `POST /datasets` (multipart `file` + optional `name`, or a `text/csv` body with `?name=`), `GET /datasets…`. */
export function datasetRoutes(ctx: AppContext): Router {
  const router = Router();
  const multipart = diskCsvUpload(ctx.uploadDir, ctx.limits.datasetUploadBytes);

  const uploadMultipart: RequestHandler = async (req, res) => {
    const file = requireFile(req);
    try {
      const query = parseRequest(uploadDatasetQuery, req.query, 'query');
      const fields = parseRequest(uploadFields, req.body ?? {}, 'body');
      // Opened here and closed below: a stream opened by path would open on a later tick, and
      // an upload refused before reading would leave it open (or failing unheard) after the rm.
      const handle = await open(file.path, 'r');
      try {
        const dataset = await registryOf(res).datasets.upload(
          fields.name ?? query.name ?? file.originalname,
          handle.createReadStream({ autoClose: false }),
        );
        sendUpload(res, dataset);
      } finally {
        await handle.close();
      }
    } finally {
      await rm(file.path, { force: true });
    }
  };

  const uploadCsvBody: RequestHandler = async (req, res) => {
    const query = parseRequest(uploadDatasetQuery, req.query, 'query');
    if (!query.name)
      throw new HttpError(400, 'INVALID_REQUEST', 'query.name: a text/csv upload needs ?name=');
    const { body, exceeded } = limitedBody(req, ctx.limits.datasetUploadBytes);
    try {
      sendUpload(res, await registryOf(res).datasets.upload(query.name, body));
    } catch (e) {
      if (exceeded()) {
        throw new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `the CSV is larger than the limit of ${ctx.limits.datasetUploadBytes} bytes`,
        );
      }
      throw e;
    }
  };

  router.post('/datasets', (req, res, next) => {
    // Before the body is read: a principal that may not upload does not get to spool one.
    try {
      requirePermission(res, 'edit', 'upload datasets');
    } catch (e) {
      next(e);
      return;
    }
    if (req.is('multipart/form-data')) {
      multipart(req, res, (err?: unknown) => {
        if (err) return next(err);
        Promise.resolve(uploadMultipart(req, res, next)).catch(next);
      });
      return;
    }
    if (req.is(['text/csv', 'text/plain'])) {
      Promise.resolve(uploadCsvBody(req, res, next)).catch(next);
      return;
    }
    next(
      new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${JSON.stringify(req.get('content-type') ?? '(none)')} is not accepted here; send multipart/form-data (field "file") or text/csv`,
      ),
    );
  });

  router.get('/datasets', async (_req, res) => {
    res.json({ datasets: await ctx.registry.datasets.list() });
  });

  router.get('/datasets/:name', async (req, res) => {
    const { name } = parseRequest(datasetParams, req.params, 'params');
    const versions = await ctx.registry.datasets.versions(name);
    const latest = versions.at(-1);
    if (!latest) throw new HttpError(404, 'NOT_FOUND', `dataset "${name}" does not exist`);
    res.json({ dataset: latest, versions });
  });

  router.get('/datasets/:name/versions/:version', async (req, res) => {
    const { name, version } = parseRequest(versionParams, req.params, 'params');
    const dataset = await ctx.registry.datasets.get(name, version);
    if (!dataset) throw new HttpError(404, 'NOT_FOUND', `dataset "${name}" has no version ${version}`);
    res.json(dataset);
  });

  return router;
}

function sendUpload(res: Parameters<RequestHandler>[1], dataset: DatasetUpload): void {
  res.status(dataset.created ? 201 : 200).json(dataset);
}
