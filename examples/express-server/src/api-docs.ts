import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from 'express';
import type { Response } from 'express';
import { renderDocsPage } from './docs-page.js';

/**
 * Swagger UI may load only its own files (served from the `swagger-ui-dist` package, never a CDN) and
 * call only this server ("try it out" sends the browser's session cookie, same origin). Swagger UI
 * sets inline styles from script, hence `'unsafe-inline'` for styles only.
 */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** The files of swagger-ui-dist the page uses; nothing else of the package is served. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js'];

/** Where `swagger-ui-dist` is installed. */
function swaggerDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

// Relative URLs: the page is `/docs`, so `docs/x` is `/docs/x`, and `openapi.json` is `/openapi.json`
// (also under a path prefix).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>modelreg API</title><link rel="stylesheet" href="docs/swagger-ui.css"><link rel="stylesheet" href="docs/docs.css"></head>
<body><header class="docs-bar"><a href="./">← modelreg web UI</a> <a href="docs/reference">Plain reference (no script)</a> <a href="openapi.json">openapi.json</a></header>
<main id="swagger-ui"><noscript>Swagger UI needs JavaScript: read the <a href="docs/reference">plain reference</a> instead.</noscript></main>
<script src="docs/swagger-ui-bundle.js"></script><script src="docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  defaultModelsExpandDepth: -1,
  docExpansion: 'list',
  requestInterceptor: function (req) { req.credentials = 'same-origin'; return req; },
});
`;

// Swagger UI is built for wide screens: at phone widths its rows wrap instead of overflowing.
const CSS = `body{margin:0;font-family:system-ui,sans-serif}
.docs-bar{display:flex;flex-wrap:wrap;gap:.4rem 1rem;padding:.6rem 1rem;background:#1b2330}
.docs-bar a{color:#fff}
#swagger-ui{max-width:100%;overflow-x:hidden}
.swagger-ui .wrapper{padding:0 12px;box-sizing:border-box}
.swagger-ui pre,.swagger-ui .highlight-code,.swagger-ui .microlight{max-width:100%;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.swagger-ui .opblock .opblock-summary-path{word-break:break-all;max-width:100%}
.swagger-ui table{table-layout:fixed;width:100%}
.swagger-ui td,.swagger-ui .parameters-col_description input{overflow-wrap:anywhere;max-width:100%}
@media (max-width:760px){
.swagger-ui .opblock .opblock-summary{flex-wrap:wrap}
.swagger-ui .opblock .opblock-summary-description{flex-basis:100%}
.swagger-ui .information-container .info{margin:16px 0}
.swagger-ui .responses-inner,.swagger-ui .opblock-body{overflow-x:auto}
.swagger-ui table thead tr td,.swagger-ui table thead tr th,.swagger-ui .parameters-col_name{width:30%}
.swagger-ui .scheme-container{padding:12px 0}
.swagger-ui .model-box{max-width:100%;overflow-x:auto}
}
`;

const send = (res: Response, type: string, body: string): void => {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.type(type).send(body);
};

/**
 * `GET /docs`: interactive API docs (Swagger UI from the `swagger-ui-dist` package) over
 * `/openapi.json`, with "try it out" against this server; `GET /docs/reference`: the same document as
 * a page without script.
 */
export function apiDocsRoutes(openapi: unknown): Router {
  const router = Router();
  const reference = renderDocsPage(openapi);
  const dir = swaggerDir();
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('Referrer-Policy', 'same-origin');
    send(res, 'html', PAGE);
  });
  router.get('/docs/reference', (_req, res) => send(res, 'html', reference));
  router.get('/docs/init.js', (_req, res) => send(res, 'application/javascript', INIT));
  router.get('/docs/docs.css', (_req, res) => send(res, 'text/css', CSS));
  for (const file of ASSETS) {
    router.get(`/docs/${file}`, (_req, res, next) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.sendFile(join(dir, file), { maxAge: '1d' }, (e) => (e ? next(e) : undefined));
    });
  }
  return router;
}

/** The paths under `/docs` that answer without credentials (they describe the API, they hold no data). */
export const publicDocsPaths = [
  '/docs',
  '/docs/reference',
  '/docs/init.js',
  '/docs/docs.css',
  ...ASSETS.map((f) => `/docs/${f}`),
];
