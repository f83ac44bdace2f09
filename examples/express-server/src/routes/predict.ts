import express, { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { ModelRegistry, PredictBatcher, PredictInput } from '@modelreg/core';
import { formatModelUri } from '@modelreg/core';
import { readCsvText } from '@modelreg/core/datasets';
import type { z } from 'zod';
import type { AuditEntry } from '../audit.js';
import { inputSha256 } from '../audit.js';
import { registryOf, requirePermission } from '../auth.js';
import type { AppContext } from '../context.js';
import { loggerOf, requestIdOf } from '../context.js';
import { HttpError, parseRequest } from '../errors.js';
import { modelParams, predictBody, predictFields, predictQuery } from '../schemas.js';
import { memoryCsvUpload, requireFile } from '../uploads.js';

type Selector =
  | { kind: 'version'; version: number | 'latest' }
  | { kind: 'stage'; stage: string }
  | { kind: 'alias'; alias: string };

type PredictBody = z.output<typeof predictBody>;

/** What one prediction request asks for, whatever its content type. */
interface PredictRequest {
  input: PredictInput;
  /** What the audit hash covers: `{ rows }` (records or arrays) or `{ csv }`. */
  canonical: { rows: readonly unknown[] } | { csv: string };
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
  ...candidates: Array<{ version?: number | 'latest'; stage?: string; alias?: string }>
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

const tooManyRows = (rows: number | string, maxRows: number) =>
  new HttpError(413, 'PAYLOAD_TOO_LARGE', `${rows} rows is more than the limit of ${maxRows}`);

/** The rows of a JSON prediction body, whichever of its forms was sent. */
function jsonInput(body: PredictBody, raw: Record<string, unknown>): readonly unknown[] & PredictInput {
  const forms = (['rows', 'input_data', 'inputs', 'dataframe_split', 'dataframe_records'] as const).filter(
    (k) => body[k] !== undefined,
  );
  if (forms.length !== 1) {
    throw new HttpError(
      400,
      'INVALID_REQUEST',
      forms.length === 0
        ? 'body: give the rows as one of rows, input_data.features, inputs, dataframe_split or dataframe_records'
        : `body: give the rows in one form only, not ${forms.join(' and ')}`,
    );
  }
  // The parsed JSON, not zod's copies: a record schema drops a `__proto__` key, a valid feature name.
  if (body.rows) return raw['rows'] as Record<string, unknown>[];
  if (body.dataframe_records) return raw['dataframe_records'] as Record<string, unknown>[];
  if (body.input_data) return body.input_data.features;
  if (body.inputs)
    return (Array.isArray(body.inputs[0]) ? body.inputs : raw['inputs']) as PredictInput & unknown[];
  const split = body.dataframe_split!;
  return split.data.map((row, i) => {
    if (row.length !== split.columns.length) {
      throw new HttpError(
        400,
        'INVALID_REQUEST',
        `body.dataframe_split.data.${i}: ${row.length} values for ${split.columns.length} columns`,
      );
    }
    const record = Object.create(null) as Record<string, unknown>;
    split.columns.forEach((c, j) => (record[c] = row[j]));
    return record;
  });
}

/** Counts the data rows of a CSV (the same reader predict uses), refusing more than `maxRows`. */
function checkCsvRows(csv: string, maxRows: number): void {
  let rows = 0;
  readCsvText(csv, {
    label: 'CSV body',
    onRow: () => {
      if (++rows > maxRows) throw tooManyRows(`more than ${maxRows}`, maxRows);
    },
  });
}

/**
 * Reads the input from a JSON body (records, `input_data.features`, MLflow's `inputs` /
 * `dataframe_split` / `dataframe_records`), a `text/csv` body or a multipart upload (`file`, with
 * optional `version`, `stage`, `alias` and `proba` fields; any other field is a 400).
 */
function readPredictRequest(req: Request, maxRows: number): PredictRequest {
  const query = parseRequest(predictQuery, req.query, 'query');
  if (req.is('application/json')) {
    const body = parseRequest(predictBody, req.body, 'body');
    const rows = jsonInput(body, req.body as Record<string, unknown>);
    if (rows.length > maxRows) throw tooManyRows(rows.length, maxRows);
    return {
      input: rows,
      canonical: { rows },
      selector: pickSelector(query, body),
      proba: body.proba ?? query.proba ?? false,
    };
  }
  const multipart = req.is('multipart/form-data');
  const fields = multipart ? parseRequest(predictFields, req.body ?? {}, 'body') : {};
  const csv = multipart
    ? requireFile(req).buffer.toString('utf8')
    : typeof req.body === 'string'
      ? req.body
      : '';
  if (csv.trim() === '') throw new HttpError(400, 'INVALID_REQUEST', 'the CSV body is empty');
  checkCsvRows(csv, maxRows);
  return {
    input: { csv },
    canonical: { csv },
    selector: pickSelector(query, fields),
    proba: fields.proba ?? query.proba ?? false,
  };
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
 * With a `batcher`, concurrent requests served by one model share model calls.
 */
export function predictRoutes(ctx: AppContext, canary?: CanaryRouter, batcher?: PredictBatcher): Router {
  const router = Router();

  const serveSelected = async (
    registry: ModelRegistry,
    name: string,
    request: PredictRequest,
  ): Promise<PredictOutcome> => {
    const selector = request.selector ?? { kind: 'stage', stage: DEFAULT_STAGE };
    // The resolution is kept between requests and follows the registry's events: no store read per request.
    const model = await registry.load(uriOf(name, selector), { resolution: 'cached' });
    // A request for probabilities runs on its own (two model calls); the others may share a batch.
    const predictions =
      batcher && !request.proba
        ? await batcher.predict(model, request.input)
        : await model.predict(request.input);
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
  // The input is kept as its sha256 only; the output is capped, so a big request is not a big entry.
  const keep = ctx.limits.auditOutputRows;
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    requestId: requestIdOf(res),
    model,
    version: outcome.version,
    ...(outcome.versions ? { versions: outcome.versions.slice(0, keep) } : {}),
    via: outcome.via,
    inputSha256: inputSha256(request.canonical),
    rows: outcome.predictions.length,
    output: {
      predictions: outcome.predictions.slice(0, keep),
      ...(outcome.probabilities ? { probabilities: outcome.probabilities.slice(0, keep) } : {}),
    },
    ...(outcome.predictions.length > keep ? { outputTruncated: true } : {}),
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
