import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import * as s from './schemas.js';

type Responses = RouteConfig['responses'];

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });
const ok = (description: string, schema: z.ZodType, status = 200): Responses => ({
  [status]: { description, content: jsonContent(schema) },
});
const errors = (...statuses: number[]): Responses => {
  const text: Record<number, string> = {
    400: 'The request is malformed (INVALID_REQUEST, MALFORMED_BODY)',
    404: 'Not found (NOT_FOUND)',
    409: 'Conflict (CONFLICT, ALREADY_EXISTS)',
    413: 'Body or row count over the limit (PAYLOAD_TOO_LARGE)',
    415: 'Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE)',
    422: 'Well-formed but refused by the registry (INVALID_ARGUMENT, UNSUPPORTED)',
    503: 'The metadata store does not answer',
  };
  return Object.fromEntries(
    statuses.map((st) => [st, { description: text[st] ?? 'Error', content: jsonContent(s.errorSchema) }]),
  );
};
const csvFile = z.object({
  file: z.string().meta({ format: 'binary', description: 'The CSV file' }),
  name: z.string().optional().meta({ description: 'Dataset name (default: from the file name)' }),
});

/** The OpenAPI 3.1 document of the server, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const r = new OpenAPIRegistry();
  const path = (config: RouteConfig) => r.registerPath(config);
  const model = { params: s.modelParams };

  path({
    method: 'post',
    path: '/datasets',
    summary: 'Upload a CSV as the next version of a dataset',
    description:
      'multipart/form-data with the CSV in `file` (and an optional `name`), or a `text/csv` body with `?name=`. 201 when a version was created, 200 when the same bytes were already there.',
    request: {
      query: s.uploadDatasetQuery,
      body: {
        content: {
          'multipart/form-data': { schema: csvFile },
          'text/csv': { schema: z.string() },
        },
      },
    },
    responses: {
      ...ok('Created', s.datasetUploadSchema, 201),
      ...ok('Unchanged: the same bytes were already a version', s.datasetUploadSchema),
      ...errors(400, 413, 415, 422),
    },
  });
  path({
    method: 'get',
    path: '/datasets',
    summary: 'The latest version of every dataset',
    responses: ok('Datasets', s.datasetListSchema),
  });
  path({
    method: 'get',
    path: '/datasets/{name}',
    summary: 'A dataset: its latest version and every version',
    request: { params: s.datasetParams },
    responses: { ...ok('The dataset', s.datasetDetailSchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/datasets/{name}/versions/{version}',
    summary: 'One version of a dataset',
    request: { params: s.versionParams },
    responses: { ...ok('The version', s.datasetSchema), ...errors(400, 404) },
  });
  path({
    method: 'post',
    path: '/train',
    summary: 'Submit a training job: train a model on a dataset, log the run and optionally register it',
    description:
      "Validates the request (shape, trainer and params, stage, that the dataset exists, this server's limits on `nEstimators` and `workers`) and answers `202 { job }` at once with `Location: /jobs/<id>`; the job runs in a process that runs jobs, at most `MODELREG_TRAIN_CONCURRENCY` at a time per process. A client that disconnects does not cancel it (`DELETE /jobs/{id}` does). An `Idempotency-Key` header makes a retried POST return the first job. `?wait=true` answers when the job has ended: 201 with the TrainResult, or the failed job's error (e.g. 422 for an unknown target column).",
    request: {
      query: s.trainQuery,
      headers: z.object({ 'Idempotency-Key': s.idempotencyKeyHeader.optional() }),
      body: { content: jsonContent(s.trainBody) },
    },
    responses: {
      202: {
        description: 'Queued: the job (follow it at Location, or at /jobs/{id}/events)',
        headers: { Location: { schema: { type: 'string' }, description: '/jobs/<id>' } },
        content: jsonContent(s.jobEnvelopeSchema),
      },
      ...ok('With ?wait=true: trained', s.trainResultSchema, 201),
      ...errors(400, 404, 409, 413, 415, 422),
    },
  });
  path({
    method: 'get',
    path: '/jobs',
    summary: 'Training jobs, newest first',
    description:
      'Filter by `state` (one or a comma-separated list) and `submittedBy`; page with `limit` (default 50, at most 1000) and the `nextPageToken` of the previous page.',
    request: { query: s.listJobsQuery },
    responses: { ...ok('A page of jobs', s.jobListSchema), ...errors(400, 422) },
  });
  path({
    method: 'get',
    path: '/jobs/{id}',
    summary: 'A training job: state, progress, attempts, result or error',
    request: { params: s.jobParams },
    responses: { ...ok('The job', s.jobEnvelopeSchema), ...errors(400, 404) },
  });
  path({
    method: 'delete',
    path: '/jobs/{id}',
    summary: 'Cancel a queued or running job (a job that already ended is answered as it is)',
    request: { params: s.jobParams },
    responses: { ...ok('The job after the cancel', s.jobEnvelopeSchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/jobs/{id}/events',
    summary: 'Follow a job as server-sent events',
    description:
      "A `text/event-stream`: `job.snapshot` first (data `{ job }`: the job now), then the job's events from the registry's log as they happen, from any process — `job.started`, `job.progress` (data `{ id, phase, fraction }`), `job.requeued` — until a terminal one, `job.succeeded`, `job.failed` or `job.cancelled` (data: the event payload and the ended `job`), after which the stream ends. Comment lines (`: heartbeat`) keep idle connections open. Each event has `id:` = its sequence number in the log.",
    request: { params: s.jobParams },
    responses: {
      200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
      ...errors(400, 404),
    },
  });
  path({
    method: 'get',
    path: '/models',
    summary: 'Registered models',
    request: { query: s.listModelsQuery },
    responses: { ...ok('Models', s.modelListSchema), ...errors(400) },
  });
  path({
    method: 'get',
    path: '/models/{name}',
    summary: 'A registered model with the highest version of each stage',
    request: model,
    responses: { ...ok('The model', s.modelDetailSchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/models/{name}/versions',
    summary: 'The versions of a model, ascending',
    request: { params: s.modelParams, query: s.listVersionsQuery },
    responses: { ...ok('Versions', s.versionListSchema), ...errors(400, 404, 422) },
  });
  path({
    method: 'get',
    path: '/models/{name}/versions/{version}',
    summary: 'One version',
    request: { params: s.versionParams },
    responses: { ...ok('The version', s.versionSchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/models/{name}/versions/{version}/signature',
    summary:
      'The task, target, classes, trainer, test metrics and input signature of a version (its MODEL.json)',
    request: { params: s.versionParams },
    responses: { ...ok('The model info', s.versionSignatureSchema), ...errors(400, 404) },
  });
  path({
    method: 'post',
    path: '/models/{name}/versions/{version}/stage',
    summary: 'Move a version to a stage (recorded in the history)',
    request: { params: s.versionParams, body: { content: jsonContent(s.stageBody) } },
    responses: { ...ok('The moved version', s.versionSchema), ...errors(400, 404, 415, 422) },
  });
  path({
    method: 'put',
    path: '/models/{name}/aliases/{alias}',
    summary: 'Point an alias at a version (compare-and-set with ifVersion)',
    request: { params: s.aliasParams, body: { content: jsonContent(s.aliasBody) } },
    responses: { ...ok('The alias', s.aliasResultSchema), ...errors(400, 404, 409, 415, 422) },
  });
  path({
    method: 'delete',
    path: '/models/{name}/aliases/{alias}',
    summary: 'Remove an alias',
    request: { params: s.aliasParams, query: s.deleteAliasQuery },
    responses: { 204: { description: 'Removed' }, ...errors(400, 404, 409, 422) },
  });
  path({
    method: 'get',
    path: '/models/{name}/history',
    summary: 'The append-only history of stage and alias moves, oldest first',
    request: { params: s.modelParams, query: s.historyQuery },
    responses: { ...ok('History', s.historySchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/experiments',
    summary: 'Every experiment, oldest first',
    responses: ok('Experiments', s.experimentListSchema),
  });
  path({
    method: 'get',
    path: '/experiments/{name}/runs',
    summary: 'The runs of an experiment, sorted and paged (searchRuns)',
    request: { params: s.experimentParams, query: s.searchRunsQuery },
    responses: { ...ok('A page of runs', s.runListSchema), ...errors(400, 404, 422) },
  });
  path({
    method: 'get',
    path: '/runs/{id}',
    summary: 'A run with its recorded artifacts and, when it logged a model, the model info',
    request: { params: s.runParams },
    responses: { ...ok('The run', s.runDetailSchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/runs/{id}/metrics/{key}',
    summary: 'Every logged point of one metric of a run, by step then time',
    request: { params: s.metricParams },
    responses: { ...ok('The history', s.metricHistorySchema), ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/runs/{id}/artifacts/{path}',
    summary: 'Download a recorded artifact of a run',
    description:
      '`path` is the artifact path and may contain `/` (`model/MODEL.json`). A path that could leave the run (`..`, a backslash, an encoded slash, a control character) is 400. The body is streamed as an attachment with `X-Artifact-Sha256` and checked against it as it passes: bytes that do not match stop the transfer (500 `INTEGRITY` before the first byte, else a cut connection and an error in the log), so a complete body always matches the header.',
    request: {
      params: s.runParams.extend({
        path: z.string().meta({ description: 'The artifact path, `/`-separated' }),
      }),
    },
    responses: {
      200: {
        description: 'The artifact bytes',
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
      },
      ...errors(400, 404),
    },
  });
  path({
    method: 'post',
    path: '/models/{name}/predict',
    summary:
      'Predict with a version chosen by version, stage or alias (default: a canary if any, else production)',
    description:
      'Input: JSON `{ rows: [...] }`, a `text/csv` body, or multipart/form-data with the CSV in `file`. The answer names the version that served the rows (with a canary, `versions` names it per row).',
    request: {
      params: s.modelParams,
      query: s.predictQuery,
      body: {
        content: {
          'application/json': { schema: s.predictBody },
          'text/csv': { schema: z.string() },
          'multipart/form-data': { schema: csvFile.pick({ file: true }) },
        },
      },
    },
    responses: { ...ok('Predictions', s.predictResultSchema), ...errors(400, 404, 413, 415, 422) },
  });
  path({
    method: 'post',
    path: '/models/{name}/canary',
    summary: 'Start a canary: a weight share of rows goes to next, the rest to current',
    description:
      'While a canary is active, `POST /models/{name}/predict` without version, stage or alias routes through it. `stickyKey` names a field of the rows: equal values always go to the same arm. `shadow` answers with current only and runs next on the side.',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryBody) } },
    responses: { ...ok('Started', s.canarySchema, 201), ...errors(400, 404, 409, 415, 422) },
  });
  path({
    method: 'get',
    path: '/models/{name}/canary',
    summary: 'The canary and the counters and latency of each arm',
    request: model,
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404) },
  });
  path({
    method: 'patch',
    path: '/models/{name}/canary',
    summary: 'Change the share of rows that go to next',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryWeightBody) } },
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404, 415, 422) },
  });
  path({
    method: 'post',
    path: '/models/{name}/canary/promote',
    summary: "Move current's stage or alias to next's version (recorded in the history) and end the canary",
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryPromoteBody) } },
    responses: { ...ok('Promoted', s.canaryPromotedSchema), ...errors(400, 404, 409, 422) },
  });
  path({
    method: 'post',
    path: '/models/{name}/canary/rollback',
    summary: 'Send every row back to current (weight 0); the canary stays until deleted',
    request: model,
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404) },
  });
  path({
    method: 'delete',
    path: '/models/{name}/canary',
    summary: 'End the canary',
    request: model,
    responses: { 204: { description: 'Ended' }, ...errors(400, 404) },
  });
  path({
    method: 'get',
    path: '/health',
    summary: 'Liveness and a cheap read of the metadata store',
    responses: {
      ...ok('Healthy', s.healthSchema),
      503: { description: 'Unhealthy', content: jsonContent(s.healthSchema) },
    },
  });
  path({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
    },
  });
  path({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: {
      200: { description: 'OpenAPI 3.1', content: jsonContent(z.record(z.string(), z.unknown())) },
    },
  });
  path({
    method: 'get',
    path: '/docs',
    summary: 'This document as an HTML page',
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
  });
  path({
    method: 'get',
    path: '/',
    summary: 'The web UI (a single-page app over this API; pages route with the URL hash)',
    responses: {
      200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } },
      503: { description: 'The web UI is not built', content: { 'text/html': { schema: z.string() } } },
    },
  });

  return new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'modelreg REST server',
      version: '0.1.0',
      description:
        'Datasets, training jobs, runs, a model registry with stages, aliases and history, and predictions, over a modelreg registry. Errors are `{ error: { code, message, details? } }`.',
    },
  });
}
