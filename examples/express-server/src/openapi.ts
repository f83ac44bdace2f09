import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { mlflowOperations } from '@modelreg/mlflow-rest';
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
    401: 'No credentials, or a token that is unknown, revoked or malformed (UNAUTHENTICATED)',
    403: "The principal's role or model grants do not allow this (PERMISSION_DENIED), or a write from another site (CROSS_ORIGIN)",
    415: 'Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE)',
    421: 'The Host is not in MODELREG_ALLOWED_HOSTS (HOST_NOT_ALLOWED)',
    422: 'Well-formed but refused by the registry (INVALID_ARGUMENT, UNSUPPORTED)',
    429: 'Too many writes from this address (RATE_LIMITED); see the RateLimit headers',
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
  r.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (mr_…), or MODELREG_ADMIN_TOKEN',
  });
  r.registerComponent('securitySchemes', 'basic', {
    type: 'http',
    scheme: 'basic',
    description: 'Any user name, the token as the password (what MLflow clients send)',
  });
  const open = { security: [] };

  path({
    method: 'post',
    path: '/auth/tokens',
    summary: 'Create an API token (admin)',
    description:
      'Roles: reader < predictor < editor < admin. `models` narrows a predictor or an editor to those models. The secret `token` is in this answer only; the server stores its sha256.',
    request: { body: { content: jsonContent(s.tokenRequestSchema) } },
    responses: { ...ok('Created', s.createdTokenSchema, 201), ...errors(400, 401, 403, 415) },
  });
  path({
    method: 'get',
    path: '/auth/tokens',
    summary: 'Every token, revoked ones too, without secrets (admin)',
    responses: { ...ok('Tokens', s.tokenListSchema), ...errors(401, 403) },
  });
  path({
    method: 'delete',
    path: '/auth/tokens/{id}',
    summary: 'Revoke a token (admin): it stops authenticating at once',
    request: { params: s.tokenIdParams },
    responses: { 204: { description: 'Revoked' }, ...errors(401, 403, 404, 422) },
  });
  path({
    method: 'get',
    path: '/auth/whoami',
    summary: 'The principal of the request (any valid token)',
    responses: { ...ok('The principal', s.whoamiSchema), ...errors(401) },
  });
  path({
    method: 'post',
    path: '/auth/session',
    summary: 'Sign in (the web UI): check a token and set it as the session cookie',
    description:
      'Answers the principal and sets `modelreg_session` (HttpOnly, SameSite=Strict, Secure over HTTPS, 12 h). Later requests without an Authorization header authenticate with the cookie; revoking the token ends the session.',
    ...open,
    request: { body: { content: jsonContent(s.sessionRequestSchema) } },
    responses: { ...ok('Signed in', s.whoamiSchema), ...errors(400, 401, 415) },
  });
  path({
    method: 'delete',
    path: '/auth/session',
    summary: 'Sign out (the web UI): clear the session cookie',
    ...open,
    responses: { 204: { description: 'Signed out' } },
  });

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
      "Validates the request (shape, trainer and params, stage, that the dataset exists, this server's limits on `nEstimators` and `workers`). `model` is `{ type, params }` (modelreg's trainers: `random-forest`, `decision-tree`, `linear`) or a scikit-learn class with its params, `{ module?, class, params }` (e.g. `{ module: 'ensemble', class: 'RandomForestClassifier', params: { n_estimators: 100 } }`); a class or param without a counterpart is 422 naming those that exist. It answers `202 { job }` at once with `Location: /jobs/<id>`; the job runs in a process that runs jobs, at most `MODELREG_TRAIN_CONCURRENCY` at a time per process. A client that disconnects does not cancel it (`DELETE /jobs/{id}` does). An `Idempotency-Key` header makes a retried POST return the first job. `?wait=true` answers when the job has ended: 201 with the TrainResult, or the failed job's error (e.g. 422 for an unknown target column).",
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
    path: '/events',
    summary: 'The registry event log as server-sent events (reader)',
    description:
      'A `text/event-stream` of every event matching `types`, in log order, from any process: `id:` = the event seq, `event:` = its type, `data:` = the event as JSON (`{ seq, type, time, payload }`). Resumes after the `Last-Event-ID` header (sent by `EventSource` on reconnect), else after `?after=`, else from now on. Comment lines (`: heartbeat`) keep idle connections open. `token.*` events are shown to admins only.',
    request: {
      query: s.eventsQuery,
      headers: z.object({ 'last-event-id': z.string().optional() }),
    },
    responses: {
      200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
      ...errors(400, 401, 403),
    },
  });
  path({
    method: 'post',
    path: '/webhooks',
    summary: 'Register a webhook (admin)',
    description:
      'Deliveries are POSTs signed as the Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), with body `{ type, timestamp, seq, data }`: at least once, in event order, retried with exponential backoff; the webhook is disabled after a run of failures. The `secret` is in this answer only.',
    request: { body: { content: jsonContent(s.createWebhookRequestSchema) } },
    responses: { ...ok('Created', s.createdWebhookSchema, 201), ...errors(400, 401, 403, 415, 422) },
  });
  path({
    method: 'get',
    path: '/webhooks',
    summary: 'Every webhook, without secrets (admin)',
    responses: { ...ok('Webhooks', s.webhookListSchema), ...errors(401, 403) },
  });
  path({
    method: 'patch',
    path: '/webhooks/{id}',
    summary: 'Change a webhook: url, events, description, status (admin)',
    request: { params: s.webhookParams, body: { content: jsonContent(s.updateWebhookRequestSchema) } },
    responses: { ...ok('The webhook', s.webhookSchema), ...errors(400, 401, 403, 404, 415, 422) },
  });
  path({
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Delete a webhook and its delivery log (admin)',
    request: { params: s.webhookParams },
    responses: { 204: { description: 'Deleted' }, ...errors(400, 401, 403, 404) },
  });
  path({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: "A webhook's delivery log, newest first (admin)",
    request: { params: s.webhookParams, query: s.deliveriesQuery },
    responses: { ...ok('Deliveries', s.deliveryListSchema), ...errors(400, 401, 403, 404) },
  });
  path({
    method: 'post',
    path: '/webhooks/{id}/test',
    summary: 'Send a signed webhook.test message now and log it (admin)',
    responses: { ...ok('The delivery', s.deliverySchema), ...errors(400, 401, 403, 404) },
    request: { params: s.webhookParams },
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
    method: 'patch',
    path: '/models/{name}',
    summary: 'Change the description and tags of a model (editor)',
    request: { params: s.modelParams, body: { content: jsonContent(s.updateMetaBody) } },
    responses: { ...ok('The model', s.modelSchema), ...errors(400, 403, 404, 415) },
  });
  path({
    method: 'patch',
    path: '/models/{name}/versions/{version}',
    summary: 'Change the description and tags of a version (editor)',
    request: { params: s.versionParams, body: { content: jsonContent(s.updateMetaBody) } },
    responses: { ...ok('The version', s.versionSchema), ...errors(400, 403, 404, 415) },
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
    path: '/experiments',
    summary: 'Create an experiment (200 with the existing one when the name is taken)',
    request: { body: { content: jsonContent(s.createExperimentBody) } },
    responses: {
      ...ok(
        'Created',
        z.object({ experiment: z.record(z.string(), z.unknown()), created: z.boolean() }),
        201,
      ),
      ...errors(400, 415, 422),
    },
  });
  path({
    method: 'post',
    path: '/runs',
    summary: 'Start a run in an experiment (created when missing)',
    request: { body: { content: jsonContent(s.startRunBody) } },
    responses: {
      ...ok('Started', z.object({ run: s.runResponseSchema }), 201),
      ...errors(400, 404, 415, 422),
    },
  });
  path({
    method: 'post',
    path: '/runs/{id}/log-batch',
    summary: 'Log params, metrics (each with its step and timestamp) and tags of a run in one call',
    request: { params: s.runParams, body: { content: jsonContent(s.logBatchBody) } },
    responses: {
      ...ok('The run', z.object({ run: s.runResponseSchema })),
      ...errors(400, 404, 409, 415, 422),
    },
  });
  path({
    method: 'post',
    path: '/runs/{id}/end',
    summary: 'End a run (`finished` by default); ending twice is 409',
    request: { params: s.runParams, body: { content: jsonContent(s.endRunBody) } },
    responses: {
      ...ok('The ended run', z.object({ run: s.runResponseSchema })),
      ...errors(400, 404, 409, 415),
    },
  });
  path({
    method: 'put',
    path: '/runs/{id}/artifacts/{path}',
    summary: 'Upload an artifact of a run: the body is streamed to the artifact store, its sha256 recorded',
    description:
      'Any Content-Type; the raw body is the file. Paths are write-once (409 `ALREADY_EXISTS`). Larger than MODELREG_MAX_ARTIFACT_BYTES (default 1 GiB) is 413, at once when Content-Length says so.',
    request: {
      params: s.runParams.extend({
        path: z.string().meta({ description: 'The artifact path, `/`-separated' }),
      }),
      body: { content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
    },
    responses: {
      ...ok(
        'Recorded',
        z
          .object({ path: z.string(), size: z.number().int(), sha256: z.string() })
          .meta({ id: 'ArtifactRecord' }),
        201,
      ),
      ...errors(400, 404, 409, 413),
    },
  });
  path({
    method: 'post',
    path: '/models/{name}/versions/onnx',
    summary:
      'Register a model trained elsewhere: an ONNX file (+ optional signature) becomes a run and a version',
    description:
      'multipart/form-data: the `.onnx` file in `file`; optional JSON fields `signature` (`{ inputs?: [{ name, type? }], task?, classes?, target? }`) and `metrics`, and text fields `experiment` (default: the model name), `runName`, `description`. The bytes are checked now (422 `INVALID_ARGUMENT` for anything onnxruntime would refuse); the run is ended `failed` then and nothing is registered.',
    request: {
      params: s.modelParams,
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              file: z.string().meta({ format: 'binary', description: 'The .onnx file' }),
              signature: z.string().optional(),
              metrics: z.string().optional(),
              experiment: z.string().optional(),
              runName: z.string().optional(),
              description: z.string().optional(),
            }),
          },
        },
      },
    },
    responses: {
      ...ok(
        'Registered',
        z
          .object({ run: s.runResponseSchema, version: s.versionSchema, modelUri: z.string() })
          .meta({ id: 'OnnxRegistered' }),
        201,
      ),
      ...errors(400, 413, 415, 422),
    },
  });
  path({
    method: 'post',
    path: '/models/{name}/predict',
    summary:
      'Predict with a version chosen by version, stage or alias (default: a canary if any, else production)',
    description:
      'Input, one form per request: JSON records `{ rows: [...] }`; arrays of numbers in the order of the signature’s inputs `{ input_data: { features: [[...]] } }` (see `GET /models/{name}/versions/{version}/signature`); MLflow’s `{ inputs }`, `{ dataframe_split: { columns, data } }` or `{ dataframe_records }`; a `text/csv` body; or multipart/form-data with the CSV in `file` and optional `version`, `stage`, `alias` and `proba` fields (any other field is 400). `version=latest` serves the highest version. The row limit (MODELREG_MAX_PREDICT_ROWS, default 10 000) applies to every form, CSV included (413). The answer names the version that served the rows (with a canary, `versions` names it per row).',
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
      'The canary is a deployment stored in the registry (`registry.deployments`): every replica of the server serves the same split within about a second, and a restart keeps it. While it is active, `POST /models/{name}/predict` without version, stage or alias routes through it. `stickyKey` names a field of the rows: equal values always go to the same arm. `shadow` answers with current only and runs next on the side. Each change bumps `revision`; `ifRevision` on later changes is compare-and-set (409 when stale). One canary per model (409).',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryBody) } },
    responses: { ...ok('Started', s.canarySchema, 201), ...errors(400, 404, 409, 415, 422) },
  });
  path({
    method: 'get',
    path: '/models/{name}/canary',
    summary:
      'The stored canary (revision, who changed it and when) and this replica’s counters and latency per arm',
    request: model,
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404) },
  });
  path({
    method: 'patch',
    path: '/models/{name}/canary',
    summary: 'Change the share of rows that go to next (every replica follows)',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryWeightBody) } },
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404, 409, 415, 422) },
  });
  path({
    method: 'post',
    path: '/models/{name}/canary/promote',
    summary: "Move current's stage or alias to next's version (recorded in the history) and end the canary",
    description:
      'Compare-and-set against the stored revision (`ifRevision`, or the revision read when the call starts): of two concurrent promotes one gets 409 and moves nothing.',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryPromoteBody) } },
    responses: { ...ok('Promoted', s.canaryPromotedSchema), ...errors(400, 404, 409, 422) },
  });
  path({
    method: 'post',
    path: '/models/{name}/canary/rollback',
    summary: 'Send every row back to current (weight 0); the canary stays until deleted',
    description: 'Compare-and-set like promote (`ifRevision` optional).',
    request: { params: s.modelParams, body: { content: jsonContent(s.canaryRevisionBody) } },
    responses: { ...ok('The canary', s.canarySchema), ...errors(400, 404, 409) },
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
    summary: 'Liveness, a cheap read of the metadata store, and what each deployment serves here',
    ...open,
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
    ...open,
    responses: {
      200: { description: 'OpenAPI 3.1', content: jsonContent(z.record(z.string(), z.unknown())) },
    },
  });
  path({
    method: 'get',
    path: '/docs',
    summary:
      'Interactive docs of this document (Swagger UI, served from the swagger-ui-dist package): "Try it out" calls this server with the browser’s session',
    ...open,
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
  });
  path({
    method: 'get',
    path: '/docs/reference',
    summary: 'This document as an HTML page without script',
    ...open,
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
  });
  path({
    method: 'get',
    path: '/',
    summary: 'The web UI (a single-page app over this API; pages route with the URL hash)',
    ...open,
    responses: {
      200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } },
      503: { description: 'The web UI is not built', content: { 'text/html': { schema: z.string() } } },
    },
  });

  // MLflow's REST API (@modelreg/mlflow-rest): the request and answer of each operation are the
  // proto message named in its summary; errors are MLflow's `{ error_code, message }`.
  const mlflowError = z
    .object({ error_code: z.string(), message: z.string() })
    .meta({ id: 'MlflowError', description: "MLflow's error answer" });
  const mlflowAnswer = z
    .record(z.string(), z.unknown())
    .meta({ id: 'MlflowAnswer', description: 'The proto message’s Response, as JSON' });
  for (const op of mlflowOperations) {
    const isArtifactFile = op.path.endsWith('{path}');
    path({
      method: op.method.toLowerCase() as 'get',
      path: `/api/2.0${op.path}`,
      tags: ['MLflow'],
      summary: `MLflow ${op.message} (${op.proto})`,
      description: op.path.startsWith('/mlflow/')
        ? `Also served under /ajax-api/2.0${op.path}. ${op.method === 'GET' ? 'Fields of the request message as query parameters.' : 'The request message as a JSON body.'}`
        : 'MLflow’s proxied artifact service: paths are `<experiment_id>/<run_id>/artifacts/<path>`.',
      ...(isArtifactFile ? { request: { params: z.object({ path: z.string() }) } } : {}),
      ...(op.method === 'PUT'
        ? {
            request: {
              params: z.object({ path: z.string() }),
              body: {
                content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
              },
            },
          }
        : {}),
      responses: {
        200:
          isArtifactFile && op.method === 'GET'
            ? {
                description: 'The file',
                content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
              }
            : { description: 'The response message', content: jsonContent(mlflowAnswer) },
        ...Object.fromEntries(
          [400, 401, 403, 404, 409].map((st) => [
            st,
            {
              description:
                'MLflow error (INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS 400; UNAUTHENTICATED 401; PERMISSION_DENIED 403; RESOURCE_DOES_NOT_EXIST 404; RESOURCE_CONFLICT 409)',
              content: jsonContent(mlflowError),
            },
          ]),
        ),
      },
    });
  }

  return new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: '3.1.0',
    security: [{ bearer: [] }, { basic: [] }],
    info: {
      title: 'modelreg REST server',
      version: '0.1.0',
      description:
        'Datasets, training jobs, runs, a model registry with stages, aliases and history, and predictions, over a modelreg registry. Errors are `{ error: { code, message, details? } }`; a 5xx also carries `requestId` (the cause is in the server log, never in the answer).\n\nBrowser safety: every write with a body must be `application/json`, except the uploads (`POST /datasets`, `POST /models/{name}/predict`, `PUT /runs/{id}/artifacts/{path}`, `POST /models/{name}/versions/onnx`), else 415; a write whose `Origin` is another site (or `Sec-Fetch-Site: cross-site`) is 403 `CROSS_ORIGIN`; a `Host` outside MODELREG_ALLOWED_HOSTS (default: localhost, 127.0.0.1, [::1], any port) is 421; writes are rate-limited per address (MODELREG_WRITE_RATE_LIMIT a minute, default 300; 429); a declared Content-Length over a limit is 413 before the body is read; a path with malformed %-encoding is 400.\n\nStages are the registry’s (MODELREG_STAGES, default none,staging,production,archived; `GET /models/{name}` lists them).\n\nAuthentication: Every route but /health, /openapi.json, /docs (and its files) and the UI needs a token (`Authorization: Bearer mr_…`, or Basic with the token as the password) unless the server runs open on loopback: 401 for missing or bad credentials, 403 when the role (reader < predictor < editor < admin) or the model grants do not allow the call. Changes are recorded with the principal as the actor; a body `actor` is refused (400) when a token is used.',
    },
  });
}
