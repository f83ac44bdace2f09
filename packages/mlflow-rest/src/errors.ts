import type { ErrorRequestHandler } from 'express';
import { isRegistryError } from '@modelreg/core';
import type { RegistryErrorCode } from '@modelreg/core';

/** The MLflow error codes this router answers with (`databricks.proto` ErrorCode names). */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_CONFLICT'
  | 'INVALID_STATE'
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'ENDPOINT_NOT_FOUND'
  | 'NOT_IMPLEMENTED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'INTERNAL_ERROR';

/** MLflow's HTTP status of each code (mlflow/exceptions.py, ERROR_CODE_TO_HTTP_STATUS). */
export const statusOfMlflowCode: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_CONFLICT: 409,
  INVALID_STATE: 500,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  ENDPOINT_NOT_FOUND: 404,
  NOT_IMPLEMENTED: 501,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
};

/** An error answered as MLflow does: `{ error_code, message }` with MLflow's status. */
export class MlflowError extends Error {
  readonly code: MlflowErrorCode;
  constructor(code: MlflowErrorCode, message: string) {
    super(message);
    this.name = 'MlflowError';
    this.code = code;
  }
  get status(): number {
    return statusOfMlflowCode[this.code];
  }
}

const fromRegistry: Record<RegistryErrorCode, MlflowErrorCode> = {
  NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  ALREADY_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  CONFLICT: 'RESOURCE_CONFLICT',
  INVALID_ARGUMENT: 'INVALID_PARAMETER_VALUE',
  INVALID_CONFIG: 'INVALID_PARAMETER_VALUE',
  UNSUPPORTED: 'INVALID_PARAMETER_VALUE',
  INTEGRITY: 'INTERNAL_ERROR',
  STORE_FAILURE: 'INTERNAL_ERROR',
  ABORTED: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
};

/** Any thrown value as an MLflow error; unknown errors are INTERNAL_ERROR without their details. */
export function toMlflowError(e: unknown): MlflowError {
  if (e instanceof MlflowError) return e;
  if (isRegistryError(e)) {
    // The router's own refusal inside a store call (an upload over the limit) keeps its code.
    if (e.cause instanceof MlflowError) return e.cause;
    return new MlflowError(fromRegistry[e.code], e.message);
  }
  if (typeof e === 'object' && e !== null) {
    const status = (e as { status?: unknown; statusCode?: unknown }).status;
    const code = (e as { code?: unknown }).code;
    // An HTTP-layer error of the host (body-parser's 400/413, the server's own 401/403).
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = e instanceof Error ? e.message : 'bad request';
      if (status === 401 || code === 'UNAUTHENTICATED') return new MlflowError('UNAUTHENTICATED', message);
      if (status === 403) return new MlflowError('PERMISSION_DENIED', message);
      if (status === 413) return new MlflowError('REQUEST_LIMIT_EXCEEDED', message);
      if (status === 429) return new MlflowError('REQUEST_LIMIT_EXCEEDED', message);
      return new MlflowError('BAD_REQUEST', message);
    }
  }
  return new MlflowError('INTERNAL_ERROR', 'internal error');
}

/**
 * The router's error handler: `{ error_code, message }` with MLflow's status. `onError` sees every
 * error (the host logs 5xx causes there).
 */
export function mlflowErrorHandler(
  onError?: (error: MlflowError, cause: unknown) => void,
): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const error = toMlflowError(err);
    onError?.(error, err);
    const send = once(() => {
      if (!res.headersSent) res.status(error.status).json({ error_code: error.code, message: error.message });
    });
    if (req.readableEnded || req.destroyed) return send();
    // A refused upload whose body was not read: read and drop some of it so that the client, still
    // sending, hears the answer (past 1 MiB or 2 s the connection is closed after the answer).
    let dropped = 0;
    const timer = setTimeout(() => {
      res.setHeader('Connection', 'close');
      send();
    }, DRAIN_MS);
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_BYTES) {
        clearTimeout(timer);
        res.setHeader('Connection', 'close');
        req.pause();
        send();
      }
    });
    req.once('end', () => {
      clearTimeout(timer);
      send();
    });
    req.once('error', () => {
      clearTimeout(timer);
      send();
    });
    req.resume();
  };
}

const DRAIN_BYTES = 1 << 20;
const DRAIN_MS = 2_000;

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** INVALID_PARAMETER_VALUE naming the missing or malformed field. */
export function invalidParameter(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}
