import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Limits } from './context.js';
import { HttpError } from './errors.js';

/**
 * Browser safety: what keeps a web page on another site (or a DNS-rebound name) from using the API
 * through a user's browser, and what keeps one client from flooding it.
 */
export interface SecurityOptions {
  /**
   * Names the `Host` header may carry. An entry without a port allows any port (`localhost`
   * matches `localhost:8000`); `[::1]` is written with brackets; `*` allows any host.
   * Default {@link defaultAllowedHosts}.
   */
  allowedHosts: string[];
  /** Writes (everything but GET, HEAD, OPTIONS and predict) per client address and window. Default 300 a minute. */
  writeRateLimit: { limit: number; windowMs: number };
  /**
   * Failed sign-ins (answers 401 to requests that carried credentials) per client address and window;
   * past it, requests with credentials get 429 until the window ends. Default 20 in 15 minutes.
   */
  signInRateLimit: { limit: number; windowMs: number };
}

/** The loopback names: what a server on 127.0.0.1 is reached by. */
export const defaultAllowedHosts = ['localhost', '127.0.0.1', '[::1]'];

export const defaultSecurity: SecurityOptions = {
  allowedHosts: defaultAllowedHosts,
  writeRateLimit: { limit: 300, windowMs: 60_000 },
  signInRateLimit: { limit: 20, windowMs: 15 * 60_000 },
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const isWrite = (req: Request): boolean => !SAFE_METHODS.has(req.method);

/**
 * Routes whose bodies are not JSON, and the media types each takes. Every other write with a body
 * must be `application/json`, which a cross-site form or a `no-cors` fetch cannot send.
 */
interface BodyRoute {
  method: string;
  path: RegExp;
  types: string[];
  /** The size limit of a declared `Content-Length`. */
  limit: (limits: Limits, req: Request) => number;
}

const seg = '[^/]+';
export const bodyRoutes: BodyRoute[] = [
  {
    method: 'POST',
    path: /^\/datasets\/?$/,
    types: ['multipart/form-data', 'text/csv', 'text/plain'],
    limit: (l) => l.datasetUploadBytes,
  },
  {
    method: 'POST',
    path: new RegExp(`^/models/${seg}/predict/?$`),
    types: ['application/json', 'text/csv', 'text/plain', 'multipart/form-data'],
    limit: (l, req) => (req.is('application/json') ? l.jsonBytes : l.predictCsvBytes),
  },
  {
    method: 'PUT',
    path: new RegExp(`^/runs/${seg}/artifacts/.+$`),
    types: ['*/*'],
    limit: (l) => l.artifactUploadBytes,
  },
  {
    // MLflow's proxied artifact upload (mlflow_artifacts.proto UploadArtifact).
    method: 'PUT',
    path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts\/.+$/,
    types: ['*/*'],
    limit: (l) => l.artifactUploadBytes,
  },
  {
    method: 'POST',
    path: new RegExp(`^/models/${seg}/versions/onnx/?$`),
    types: ['multipart/form-data'],
    limit: (l) => l.modelUploadBytes,
  },
];

const routeOf = (req: Request): BodyRoute | undefined =>
  bodyRoutes.find((r) => r.method === req.method && r.path.test(req.path));

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Splits a `Host` (or an origin's host) into a lower-case name and a port (`''` when none). */
function splitHost(host: string): { name: string; port: string } {
  const h = host.trim().toLowerCase();
  const v6 = /^(\[[^\]]*\])(?::(\d*))?$/.exec(h);
  if (v6) return { name: v6[1]!, port: v6[2] ?? '' };
  const at = h.lastIndexOf(':');
  return at < 0 ? { name: h, port: '' } : { name: h.slice(0, at), port: h.slice(at + 1) };
}

/** 400 for a path with malformed percent-encoding (`/models/%zz`), before any route decodes it. */
export const wellFormedPath: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
    next();
  } catch {
    next(
      new HttpError(400, 'INVALID_REQUEST', `the path ${JSON.stringify(req.path)} has malformed %-encoding`),
    );
  }
};

/** 421 `HOST_NOT_ALLOWED` unless the `Host` header names an allowed host (DNS rebinding defence). */
export function hostAllowList(allowed: string[]): RequestHandler {
  if (allowed.includes('*')) return (_req, _res, next) => next();
  const entries = allowed.map(splitHost);
  return (req, _res, next) => {
    const host = req.headers.host;
    if (host) {
      const { name, port } = splitHost(host);
      if (entries.some((e) => e.name === name && (e.port === '' || e.port === port))) return next();
    }
    next(
      new HttpError(
        421,
        'HOST_NOT_ALLOWED',
        `the Host ${JSON.stringify(host ?? '(none)')} is not one this server answers to; add it to MODELREG_ALLOWED_HOSTS`,
      ),
    );
  };
}

/**
 * Writes from another site are refused (403 `CROSS_ORIGIN`): an `Origin` whose host is not the
 * request's `Host` (or `Origin: null`), or `Sec-Fetch-Site: cross-site`. Requests without `Origin`
 * (curl, SDKs, same-origin GETs) pass: browsers send `Origin` on every cross-origin write.
 */
export const sameOriginWrites: RequestHandler = (req, _res, next) => {
  if (!isWrite(req)) return next();
  const origin = req.headers.origin;
  const fetchSite = req.headers['sec-fetch-site'];
  let cross = fetchSite === 'cross-site';
  if (origin !== undefined) {
    try {
      const url = new URL(origin);
      const host = req.headers.host ?? '';
      cross ||= url.host.toLowerCase() !== host.toLowerCase();
    } catch {
      cross = true; // `null` (sandboxed frames, file:) or garbage
    }
  }
  if (!cross) return next();
  next(
    new HttpError(
      403,
      'CROSS_ORIGIN',
      `a ${req.method} from origin ${JSON.stringify(origin ?? fetchSite ?? '')} is refused: writes must come from this server's own origin`,
    ),
  );
};

/**
 * The media type of write bodies: `application/json` everywhere except the upload routes of
 * {@link bodyRoutes}; 415 otherwise. A write without a body (no `Content-Type`, no length) passes.
 */
export const writeMediaTypes: RequestHandler = (req, _res, next) => {
  if (!isWrite(req)) return next();
  const types = routeOf(req)?.types ?? ['application/json'];
  const contentType = req.headers['content-type'];
  if (contentType === undefined && !hasBody(req)) return next();
  if (contentType !== undefined && (types.includes('*/*') || req.is(types))) return next();
  next(
    new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${JSON.stringify(contentType ?? '(none)')} is not accepted for ${req.method} ${req.path}; send ${types.join(' or ')}`,
    ),
  );
};

/**
 * Requests whose `Expect: 100-continue` is left to the app (see {@link handleExpectContinue}): the
 * client is told to send its body only once the request passed {@link declaredLength}.
 */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** For `server.on('checkContinue', …)`: runs the app without sending `100 Continue` first. */
export function handleExpectContinue(
  app: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    awaitingContinue.add(req);
    app(req, res);
  };
}

/**
 * 413 at once for a declared `Content-Length` above the route's limit, before any byte of the body
 * is read (the connection is closed after the answer, so the body is never drained). Otherwise a
 * client waiting on `Expect: 100-continue` is told to go on.
 */
export function declaredLength(limits: Limits): RequestHandler {
  return (req, res, next) => {
    if (isWrite(req) && req.headers['content-length'] !== undefined) {
      const declared = Number(req.headers['content-length']);
      const limit = (routeOf(req)?.limit ?? ((l: Limits) => l.jsonBytes))(limits, req);
      if (Number.isFinite(declared) && declared > limit) {
        res.setHeader('Connection', 'close');
        return next(
          new HttpError(
            413,
            'PAYLOAD_TOO_LARGE',
            `the declared body of ${declared} bytes is larger than the limit of ${limit} bytes for ${req.method} ${req.path}`,
          ),
        );
      }
    }
    if (awaitingContinue.has(req)) {
      awaitingContinue.delete(req);
      res.writeContinue();
    }
    next();
  };
}

const tooMany = (what: string) =>
  new HttpError(
    429,
    'RATE_LIMITED',
    `too many ${what} from this address; retry after the RateLimit-Reset seconds`,
  );

/**
 * Calls `limiter` only for the requests it counts. express-rate-limit evaluates its own `skip` inside
 * an async middleware, after it has set up promises and `finish` listeners: on every request, reads
 * and predictions included.
 */
function onlyFor(counted: (req: Request) => boolean, limiter: RequestHandler): RequestHandler {
  return (req, res, next) => (counted(req) ? limiter(req, res, next) : next());
}

const isCountedWrite = (req: Request): boolean => isWrite(req) && !/\/predict\/?$/.test(req.path);

/** express-rate-limit on writes (predict is not one); 429 `RATE_LIMITED` JSON. */
export function writeRateLimit(options: SecurityOptions['writeRateLimit']): RequestHandler {
  return onlyFor(
    isCountedWrite,
    rateLimit({
      windowMs: options.windowMs,
      limit: options.limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      skip: (req) => !isCountedWrite(req),
      handler: (_req, _res, next) => next(tooMany('writes')),
    }),
  );
}

/**
 * express-rate-limit on failed sign-ins: only answers 401 to requests that carried credentials
 * (`Authorization` or a cookie) count; past the limit such requests get 429 `RATE_LIMITED`.
 */
export function signInRateLimit(options: SecurityOptions['signInRateLimit']): RequestHandler {
  const hasCredentials = (req: Request): boolean =>
    req.headers.authorization !== undefined || req.headers.cookie !== undefined;
  return onlyFor(
    hasCredentials,
    rateLimit({
      windowMs: options.windowMs,
      limit: options.limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      skip: (req) => !hasCredentials(req),
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode !== 401,
      handler: (_req, _res, next) => next(tooMany('failed sign-ins')),
    }),
  );
}

/**
 * helmet's headers on every answer (JSON included: `nosniff`, `frame-ancestors 'none'`, no referrer
 * leaks); the UI and artifact downloads set their stricter CSP themselves.
 */
export const securityHeaders: RequestHandler = helmet({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      // The server often runs on plain http (loopback, a LAN): never ask a browser to upgrade.
      upgradeInsecureRequests: null,
    },
  },
  referrerPolicy: { policy: 'same-origin' },
});

/** The middlewares of {@link SecurityOptions}, in the order they run (before any body is parsed). */
export function securityMiddleware(options: SecurityOptions, limits: Limits): RequestHandler[] {
  return [
    hostAllowList(options.allowedHosts),
    securityHeaders,
    wellFormedPath,
    sameOriginWrites,
    writeMediaTypes,
    declaredLength(limits),
    signInRateLimit(options.signInRateLimit),
    writeRateLimit(options.writeRateLimit),
  ];
}
