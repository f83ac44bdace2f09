import { Router } from 'express';
import type { AppContext } from '../context.js';
import { registryOf } from '../auth.js';
import { loggerOf } from '../context.js';
import { parseRequest, requireContentType } from '../errors.js';
import { trainBody } from '../schemas.js';

/**
 * `POST /train`: one call trains, logs a run and optionally registers the model. Training runs in
 * this process; a client that disconnects aborts it.
 */
export function trainRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/train', requireContentType('application/json'), async (req, res) => {
    const body = parseRequest(trainBody, req.body, 'body');
    const controller = new AbortController();
    const abortIfGone = () => {
      if (!res.writableFinished) controller.abort(new Error('the client disconnected'));
    };
    res.on('close', abortIfGone);
    const started = performance.now();
    try {
      const result = await registryOf(res).train({ ...body, signal: controller.signal });
      loggerOf(res, ctx.logger).info(
        {
          runId: result.run.id,
          model: result.version?.name,
          version: result.version?.version,
          ms: Math.round(performance.now() - started),
        },
        'trained',
      );
      res.status(201).json({
        run: result.run,
        metrics: result.metrics,
        version: result.version,
        modelUri: result.modelUri,
      });
    } finally {
      res.off('close', abortIfGone);
    }
  });

  return router;
}
