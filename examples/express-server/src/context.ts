import type { Response } from 'express';
import type { ModelRegistry } from '@modelreg/core';
import type { Logger } from 'pino';
import type { AuditSink } from './audit.js';
import type { ServerMetrics } from './metrics.js';

/** Size limits of request bodies. */
export interface Limits {
  /** JSON bodies (train, predict, stage, alias, canary). Default 1 MB. */
  jsonBytes: number;
  /** CSV uploads to `POST /datasets`. Default 100 MB. */
  datasetUploadBytes: number;
  /** CSV bodies and uploads to `POST /models/:name/predict`. Default 10 MB. */
  predictCsvBytes: number;
  /** Rows per prediction request, JSON or CSV (413 beyond). Default 10 000. */
  predictRows: number;
  /** One artifact uploaded to `PUT /runs/:id/artifacts/*`. Default 1 GiB. */
  artifactUploadBytes: number;
  /** An ONNX file uploaded to `POST /models/:name/versions/onnx`. Default 512 MB. */
  modelUploadBytes: number;
  /** Rows of output an audit entry keeps (the rest is counted, not stored). Default 1 000. */
  auditOutputRows: number;
  /** Trees (`model.params.nEstimators`) one `POST /train` may ask for (422 beyond). Default 1 000. */
  trainEstimators: number;
  /** Worker threads (`model.params.workers`) one `POST /train` may ask for (422 beyond). Default 4. */
  trainWorkers: number;
}

export const defaultLimits: Limits = {
  jsonBytes: 1024 * 1024,
  datasetUploadBytes: 100 * 1024 * 1024,
  predictCsvBytes: 10 * 1024 * 1024,
  predictRows: 10_000,
  artifactUploadBytes: 1024 * 1024 * 1024,
  modelUploadBytes: 512 * 1024 * 1024,
  auditOutputRows: 1000,
  trainEstimators: 1000,
  trainWorkers: 4,
};

/** What every route module gets. */
export interface AppContext {
  registry: ModelRegistry;
  logger: Logger;
  audit: AuditSink | undefined;
  metrics: ServerMetrics;
  limits: Limits;
  /** Folder for multipart upload spool files. */
  uploadDir: string;
  /** Interval of the comment heartbeats of `GET /jobs/:id/events`, in ms. */
  sseHeartbeatMs: number;
}

/** The request id set by the request-id middleware (from `X-Request-Id`, or a fresh UUID). */
export function requestIdOf(res: Response): string {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : '';
}

/** The request's child logger (carries `reqId`), made on first use and kept for the request. */
export function loggerOf(res: Response, fallback: Logger): Logger {
  const log = res.locals['log'] as Logger | undefined;
  if (log) return log;
  const requestId: unknown = res.locals['requestId'];
  if (typeof requestId !== 'string') return fallback;
  const child = fallback.child({ reqId: requestId });
  res.locals['log'] = child;
  return child;
}
