import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router } from 'express';
import type { Request, Response } from 'express';

/**
 * The web UI's page may load only its own scripts and styles and talk only to this server.
 * uPlot and React set inline styles from script, hence `'unsafe-inline'` for styles only.
 */
const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>modelreg</title></head>
<body><main><h1>The web UI is not built</h1><p>Run <code>npx turbo run build --filter=@modelreg/example-express-server...</code>
at the repository root, then restart the server. The REST API works without it: see <a href="docs">/docs</a>.</p></main></body></html>`;

/** The `dist` folder of `@modelreg/example-web-ui` when it has been built, else `undefined`. */
export function defaultUiDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@modelreg/example-web-ui/package.json');
    const dir = join(dirname(pkg), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A browser asking for a page (not a script asking for JSON). */
const wantsHtml = (req: Request): boolean =>
  (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';

/**
 * Serves the built single-page app: `index.html` at `/`, its hashed assets under `/assets` with a
 * long cache. The app routes with the URL hash (`/#/models/iris`), so API paths stay as they are; a
 * browser GET that no API route answered is sent to the same page (`/foo` -> `/#/foo`). Mounted after
 * the API routes, so it never shadows one; the app reads and writes only through the REST API.
 */
export function uiRoutes(dir: string | undefined): Router {
  const router = Router();
  if (dir && !existsSync(join(dir, 'index.html')))
    throw new Error(`[express-server] ui: the folder ${dir} has no index.html (build the web UI first)`);
  const index = dir ? readFileSync(join(dir, 'index.html'), 'utf8') : NOT_BUILT;
  const sendIndex = (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', UI_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res
      .status(dir ? 200 : 503)
      .type('html')
      .send(index);
  };

  router.get(['/', '/index.html'], sendIndex);
  if (dir) {
    router.use(
      '/assets',
      express.static(join(dir, 'assets'), {
        index: false,
        immutable: true,
        maxAge: '365d',
        fallthrough: true,
        setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
      }),
    );
    router.use(express.static(dir, { index: false, fallthrough: true, maxAge: '1h' }));
  }
  router.use((req, res, next) => {
    if (!wantsHtml(req)) return next();
    res.redirect(302, `${req.baseUrl}/#${req.path}`);
  });
  return router;
}
