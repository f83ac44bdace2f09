import { Router } from 'express';
import type { RequestHandler, Response } from 'express';
import { checkPermission, createTokenSchema } from '@modelreg/core';
import type { ModelRegistry, Permission, Principal } from '@modelreg/core';
import { z } from 'zod';
import type { AppContext } from './context.js';
import { HttpError, parseRequest, requireContentType } from './errors.js';
import { publicDocsPaths } from './api-docs.js';

/**
 * How the server authenticates. `open`: no credentials needed, every request acts as the server
 * itself (full rights; the history records a body's `actor` or the server's user) — only for a
 * server on a loopback address. `token`: every request but the public ones needs a token.
 */
export type AuthOptions = { mode: 'open' } | { mode: 'token'; adminToken?: string };

const CHALLENGE = 'Bearer realm="modelreg"';

/** 401 `UNAUTHENTICATED` with the `WWW-Authenticate` challenge. */
function unauthenticated(res: Response, message: string): HttpError {
  res.setHeader('WWW-Authenticate', CHALLENGE);
  return new HttpError(401, 'UNAUTHENTICATED', message);
}

/** Paths that answer without credentials: health, the API description, the UI shell and its assets. */
const publicPaths = new Set(['/health', '/openapi.json', '/', '/index.html', ...publicDocsPaths]);
const isPublic = (method: string, path: string): boolean =>
  ((method === 'GET' || method === 'HEAD') &&
    (publicPaths.has(path) ||
      path.startsWith('/assets/') ||
      /^\/[\w.-]+\.(?:svg|ico|png|txt|webmanifest)$/.test(path))) ||
  // Signing in and out of the UI: the token travels in the body (sign-in) or in the cookie.
  (path === SESSION_PATH && (method === 'POST' || method === 'DELETE'));

/**
 * The UI's session cookie: the token itself, `HttpOnly` (page scripts never read it), `SameSite=Strict`
 * (no cross-site request carries it; writes also need JSON and a same-site `Origin`), `Secure` over
 * HTTPS, 12 hours. Stateless, so every replica accepts it, and revoking the token ends the session.
 */
export const SESSION_COOKIE = 'modelreg_session';
const SESSION_PATH = '/auth/session';
const SESSION_MAX_AGE_MS = 12 * 3600 * 1000;

/** The session cookie of a request, if any (a hand-read `Cookie` header: one name, no decoding needed). */
function sessionOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * The token of a request: `Authorization: Bearer <token>`, or HTTP Basic with the token as the
 * password (what MLflow clients send for a username and password). `undefined` without the header.
 */
function credentialsOf(header: string | undefined, res: Response): string | undefined {
  if (header === undefined) return undefined;
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme) && value) return value;
  if (/^basic$/i.test(scheme) && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (password) return password;
  }
  throw unauthenticated(
    res,
    'the Authorization header must be "Bearer <token>" or Basic with the token as the password',
  );
}

/**
 * Finds the request's principal and the registry it acts through (`res.locals`). Invalid
 * credentials are 401 on every path; missing ones are 401 except on the public paths, and in open mode.
 */
export function authentication(ctx: AppContext, options: AuthOptions): RequestHandler {
  return (req, res, next) => {
    const run = async (): Promise<void> => {
      const fromHeader = credentialsOf(req.get('authorization'), res);
      const fromCookie = fromHeader === undefined ? sessionOf(req.get('cookie')) : undefined;
      const secret = fromHeader ?? fromCookie;
      if (secret !== undefined) {
        const principal = await ctx.registry.auth.authenticate(
          secret,
          options.mode === 'token' && options.adminToken ? { adminToken: options.adminToken } : {},
        );
        if (!principal) {
          if (fromCookie !== undefined) res.clearCookie(SESSION_COOKIE, { path: '/' });
          // Signing out with a stale cookie, or signing in again, must not be refused for the old one.
          if (fromCookie !== undefined && req.path === SESSION_PATH) {
            if (options.mode === 'open') res.locals['registry'] = ctx.registry;
            return;
          }
          throw unauthenticated(
            res,
            fromCookie !== undefined
              ? 'the session has ended (its token was revoked); sign in again'
              : 'the token is not valid (unknown, revoked or malformed)',
          );
        }
        res.locals['principal'] = principal;
        res.locals['registry'] = ctx.registry.as(principal);
        return;
      }
      if (options.mode === 'open') {
        res.locals['registry'] = ctx.registry;
        return;
      }
      if (!isPublic(req.method, req.path)) {
        throw unauthenticated(res, 'this server needs a token: send "Authorization: Bearer <token>"');
      }
    };
    run().then(() => next(), next);
  };
}

/**
 * The registry a request acts through: a view bound to its principal (every change is checked and
 * records the principal), or in open mode the server's registry. A route reached without one is 401.
 */
export function registryOf(res: Response): ModelRegistry {
  const registry = res.locals['registry'] as ModelRegistry | undefined;
  if (!registry) throw unauthenticated(res, 'this route needs a token');
  return registry;
}

/** The request's principal; `null` in open mode. */
export function principalOf(res: Response): Principal | null {
  registryOf(res);
  return (res.locals['principal'] as Principal | undefined) ?? null;
}

/** Throws `PERMISSION_DENIED` (403) unless the request's principal may do `action` (on `model`). */
export function requirePermission(
  res: Response,
  permission: Permission,
  action: string,
  model?: string,
): void {
  checkPermission(principalOf(res), permission, action, model);
}

/**
 * A body's `actor` as a registry option. With a principal the history records the principal, so a
 * client-supplied actor is refused (400); in open mode it is passed on.
 */
export function actorOption(res: Response, actor: string | undefined): { actor?: string } {
  if (actor === undefined) return {};
  const principal = principalOf(res);
  if (principal !== null) {
    throw new HttpError(
      400,
      'INVALID_REQUEST',
      `body.actor: the history records the authenticated principal ("${principal.name}"); do not send an actor`,
    );
  }
  return { actor };
}

const tokenParams = z.object({ id: z.string().min(1).max(64) });
const sessionBody = z.strictObject({ token: z.string().min(1).max(1024) });

/** `POST|GET /auth/tokens`, `DELETE /auth/tokens/:id` (admin), `GET /auth/whoami` (any valid token). */
export function authRoutes(ctx: AppContext, options: AuthOptions): Router {
  const router = Router();

  /**
   * `POST /auth/session` `{ token }`: the UI's sign-in. Checks the token and answers who it is, with
   * the session cookie; 401 for a bad token. `DELETE /auth/session` signs out (clears the cookie).
   */
  router.post(SESSION_PATH, requireContentType('application/json'), async (req, res) => {
    const { token } = parseRequest(sessionBody, req.body, 'body');
    const principal = await ctx.registry.auth.authenticate(
      token,
      options.mode === 'token' && options.adminToken ? { adminToken: options.adminToken } : {},
    );
    if (!principal) throw unauthenticated(res, 'the token is not valid (unknown, revoked or malformed)');
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      maxAge: SESSION_MAX_AGE_MS,
    });
    res.json({ ...principal, auth: options.mode });
  });

  router.delete(SESSION_PATH, (_req, res) => {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.get('/auth/whoami', (_req, res) => {
    const principal = principalOf(res);
    res.json(
      principal === null
        ? { name: 'local', role: 'admin', models: null, tokenId: null, auth: 'open' }
        : { ...principal, auth: options.mode },
    );
  });

  router.post('/auth/tokens', requireContentType('application/json'), async (req, res) => {
    const body = parseRequest(createTokenSchema, req.body, 'body');
    const created = await registryOf(res).auth.createToken(body);
    res.status(201).json(created);
  });

  router.get('/auth/tokens', async (_req, res) => {
    res.json({ tokens: await registryOf(res).auth.listTokens() });
  });

  router.delete('/auth/tokens/:id', async (req, res) => {
    const { id } = parseRequest(tokenParams, req.params, 'params');
    await registryOf(res).auth.revokeToken(id);
    res.status(204).end();
  });

  return router;
}
