import { Router } from 'express';
import { artifactParams, artifactPathOf } from './runs.js';
import type { Request, RequestHandler } from 'express';
import multer from 'multer';
import type { RunHandle } from '@modelreg/core';
import type { AppContext } from '../context.js';
import { loggerOf } from '../context.js';
import { HttpError, parseRequest, requireContentType } from '../errors.js';
import {
  createExperimentBody,
  endRunBody,
  logBatchBody,
  modelParams,
  onnxFields,
  runParams,
  startRunBody,
} from '../schemas.js';
import { limitedBody } from '../uploads.js';

const json = requireContentType('application/json');

/** Multipart with one ONNX file in field `file`, in memory (the ONNX checker reads all the bytes). */
function onnxUpload(maxBytes: number): RequestHandler {
  return multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 256 * 1024, parts: 10 },
  }).single('file');
}

/**
 * Tracking over HTTP, the write side of `runRoutes`: create experiments and runs, log params,
 * metrics and tags in batches, upload artifacts (streamed, sha256 recorded), end runs, and register
 * an ONNX model trained elsewhere as a run and a version.
 */
export function trackingRoutes(ctx: AppContext): Router {
  const router = Router();
  const { registry } = ctx;

  const openRun = async (id: string): Promise<RunHandle> => {
    if (!(await registry.getRun(id))) throw new HttpError(404, 'NOT_FOUND', `run "${id}" does not exist`);
    return registry.openRun(id);
  };

  router.post('/experiments', json, async (req, res) => {
    const body = parseRequest(createExperimentBody, req.body, 'body');
    const existed = (await registry.listExperiments()).some((e) => e.name === body.name);
    const experiment = await registry.getOrCreateExperiment(body.name);
    res.status(existed ? 200 : 201).json({ experiment, created: !existed });
  });

  router.post('/runs', json, async (req, res) => {
    const body = parseRequest(startRunBody, req.body ?? {}, 'body');
    const run = await registry.startRun(body);
    res.status(201).json({ run: await run.info() });
  });

  router.post('/runs/:id/log-batch', json, async (req, res) => {
    const { id } = parseRequest(runParams, req.params, 'params');
    const body = parseRequest(logBatchBody, req.body, 'body');
    const run = await openRun(id);
    // Params and tags first (each is one store call); metrics grouped by step and timestamp.
    if (body.params && Object.keys(body.params).length > 0) await run.logParams(body.params);
    if (body.tags && Object.keys(body.tags).length > 0) await run.setTags(body.tags);
    const groups = new Map<string, { step: number; timestamp?: number; values: Record<string, number> }>();
    for (const m of body.metrics ?? []) {
      const step = m.step ?? 0;
      const key = `${step}:${m.timestamp ?? ''}`;
      let group = groups.get(key);
      if (!group) {
        group = { step, ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}), values: {} };
        groups.set(key, group);
      }
      if (Object.hasOwn(group.values, m.key)) {
        throw new HttpError(
          400,
          'INVALID_REQUEST',
          `body.metrics: "${m.key}" appears twice with step ${step} and the same timestamp`,
        );
      }
      group.values[m.key] = m.value;
    }
    for (const g of groups.values()) {
      await run.logMetrics(g.values, {
        step: g.step,
        ...(g.timestamp !== undefined ? { timestamp: g.timestamp } : {}),
      });
    }
    res.json({ run: await run.info() });
  });

  router.post('/runs/:id/end', json, async (req, res) => {
    const { id } = parseRequest(runParams, req.params, 'params');
    const body = parseRequest(endRunBody, req.body ?? {}, 'body');
    const run = await openRun(id);
    res.json({ run: await run.end(body.status ?? 'finished') });
  });

  router.put('/runs/:id/artifacts/*path', async (req, res) => {
    const { id, path: segments } = parseRequest(artifactParams, req.params, 'params');
    const path = artifactPathOf(segments);
    const run = await openRun(id);
    const { body, exceeded } = limitedBody(req, ctx.limits.artifactUploadBytes);
    try {
      const file = await run.logArtifact(path, body);
      res.status(201).json({ path: file.path, size: file.size, sha256: file.sha256 });
    } catch (e) {
      if (exceeded()) {
        throw new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `the artifact is larger than the limit of ${ctx.limits.artifactUploadBytes} bytes`,
        );
      }
      throw e;
    }
  });

  const upload = onnxUpload(ctx.limits.modelUploadBytes);
  router.post('/models/:name/versions/onnx', upload, async (req: Request, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    if (!req.file)
      throw new HttpError(
        400,
        'INVALID_REQUEST',
        'the multipart body has no file field "file" with the .onnx model',
      );
    const fields = parseRequest(onnxFields, req.body ?? {}, 'body');
    const run = await registry.startRun({
      experiment: fields.experiment ?? name,
      ...(fields.runName ? { name: fields.runName } : {}),
      tags: { 'modelreg.source': 'onnx-upload', 'modelreg.file': req.file.originalname.slice(0, 256) },
    });
    try {
      const logged = await run.logModel({
        format: 'onnx',
        file: req.file.buffer,
        ...(fields.signature ? { signature: fields.signature } : {}),
        ...(fields.metrics ? { metrics: fields.metrics } : {}),
      });
      if (fields.metrics && Object.keys(fields.metrics).length > 0) await run.logMetrics(fields.metrics);
      const ended = await run.end('finished');
      const version = await registry.registerModel(name, {
        source: logged.uri,
        ...(fields.description ? { description: fields.description } : {}),
      });
      loggerOf(res, ctx.logger).info(
        { runId: run.id, model: name, version: version.version },
        'onnx registered',
      );
      res.status(201).json({ run: ended, version, modelUri: logged.uri });
    } catch (e) {
      // The run stays, as a record of the attempt; the bad bytes were never written.
      await run.end('failed').catch(() => undefined);
      throw e;
    }
  });

  return router;
}
