import { randomUUID } from 'node:crypto';
import express from 'express';
import type { RequestHandler } from 'express';
import { createPredictBatcher, defaultSpoolDir } from '@modelreg/core';
import type { ModelRegistry, PredictBatcherOptions } from '@modelreg/core';
import { createMlflowRouter } from '@modelreg/mlflow-rest';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { AuditSink } from './audit.js';
import type { AuthOptions } from './auth.js';
import { authentication, authRoutes, registryOf } from './auth.js';
import type { AppContext, Limits } from './context.js';
import { defaultLimits, loggerOf } from './context.js';
import { errorHandler, routeNotFound } from './errors.js';
import type { MetricsOptions } from './metrics.js';
import { createMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { DeploymentBook, canaryRouter, canaryRoutes } from './routes/canary.js';
import { datasetRoutes } from './routes/datasets.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { opsRoutes } from './routes/ops.js';
import { predictRoutes } from './routes/predict.js';
import { runRoutes } from './routes/runs.js';
import { trackingRoutes } from './routes/tracking.js';
import { trainRoutes } from './routes/train.js';
import { eventStreamRoutes, webhookRoutes } from './routes/webhooks.js';
import type { SecurityOptions } from './security.js';
import { defaultSecurity, securityMiddleware } from './security.js';
import { defaultUiDir, uiRoutes } from './ui.js';

export type { AuditEntry, AuditSink } from './audit.js';
export { canonicalJson, createMemoryAuditSink, createNdjsonAuditSink, inputSha256 } from './audit.js';
export type { AuthOptions } from './auth.js';
export type { Limits } from './context.js';
export { defaultLimits } from './context.js';
export { createHttpServer } from './http-server.js';
export type { ErrorBody, ErrorCode } from './errors.js';
export { statusOfRegistryCode } from './errors.js';
export { buildOpenApiDocument } from './openapi.js';
export type { SecurityOptions } from './security.js';
export { defaultAllowedHosts, defaultSecurity, handleExpectContinue } from './security.js';

export interface AppOptions {
  /** The registry to serve; the app never closes it. */
  registry: ModelRegistry;
  /** Structured logger; default: pino at `info` to stdout. */
  logger?: Logger;
  /** Where prediction audit entries go (e.g. `createNdjsonAuditSink(path)`); default: none. */
  auditLog?: AuditSink;
  /** Body size limits; each one defaults to {@link defaultLimits}. */
  limits?: Partial<Limits>;
  metrics?: MetricsOptions;
  /**
   * Folder for multipart spool files; default `defaultSpoolDir()` (`$TMPDIR/modelreg-spool`), which
   * `registry.gc()` sweeps: the spool files of a killed server are deleted after the grace period.
   */
  uploadDir?: string;
  /**
   * The built web UI served at `/`: a folder with `index.html` and `assets/`. Default: the `dist` of
   * `@modelreg/example-web-ui` when it is built (else `/` says how to build it); `false`: no UI.
   */
  ui?: string | false;
  /**
   * Authentication: `{ mode: 'token', adminToken? }` requires a token on every route but the public
   * ones (health, OpenAPI, docs, the UI shell); default `{ mode: 'open' }`: no credentials, every
   * request acts as the server itself — for loopback only (`server.ts` enforces it).
   */
  auth?: AuthOptions;
  /** Host allow-list and rate limits; each part defaults to {@link defaultSecurity}. */
  security?: Partial<SecurityOptions>;
  /**
   * Adaptive batching of `POST /models/:name/predict` (off by default): concurrent requests for one
   * model are coalesced into one model call, `maxWaitMs` (default 1 ms) at most, and each answer keeps
   * its own version. See `createPredictBatcher` in `@modelreg/core`.
   */
  predictBatching?: PredictBatcherOptions | false;
  /** Interval of the comment heartbeats of the event streams (`GET /events`, `GET /jobs/:id/events`). Default 15 000 ms. */
  sseHeartbeatMs?: number;
}

const MLFLOW_ARTIFACTS = '/api/2.0/mlflow-artifacts/';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Sets the request id (from a well-formed `X-Request-Id`, or a new UUID), a child logger, and logs each answer. */
function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const header = req.get('x-request-id');
    const requestId = header && REQUEST_ID.test(header) ? header : randomUUID();
    // The request's child logger is made on first use (loggerOf): at the default level most
    // requests log nothing.
    res.locals['requestId'] = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    res.on('finish', () => {
      const status = res.statusCode;
      if (!logger.isLevelEnabled(status >= 500 ? 'error' : 'info')) return;
      const line = {
        method: req.method,
        url: req.originalUrl,
        status,
        ms: Math.round((performance.now() - started) * 100) / 100,
        ...(typeof res.locals['errorCode'] === 'string' ? { code: res.locals['errorCode'] } : {}),
      };
      const log = loggerOf(res, logger);
      if (status >= 500) log.error(line, 'request failed');
      else log.info(line, 'request');
    });
    next();
  };
}

/**
 * Runs `router` only for a path under one of `prefixes` (`/models` matches `/models` and
 * `/models/…`, in any case, as the routes themselves do), else passes the request on. Every router
 * is mounted at the root, and Express enters each one in turn and tries each of its routes: without
 * this, a prediction walked some eighty routes first and allocated 60 KB per request, most of the
 * server's collections under load.
 */
function under(prefixes: readonly string[], router: RequestHandler): RequestHandler {
  const lower = prefixes.map((p) => p.toLowerCase());
  return (req, res, next) => {
    const path = req.path;
    for (let i = 0; i < lower.length; i++) {
      const p = lower[i]!;
      // Compared without a lowercase copy of the path: Express routes ignore case by default.
      if (
        path.length >= p.length &&
        (path.length === p.length || path.charCodeAt(p.length) === 47) &&
        path.slice(0, p.length).toLowerCase() === p
      ) {
        router(req, res, next);
        return;
      }
    }
    next();
  };
}

/**
 * The REST app over a registry: datasets, training jobs, experiments and runs, models, versions, stages,
 * aliases, predictions, canaries, health, metrics, the OpenAPI document and the web UI at `/`.
 * It does not listen; `server.ts` does.
 */
export function createApp(options: AppOptions): express.Application {
  const logger = options.logger ?? pino({ level: 'info' });
  const metrics = createMetrics(options.metrics);
  const ctx: AppContext = {
    registry: options.registry,
    logger,
    audit: options.auditLog,
    metrics,
    limits: { ...defaultLimits, ...options.limits },
    uploadDir: options.uploadDir ?? defaultSpoolDir(),
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
  };
  const batcher = options.predictBatching ? createPredictBatcher(options.predictBatching) : undefined;
  const canaries = new DeploymentBook(options.registry, logger, batcher);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogging(logger));
  app.use(metrics.middleware);
  app.use(securityMiddleware({ ...defaultSecurity, ...options.security }, ctx.limits));
  const json = express.json({ limit: ctx.limits.jsonBytes, strict: true });
  // MLflow's proxied artifact uploads are streamed as they come, whatever their Content-Type.
  app.use((req, res, next) => (req.path.startsWith(MLFLOW_ARTIFACTS) ? next() : json(req, res, next)));
  const auth = options.auth ?? { mode: 'open' };
  app.use(authentication(ctx, auth));
  app.use(under(['/auth'], authRoutes(ctx, auth)));

  app.use(under(['/datasets'], datasetRoutes(ctx)));
  app.use(under(['/train'], trainRoutes(ctx)));
  const eventStreams = new Set<() => void>();
  app.use(under(['/jobs'], jobRoutes(ctx, eventStreams)));
  app.use(under(['/events'], eventStreamRoutes(ctx, eventStreams)));
  app.use(under(['/webhooks'], webhookRoutes(ctx)));
  // server.ts ends the open event streams when it shuts down (they would hold it open).
  app.locals['endEventStreams'] = () => {
    for (const end of [...eventStreams]) end();
  };
  app.use(under(['/models'], predictRoutes(ctx, canaryRouter(ctx, canaries), batcher)));
  app.use(under(['/models'], canaryRoutes(ctx, canaries)));
  app.use(under(['/models'], modelRoutes(ctx)));
  app.use(under(['/experiments', '/runs'], runRoutes(ctx)));
  app.use(under(['/experiments', '/models', '/runs'], trackingRoutes(ctx)));
  // MLflow's REST API (/api/2.0/mlflow, /ajax-api/2.0/mlflow, /api/2.0/mlflow-artifacts) for MLflow
  // clients: the same identity (Bearer, or Basic with the token as password) and roles.
  app.use(
    under(
      ['/api', '/ajax-api'],
      createMlflowRouter({
        registry: options.registry,
        auth: (_req, res) => registryOf(res),
        artifactUploadBytes: ctx.limits.artifactUploadBytes,
        jsonBytes: ctx.limits.jsonBytes,
        onError: (error, cause) => {
          metrics.countError(error.code);
          if (error.status >= 500) logger.error({ err: cause, code: error.code }, 'server error');
        },
      }),
    ),
  );
  app.use(
    under(
      ['/health', '/metrics', '/openapi.json', '/docs'],
      opsRoutes(ctx, { openapi: buildOpenApiDocument(), deployments: () => canaries.describeAll() }),
    ),
  );
  if (options.ui !== false) app.use(uiRoutes(options.ui ?? defaultUiDir()));
  app.use(routeNotFound);
  app.use(
    errorHandler((error, cause, res) => {
      res.locals['errorCode'] = error.code;
      metrics.countError(error.code);
      if (error.status >= 500) loggerOf(res, logger).error({ err: cause, code: error.code }, 'server error');
    }),
  );
  return app;
}
