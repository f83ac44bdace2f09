import { Router } from 'express';
import type { AppContext } from '../context.js';
import { apiDocsRoutes } from '../api-docs.js';

export interface OpsOptions {
  /** The OpenAPI document (built once at start). */
  openapi: unknown;
  /** How long `/health` waits for the metadata store. Default 2000 ms. */
  healthTimeoutMs?: number;
  /** What each deployment serves on this replica, listed by `/health`. */
  deployments?: () => unknown[];
}

/** `/health`, `/metrics`, `/openapi.json`, `/docs` (Swagger UI) and `/docs/reference`. */
export function opsRoutes(ctx: AppContext, options: OpsOptions): Router {
  const router = Router();
  const started = Date.now();
  const timeoutMs = options.healthTimeoutMs ?? 2000;

  router.get('/health', async (_req, res) => {
    const t0 = performance.now();
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A cheap read: one model row at most.
      await Promise.race([
        ctx.registry.listModels({ limit: 1 }),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(timer);
    }
    const ok = error === undefined;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'unavailable',
      metadata: {
        ok,
        latencyMs: Math.round((performance.now() - t0) * 100) / 100,
        ...(error ? { error } : {}),
      },
      deployments: options.deployments?.() ?? [],
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
    });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  router.get('/openapi.json', (_req, res) => {
    res.json(options.openapi);
  });

  router.use(apiDocsRoutes(options.openapi));

  return router;
}
