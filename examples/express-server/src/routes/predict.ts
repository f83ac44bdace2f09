import express, { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { ModelRegistry, PredictInput } from '@modelreg/core';
import { formatModelUri } from '@modelreg/core';
import type { AuditEntry } from '../audit.js';
import { inputSha256 } from '../audit.js';
import { registryOf, requirePermission } from '../auth.js';
import type { AppContext } from '../context.js';
import { loggerOf, requestIdOf } from '../context.js';
import { HttpError, parseRequest } from '../errors.js';
import { modelParams, predictBody, predictQuery } from '../schemas.js';
import { memoryCsvUpload, requireFile } from '../uploads.js';

type Selector =
  { kind: 'version'; version: number } | { kind: 'stage'; stage: string } | { kind: 'alias'; alias: string };

/** What one prediction request asks for, whatever its content type. */
interface PredictRequest {
  input: PredictInput;
  /** What the audit hash covers: `{ rows }` or `{ csv }`. */
  canonical: { rows: unknown[] } | { csv: string };
  selector: Selector | undefined;
  proba: boolean;
}

/** The answer of a prediction, before it is sent. */
export interface PredictOutcome {
  version: number | null;
  versions?: number[];
  /** With a canary: the arm that served each row. */
  arms?: Array<'current' | 'next'>;
  via: AuditEntry['via'];
  predictions: unknown[];
  probabilities?: unknown[];
}

/** Serves a request that named no version while a canary is active for the model, else `undefined`. */
export type CanaryRouter = (
  model: string,
  input: PredictInput,
  proba: boolean,
) => Promise<PredictOutcome | undefined>;

export const DEFAULT_STAGE = 'production';

const uriOf = (name: string, s: Selector): string =>
  formatModelUri(name, s.kind === 'version' ? s.version : s.kind === 'stage' ? s.stage : { alias: s.alias });

function pickSelector(
  ...candidates: Array<{ version?: number; stage?: string; alias?: string }>
): Selector | undefined {
  const found: Selector[] = [];
  for (const c of candidates) {
    if (c.version !== undefined) found.push({ kind: 'version', version: c.version });
    if (c.stage !== undefined) found.push({ kind: 'stage', stage: c.stage });
    if (c.alias !== undefined) found.push({ kind: 'alias', alias: c.alias });
  }
  if (found.length > 1) {
    throw new HttpError(
      400,
      'INVALID_REQUEST',
      'give at most one of version, stage and alias (query or body)',
    );
  }
  return found[0];
}

/** Reads the input from a JSON body (`{ rows }`), a `text/csv` body or a multipart upload (`file`). */
function readPredictRequest(req: Request, maxRows: number): PredictRequest {
  const query = parseRequest(predictQuery, req.query, 'query');
  if (req.is('application/json')) {
    const body = parseRequest(predictBody, req.body, 'body');
    if (body.rows.length > maxRows) {
      throw new HttpError(
        413,
        'PAYLOAD_TOO_LARGE',
        `${body.rows.length} rows is more than the limit of ${maxRows}`,
      );
    }
    // The parsed JSON rows, not zod's copies: a record schema drops a `__proto__` key, a valid feature name.
    const rows = (req.body as { rows: Record<string, unknown>[] }).rows;
    return {
      input: rows,
      canonical: { rows },
      selector: pickSelector(query, body),
      proba: body.proba ?? query.proba ?? false,
    };
  }
  const csv = req.is('multipart/form-data')
    ? requireFile(req).buffer.toString('utf8')
    : typeof req.body === 'string'
      ? req.body
      : '';
  if (csv.trim() === '') throw new HttpError(400, 'INVALID_REQUEST', 'the CSV body is empty');
  return { input: { csv }, canonical: { csv }, selector: pickSelector(query), proba: query.proba ?? false };
}

/** Parses the body by content type: JSON, `text/csv`, or multipart with a CSV `file`; anything else is 415. */
function predictBodyParser(ctx: AppContext): RequestHandler {
  const csvText = express.text({ type: ['text/csv', 'text/plain'], limit: ctx.limits.predictCsvBytes });
  const multipart = memoryCsvUpload(ctx.limits.predictCsvBytes);
  return (req, res, next) => {
    if (req.is('application/json')) return next();
    if (req.is(['text/csv', 'text/plain'])) return csvText(req, res, next);
    if (req.is('multipart/form-data')) return multipart(req, res, next);
    next(
      new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${JSON.stringify(req.get('content-type') ?? '(none)')} is not accepted here; send application/json ({ "rows": [...] }), text/csv or multipart/form-data (field "file")`,
      ),
    );
  };
}

/**
 * `POST /models/:name/predict`: the version is chosen by `version`, `stage` or `alias` (query or
 * body); without one, an active canary routes the rows, else the `production` stage serves them.
 */
export function predictRoutes(ctx: AppContext, canary?: CanaryRouter): Router {
  const router = Router();

  const serveSelected = async (
    registry: ModelRegistry,
    name: string,
    request: PredictRequest,
  ): Promise<PredictOutcome> => {
    const selector = request.selector ?? { kind: 'stage', stage: DEFAULT_STAGE };
    const model = await registry.load(uriOf(name, selector));
    const predictions = await model.predict(request.input);
    const probabilities = request.proba ? await model.predictProba(request.input) : undefined;
    return {
      version: model.version?.version ?? null,
      via: selector.kind,
      predictions,
      ...(probabilities ? { probabilities } : {}),
    };
  };

  router.post('/models/:name/predict', predictBodyParser(ctx), async (req: Request, res: Response) => {
    const started = performance.now();
    const { name } = parseRequest(modelParams, req.params, 'params');
    requirePermission(res, 'predict', 'predict', name);
    const request = readPredictRequest(req, ctx.limits.predictRows);
    const viaCanary =
      request.selector === undefined && canary ? await canary(name, request.input, request.proba) : undefined;
    const outcome = viaCanary ?? (await serveSelected(registryOf(res), name, request));
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;

    if (outcome.versions) {
      const counts = new Map<number, number>();
      for (const v of outcome.versions) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (const [v, n] of counts) ctx.metrics.countPredictions(name, v, n);
    } else {
      ctx.metrics.countPredictions(name, outcome.version, outcome.predictions.length);
    }
    if (ctx.audit) audit(ctx, res, name, request, outcome, latencyMs);
    res.json({ model: name, ...outcome });
  });

  return router;
}

function audit(
  ctx: AppContext,
  res: Response,
  model: string,
  request: PredictRequest,
  outcome: PredictOutcome,
  latencyMs: number,
): void {
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    requestId: requestIdOf(res),
    model,
    version: outcome.version,
    ...(outcome.versions ? { versions: outcome.versions } : {}),
    via: outcome.via,
    inputSha256: inputSha256(request.canonical),
    rows: outcome.predictions.length,
    output: {
      predictions: outcome.predictions,
      ...(outcome.probabilities ? { probabilities: outcome.probabilities } : {}),
    },
    latencyMs,
  };
  const log = loggerOf(res, ctx.logger);
  try {
    Promise.resolve(ctx.audit?.write(entry)).catch((e: unknown) =>
      log.error({ err: e }, 'audit write failed'),
    );
  } catch (e) {
    log.error({ err: e }, 'audit write failed');
  }
}
