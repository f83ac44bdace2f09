import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { RegistryErrorCode } from '@modelreg/core';
import { isRegistryError } from '@modelreg/core';
import type { z } from 'zod';

/** Codes the HTTP layer adds to the registry's own (`RegistryErrorCode`). */
export const httpErrorCodes = [
  'INVALID_REQUEST',
  'MALFORMED_BODY',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'ROUTE_NOT_FOUND',
  'HOST_NOT_ALLOWED',
  'CROSS_ORIGIN',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type HttpErrorCode = (typeof httpErrorCodes)[number];
export type ErrorCode = HttpErrorCode | RegistryErrorCode;

/** The body of every error answer. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: Record<string, unknown>;
    /** On 5xx answers: the request id under which the server logged the cause. */
    requestId?: string;
  };
}

/** An error with an HTTP status, thrown by routes and turned into an {@link ErrorBody} by {@link errorHandler}. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * The status of each registry error code. The rule: 400 means the HTTP request itself is malformed
 * (not parseable, or not the shape our zod request schemas describe — including path segments that
 * are not valid names); 422 means the request was well-formed but the registry refused its content
 * (`INVALID_ARGUMENT`: an unknown target column, a bad CSV, an unknown category; `UNSUPPORTED`:
 * probabilities of a regressor).
 */
export const statusOfRegistryCode: Record<RegistryErrorCode, number> = {
  INVALID_ARGUMENT: 422,
  INVALID_CONFIG: 422,
  UNSUPPORTED: 422,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  INTEGRITY: 500,
  STORE_FAILURE: 500,
  // The caller gave up (nginx's "client closed request"); a client that aborted sees no answer anyway.
  ABORTED: 499,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
};

/** A zod failure of a request schema: 400 `INVALID_REQUEST` listing every issue. */
export function invalidRequest(where: string, error: z.ZodError): HttpError {
  const issues = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  const first = issues[0];
  return new HttpError(
    400,
    'INVALID_REQUEST',
    first ? `${first.path}: ${first.message}` : `${where} is invalid`,
    { issues },
  );
}

/** Parses part of a request with a zod schema, or throws 400 `INVALID_REQUEST`. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(where, result.error);
  return result.data;
}

interface BodyParserError {
  type: string;
  status?: number;
  message?: string;
}

const isBodyParserError = (e: unknown): e is BodyParserError =>
  typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string';

const isMulterError = (e: unknown): e is Error & { code: string; field?: string } =>
  e instanceof Error && e.name === 'MulterError';

/** Maps anything thrown to a status and an error body; unknown errors become an opaque 500. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isRegistryError(e)) {
    // A store failure's message may quote the driver (SQL, paths, hosts): it goes to the log only.
    if (e.code === 'STORE_FAILURE')
      return new HttpError(500, 'STORE_FAILURE', 'a metadata or artifact store operation failed');
    return new HttpError(statusOfRegistryCode[e.code], e.code, e.message, e.details);
  }
  if (e instanceof URIError) return new HttpError(400, 'INVALID_REQUEST', 'the URL has malformed %-encoding');
  if (isMulterError(e)) {
    if (e.code === 'LIMIT_FILE_SIZE')
      return new HttpError(413, 'PAYLOAD_TOO_LARGE', `the uploaded file is too large`);
    if (e.code === 'LIMIT_UNEXPECTED_FILE')
      return new HttpError(
        400,
        'INVALID_REQUEST',
        `unexpected file field "${e.field ?? ''}": send the CSV as "file"`,
      );
    return new HttpError(400, 'MALFORMED_BODY', `multipart body refused: ${e.message}`);
  }
  if (isBodyParserError(e)) {
    if (e.type === 'entity.too.large')
      return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'the request body is too large');
    if (e.type === 'entity.parse.failed')
      return new HttpError(400, 'MALFORMED_BODY', `the body is not valid JSON: ${e.message ?? ''}`.trim());
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported encoding');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return new HttpError(e.status, 'MALFORMED_BODY', e.message ?? 'the body could not be read');
  }
  if (e instanceof Error && /^(Multipart|Malformed part header|Unexpected end of form)/i.test(e.message)) {
    return new HttpError(400, 'MALFORMED_BODY', `multipart body refused: ${e.message}`);
  }
  return new HttpError(500, 'INTERNAL', 'internal server error');
}

/** Sends `{ error: { code, message, details?, requestId? } }`; a 5xx carries the request id, never the cause. */
export function sendError(res: Response, error: HttpError): void {
  const requestId: unknown = res.locals['requestId'];
  const body: ErrorBody = {
    error: {
      code: error.code,
      message:
        error.status >= 500 && typeof requestId === 'string'
          ? `${error.message} (request id ${requestId}; the server log has the cause)`
          : error.message,
      ...(error.details ? { details: error.details } : {}),
      ...(error.status >= 500 && typeof requestId === 'string' ? { requestId } : {}),
    },
  };
  res.status(error.status).json(body);
}

/** Unknown routes: 404 `ROUTE_NOT_FOUND`. */
export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

/** Checks the media type of a body: 415 `UNSUPPORTED_MEDIA_TYPE` unless it is one of `types`. */
export function requireContentType(...types: string[]): RequestHandler {
  return (req, _res, next) => {
    if (req.is(types)) return next();
    next(
      new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${JSON.stringify(req.get('content-type') ?? '(none)')} is not accepted here; send ${types.join(' or ')}`,
      ),
    );
  };
}

/** The last middleware: logs server errors, counts every error by code, answers JSON. */
export function errorHandler(
  onError: (error: HttpError, cause: unknown, res: Response) => void,
): ErrorRequestHandler {
  return (e: unknown, req, res, next) => {
    const error = toHttpError(e);
    onError(error, e, res);
    if (res.headersSent) return next(e);
    afterUnreadBody(req, res, () => sendError(res, error));
  };
}

/** How much of an unread body is read and dropped so that a refused client hears its answer. */
const DRAIN_BYTES = 1 << 20;
const DRAIN_MS = 2_000;

/**
 * A request refused before its body was read (401, 403, 415 …) still has that body on the wire. A
 * client that asked for `Connection: close` (curl, Python's requests, superagent) is still writing
 * it when the answer would close the socket, and it sees EPIPE or a reset instead of the answer. So
 * the rest of the body is read and dropped first, up to 1 MiB or 2 s; past that the answer goes out
 * at once with `Connection: close`.
 */
function afterUnreadBody(req: Request, res: Response, send: () => void): void {
  if (req.complete || req.readableEnded || req.destroyed || res.getHeader('Connection') === 'close') {
    send();
    return;
  }
  let read = 0;
  let sent = false;
  const finish = (close: boolean) => {
    if (sent) return;
    sent = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onEnd);
    if (close) res.setHeader('Connection', 'close');
    send();
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_BYTES) finish(true);
  };
  const onEnd = () => finish(false);
  const timer = setTimeout(() => finish(true), DRAIN_MS);
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', onEnd);
  req.resume();
}
