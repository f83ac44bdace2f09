import {
  apiTokenSchema,
  eventPatternSchema,
  webhookStatusSchema,
  createTokenSchema,
  principalSchema,
  datasetVersionSchema,
  experimentSchema,
  historyEntrySchema,
  jobSchema,
  jobStates,
  metricPointSchema,
  modelVersionSchema,
  nameSchema,
  registeredModelSchema,
  registryErrorCodes,
  runSchema,
  runStatuses,
  trainOptionsSchema,
} from '@modelreg/core';
import { labelSchema, modelSignatureSchema } from '@modelreg/core/formats';
import { z } from 'zod';
import { httpErrorCodes } from './errors.js';

// Request schemas validate the shape of a request (400 when they fail); the registry then checks
// the content (422). `.meta({ id })` names a schema in the OpenAPI components.

const name = nameSchema.meta({ description: '1–128 characters of [A-Za-z0-9._-], not "." or ".."' });
const versionNumber = z.number().int().min(1);
const pathVersion = z.coerce.number().int().min(1).meta({ description: 'A version number (from 1)' });
const comment = z.string().max(5000);
const actor = z
  .string()
  .min(1)
  .max(256)
  .meta({ description: 'Who made the change; default: the server user' });
const booleanQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .meta({ type: 'boolean' });
const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const label = z.union([z.string(), z.number(), z.boolean()]);

// ---- path and query parameters ----
export const modelParams = z.object({ name });
export const datasetParams = z.object({ name });
export const versionParams = z.object({ name, version: pathVersion });
export const aliasParams = z.object({ name, alias: name });
export const listModelsQuery = z
  .object({
    nameContains: z.string().max(128).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
    summary: booleanQuery
      .optional()
      .meta({ description: 'Also answer each model’s version count per stage and its last change' }),
  })
  .strict();
export const listVersionsQuery = z.object({ stage: z.string().min(1).max(128).optional() }).strict();
export const historyQuery = z.object({ version: pathVersion.optional() }).strict();
export const deleteAliasQuery = z.object({ ifVersion: pathVersion.optional() }).strict();
export const experimentParams = z.object({ name });
const runId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a run id: 1–128 characters of [A-Za-z0-9_-]')
  .meta({ description: 'A run id' });
export const runParams = z.object({ id: runId });
export const metricParams = z.object({ id: runId, key: name });
export const searchRunsQuery = z
  .object({
    orderBy: z
      .string()
      .max(260)
      .regex(
        /^(metric:|param:)[A-Za-z0-9._-]{1,128}$|^(startTime|endTime|name)$/,
        'must be metric:<key>, param:<key>, startTime, endTime or name',
      )
      .optional()
      .meta({ description: '`metric:<key>`, `param:<key>`, `startTime`, `endTime` or `name`' }),
    direction: z.enum(['asc', 'desc']).optional().meta({ description: 'Default asc' }),
    status: z.enum(runStatuses).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    pageToken: z.string().min(1).max(2000).optional().meta({ description: 'nextPageToken of a page' }),
  })
  .strict();
export type SearchRunsQuery = z.output<typeof searchRunsQuery>;
export const uploadDatasetQuery = z
  .object({
    name: z.string().min(1).max(255).optional().meta({ description: 'Dataset name for text/csv bodies' }),
  })
  .strict();

// ---- selectors: which version serves a prediction ----
const selectorFields = {
  version: versionNumber.optional().meta({ description: 'Serve this version' }),
  stage: name.optional().meta({ description: 'Serve the highest version in this stage' }),
  alias: name.optional().meta({ description: 'Serve the version this alias points at' }),
};
const latestOrVersion = z
  .union([z.literal('latest'), pathVersion])
  .meta({ description: 'A version number, or `latest`: the highest version' });
export const predictQuery = z
  .object({
    version: latestOrVersion.optional(),
    stage: selectorFields.stage,
    alias: selectorFields.alias,
    proba: booleanQuery.optional().meta({ description: 'Also answer class probabilities (classifiers)' }),
  })
  .strict();
/** Multipart text fields next to the CSV `file` of a prediction (same meaning as the query's). */
export const predictFields = z
  .object({
    version: latestOrVersion.optional(),
    stage: selectorFields.stage,
    alias: selectorFields.alias,
    proba: booleanQuery.optional(),
  })
  .strict();
const records = z.array(z.record(z.string(), z.unknown())).min(1);
const matrix = z.array(z.array(z.union([z.number(), z.boolean(), z.null()]))).min(1);
export const predictBody = z
  .object({
    rows: records.optional().meta({ description: 'Records: one object per row, keyed by feature name' }),
    input_data: z.object({ features: matrix }).strict().optional().meta({
      description:
        'Rows as arrays of numbers in the order of the model signature’s inputs (`GET /models/:name/versions/:version/signature`); booleans as true/false or 0/1, a categorical feature as its category index, null for missing',
    }),
    inputs: z
      .union([matrix, records])
      .optional()
      .meta({ description: 'MLflow’s form: arrays in signature order, or records' }),
    dataframe_split: z
      .object({ columns: z.array(z.string()).min(1), data: z.array(z.array(z.unknown())).min(1) })
      .strict()
      .optional()
      .meta({ description: 'MLflow’s (pandas) split form: column names and rows of values' }),
    dataframe_records: records.optional().meta({ description: 'MLflow’s records form (same as rows)' }),
    ...selectorFields,
    version: z
      .union([z.literal('latest'), versionNumber])
      .optional()
      .meta({ description: 'Serve this version, or `latest`: the highest' }),
    proba: z.boolean().optional(),
  })
  .strict()
  .meta({
    id: 'PredictRequest',
    description:
      'Exactly one of rows, input_data, inputs, dataframe_split and dataframe_records; at most one of version, stage and alias',
  });

// ---- bodies ----
// Core's train options as JSON: dataset CSV as text, no progress callback or abort signal (a client
// that disconnects aborts).
export const trainBody = trainOptionsSchema
  .omit({ onProgress: true, signal: true })
  .extend({
    dataset: z.union([
      name,
      z.object({ name, version: versionNumber.optional() }).strict(),
      z.object({ csv: z.string().min(1) }).strict(),
      z.object({ rows: z.array(z.record(z.string(), cell)).min(1) }).strict(),
    ]),
  })
  .meta({ id: 'TrainRequest' });

export const trainQuery = z
  .object({
    wait: booleanQuery.optional().meta({
      description:
        'true: answer when the job has ended, 201 with the TrainResult (or the error of the failed job), instead of 202 at once',
    }),
  })
  .strict();
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(256)
  .meta({ description: 'A retried POST with the same key returns the first job (1–256 characters)' });
const jobId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'must be a job id');
export const jobParams = z.object({ id: jobId });
const jobStateList = z
  .string()
  .transform((v) => v.split(','))
  .pipe(z.array(z.enum(jobStates)).min(1))
  .meta({ description: `One state or a comma-separated list: ${jobStates.join(', ')}` });
export const listJobsQuery = z
  .object({
    state: jobStateList.optional(),
    submittedBy: z.string().min(1).max(256).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    pageToken: z.string().min(1).max(1024).optional(),
  })
  .strict();

export const stageBody = z
  .object({
    stage: z.string().min(1).max(128),
    archiveExisting: z.boolean().optional(),
    comment: comment.optional(),
    actor: actor.optional(),
  })
  .strict()
  .meta({ id: 'StageRequest' });

export const updateMetaBody = z
  .object({
    description: z.string().max(5000).optional(),
    tags: z
      .record(name, z.string().max(5000).nullable())
      .optional()
      .meta({ description: 'Tags to set; a tag set to null is removed; tags not named stay as they are' }),
  })
  .strict()
  .meta({ id: 'UpdateRequest' });

export const aliasBody = z
  .object({
    version: versionNumber,
    ifVersion: versionNumber
      .nullable()
      .optional()
      .meta({ description: 'Compare-and-set: null = only if unset; n = only if it points at n now' }),
    comment: comment.optional(),
    actor: actor.optional(),
  })
  .strict()
  .meta({ id: 'AliasRequest' });

const canarySide = z
  .union([versionNumber, z.string().min(1).max(128)])
  .meta({ description: 'A version number, a stage name, "@alias" or "latest"' });
const ifRevision = z
  .number()
  .int()
  .min(1)
  .meta({ description: 'Compare-and-set: only when the deployment is at this revision now, else 409' });
export const canaryBody = z
  .object({
    current: canarySide,
    next: canarySide,
    weight: z.number().min(0).max(1).meta({ description: 'Share of traffic for next, 0–1' }),
    stickyKey: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: 'A field of each row: rows with equal values always go to the same arm' }),
    shadow: z
      .boolean()
      .optional()
      .meta({ description: 'Also run next on current’s rows, without answering it' }),
    comment: comment.optional(),
  })
  .strict()
  .meta({ id: 'CanaryRequest' });
export const canaryWeightBody = z
  .object({ weight: z.number().min(0).max(1), ifRevision: ifRevision.optional() })
  .strict()
  .meta({ id: 'CanaryWeight' });
export const canaryPromoteBody = z
  .object({ comment: comment.optional(), actor: actor.optional(), ifRevision: ifRevision.optional() })
  .strict()
  .meta({ id: 'CanaryPromoteRequest' });
export const canaryRevisionBody = z
  .object({ ifRevision: ifRevision.optional() })
  .strict()
  .meta({ id: 'CanaryRollbackRequest' });

// ---- tracking writes ----
export const createExperimentBody = z.object({ name }).strict().meta({ id: 'CreateExperimentRequest' });
export const startRunBody = z
  .object({
    experiment: name.optional().meta({ description: 'Created when missing; default `Default`' }),
    name: z.string().min(1).max(256).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    parentRunId: z.string().min(1).max(256).optional(),
  })
  .strict()
  .meta({ id: 'StartRunRequest' });
export const logBatchBody = z
  .object({
    params: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .meta({ description: 'At most 100; a param is write-once (a different value is 409)' }),
    metrics: z
      .array(
        z
          .object({
            key: name,
            value: z.number(),
            step: z.number().int().min(0).optional(),
            timestamp: z
              .number()
              .int()
              .min(0)
              .optional()
              .meta({ description: 'ms since epoch; default now' }),
          })
          .strict(),
      )
      .max(1000)
      .optional(),
    tags: z.record(z.string(), z.string()).optional().meta({ description: 'At most 100' }),
  })
  .strict()
  .meta({ id: 'LogBatchRequest' });
export const endRunBody = z
  .object({ status: z.enum(['finished', 'failed', 'killed']).optional() })
  .strict()
  .meta({ id: 'EndRunRequest' });
/** A multipart text field holding JSON. */
const jsonField = <S extends z.ZodType>(schema: S) =>
  z
    .string()
    .transform((text, c) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        c.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
export const onnxFields = z
  .object({
    signature: jsonField(
      z
        .object({
          inputs: z
            .array(
              z
                .object({
                  name: z.string().min(1),
                  type: z.enum(['number', 'integer', 'boolean']).optional(),
                })
                .strict(),
            )
            .min(1)
            .optional(),
          task: z.enum(['classification', 'regression']).optional(),
          classes: z.array(label).min(2).optional(),
          target: z.string().min(1).optional(),
        })
        .strict(),
    )
      .optional()
      .meta({ description: 'JSON: { inputs?: [{ name, type? }], task?, classes?, target? }' }),
    metrics: jsonField(z.record(z.string(), z.number()))
      .optional()
      .meta({ description: 'JSON: metrics measured where the model was trained' }),
    experiment: name.optional().meta({ description: 'Experiment of the run; default the model name' }),
    runName: z.string().min(1).max(256).optional(),
    description: z.string().max(5000).optional(),
  })
  .strict();

// ---- responses ----
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum([...registryErrorCodes, ...httpErrorCodes]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const datasetSchema = datasetVersionSchema.meta({ id: 'DatasetVersion' });
export const datasetUploadSchema = datasetVersionSchema
  .extend({
    created: z.boolean().meta({ description: 'false: the same bytes were already the latest version' }),
  })
  .meta({ id: 'DatasetUpload' });
export const datasetListSchema = z.object({ datasets: z.array(datasetSchema) }).meta({ id: 'DatasetList' });
export const datasetDetailSchema = z
  .object({ dataset: datasetSchema, versions: z.array(datasetSchema) })
  .meta({ id: 'DatasetDetail' });

export const versionSchema = modelVersionSchema.meta({ id: 'ModelVersion' });
export const modelSchema = registeredModelSchema.meta({ id: 'RegisteredModel' });
export const modelDetailSchema = registeredModelSchema
  .extend({
    latestVersions: z.array(versionSchema).meta({ description: 'The highest version in each stage' }),
    stages: z.array(z.string()).meta({ description: 'The configured stages, in order' }),
  })
  .meta({ id: 'ModelDetail' });
export const historyEntry = historyEntrySchema.meta({ id: 'HistoryEntry' });
const modelSummarySchema = z
  .object({
    latestVersion: versionNumber.nullable().meta({ description: 'The highest version not deleted' }),
    stages: z.record(z.string(), z.number().int()).meta({ description: 'Versions per stage' }),
    lastChange: historyEntry.nullable().meta({ description: 'The latest stage or alias move' }),
  })
  .meta({ id: 'ModelSummary' });
export const modelListSchema = z
  .object({
    models: z.array(
      modelSchema.extend({
        summary: modelSummarySchema.optional().meta({ description: 'With ?summary=true' }),
      }),
    ),
  })
  .meta({ id: 'ModelList' });
export const versionListSchema = z.object({ versions: z.array(versionSchema) }).meta({ id: 'VersionList' });
export const historySchema = z.object({ history: z.array(historyEntry) }).meta({ id: 'History' });
export const aliasResultSchema = z
  .object({ name, alias: name, version: versionNumber })
  .meta({ id: 'AliasResult' });

export const runResponseSchema = runSchema.meta({ id: 'Run' });
export const trainResultSchema = z
  .object({
    run: runResponseSchema,
    metrics: z.record(z.string(), z.number()),
    version: versionSchema.nullable(),
    modelUri: z.string(),
  })
  .meta({ id: 'TrainResult' });

export const jobResponseSchema = jobSchema.meta({ id: 'Job' });
export const jobEnvelopeSchema = z.object({ job: jobResponseSchema }).meta({ id: 'JobEnvelope' });
export const jobListSchema = z
  .object({ jobs: z.array(jobResponseSchema), nextPageToken: z.string().nullable() })
  .meta({ id: 'JobList' });

export const predictResultSchema = z
  .object({
    model: name,
    version: versionNumber
      .nullable()
      .meta({ description: 'The version that served every row (null: a canary split them)' }),
    versions: z
      .array(versionNumber)
      .optional()
      .meta({ description: 'With a canary: the version that served each row' }),
    arms: z
      .array(z.enum(['current', 'next']))
      .optional()
      .meta({ description: 'With a canary: the arm of each row' }),
    via: z.enum(['version', 'stage', 'alias', 'canary']),
    predictions: z.array(label),
    probabilities: z.array(z.record(z.string(), z.number())).optional(),
  })
  .meta({ id: 'PredictResult' });

const armSchema = z.object({
  ref: z
    .union([versionNumber, z.string()])
    .meta({ description: 'As stored: a version, a stage, "@alias" or "latest"' }),
  version: versionNumber.nullable().meta({ description: 'The version this arm serves now' }),
  rows: z.number().int().meta({ description: 'Rows this replica routed to the arm' }),
  requests: z.number().int(),
  errors: z.number().int(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
});
export const canarySchema = z
  .object({
    model: name,
    weight: z.number(),
    shadow: z.boolean(),
    mode: z.enum(['canary', 'shadow']),
    stickyKey: z.string().nullable(),
    revision: z.number().int().meta({ description: 'The deployment revision, for compare-and-set' }),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    updatedBy: z.string().meta({ description: 'Who made the last change' }),
    current: armSchema,
    next: armSchema,
  })
  .meta({ id: 'Canary' });
export const canaryPromotedSchema = z
  .object({
    promoted: z.object({
      from: versionNumber,
      to: versionNumber,
      target: z.union([z.object({ stage: z.string() }), z.object({ alias: z.string() })]),
    }),
    canary: canarySchema.optional(),
  })
  .meta({ id: 'CanaryPromoted' });
const servedArm = z.object({
  ref: z.union([versionNumber, z.string()]),
  version: versionNumber.nullable().meta({ description: 'The version this replica serves for the arm now' }),
});
export const healthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    metadata: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
    deployments: z
      .array(
        z.object({
          model: name,
          mode: z.enum(['canary', 'shadow']),
          revision: z.number().int(),
          weight: z.number(),
          current: servedArm,
          next: servedArm,
        }),
      )
      .meta({ description: 'What each deployment serves on this replica: versions and weights' }),
    uptimeSeconds: z.number(),
  })
  .meta({ id: 'Health' });

// ---- experiments, runs and the model files they made ----
export const experimentListSchema = z
  .object({ experiments: z.array(experimentSchema.meta({ id: 'Experiment' })) })
  .meta({ id: 'ExperimentList' });
export const runListSchema = z
  .object({
    runs: z.array(runResponseSchema),
    nextPageToken: z.string().nullable().meta({ description: 'Pass as pageToken for the next page' }),
  })
  .meta({ id: 'RunList' });
export const modelInfoSchema = z
  .object({
    task: z.enum(['classification', 'regression']),
    target: z.string(),
    classes: z.array(labelSchema).nullable(),
    trainer: z.object({ name: z.string(), params: z.record(z.string(), z.unknown()) }),
    metrics: z.record(z.string(), z.number()),
    signature: modelSignatureSchema.meta({ id: 'ModelSignature' }),
  })
  .meta({ id: 'ModelInfo', description: 'From the MODEL.json of a logged model (sha256 verified)' });
const artifactSchema = z
  .object({ path: z.string(), size: z.number().int(), sha256: z.string() })
  .meta({ id: 'Artifact' });
export const runDetailSchema = z
  .object({
    run: runResponseSchema,
    experiment: name.nullable(),
    artifacts: z.array(artifactSchema),
    model: modelInfoSchema.nullable().meta({ description: 'When the run logged a model (model/MODEL.json)' }),
  })
  .meta({ id: 'RunDetail' });
export const metricHistorySchema = z
  .object({ runId: z.string(), key: name, history: z.array(metricPointSchema.meta({ id: 'MetricPoint' })) })
  .meta({ id: 'MetricHistory' });
export const versionSignatureSchema = z
  .object({ name, version: versionNumber, runId: z.string().nullable(), model: modelInfoSchema })
  .meta({ id: 'VersionModelInfo' });

// ---- identity ----
export const tokenRequestSchema = createTokenSchema.meta({
  id: 'TokenRequest',
  description:
    'name: the principal (recorded as the actor of its changes); models: grants narrowing a predictor or an editor',
});
export const tokenSchema = apiTokenSchema.meta({ id: 'Token' });
export const createdTokenSchema = apiTokenSchema
  .pick({ id: true, name: true, role: true, models: true, createdAt: true })
  .extend({ token: z.string().meta({ description: 'The secret (mr_…): shown only in this answer' }) })
  .meta({ id: 'CreatedToken' });
export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) }).meta({ id: 'TokenList' });
export const tokenIdParams = z.object({ id: z.string().min(1).max(64) });
export const sessionRequestSchema = z
  .strictObject({ token: z.string().min(1).max(1024).meta({ description: 'An API token (mr_…)' }) })
  .meta({ id: 'SessionRequest' });
export const whoamiSchema = principalSchema
  .extend({ auth: z.enum(['open', 'token']) })
  .meta({ id: 'WhoAmI' });

// ---- webhooks and the event stream ----
const eventPatterns = z
  .array(eventPatternSchema)
  .min(1)
  .max(64)
  .meta({ description: 'Event patterns: `*`, `<family>.*` (`version.*`, `alias.*`, …) or an event type' });
export const createWebhookRequestSchema = z
  .strictObject({
    url: z.string().min(1).max(2048).meta({ description: 'http(s) URL; private addresses are refused' }),
    events: eventPatterns,
    secret: z
      .string()
      .max(200)
      .optional()
      .meta({ description: '`whsec_<base64 of 24–64 bytes>`; omitted: the server makes one' }),
    description: z.string().max(1000).optional(),
    status: webhookStatusSchema.optional(),
  })
  .meta({ id: 'WebhookRequest' });
export const updateWebhookRequestSchema = z
  .strictObject({
    url: z.string().min(1).max(2048).optional(),
    events: eventPatterns.optional(),
    description: z.string().max(1000).optional(),
    status: webhookStatusSchema
      .optional()
      .meta({ description: '`active` re-enables a disabled webhook; delivery resumes where it stopped' }),
  })
  .meta({ id: 'WebhookChange' });
export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    status: webhookStatusSchema,
    description: z.string(),
    disabledReason: z.string().nullable(),
    failureCount: z.number().int().meta({ description: 'Failed attempts in a row' }),
    nextAttemptAt: z.number().nullable().meta({ description: 'When the next retry is due (ms since epoch)' }),
    startSeq: z.number().int().meta({ description: 'Events up to this seq predate the webhook' }),
    createdAt: z.number(),
    updatedAt: z.number(),
    createdBy: z.string(),
  })
  .meta({ id: 'Webhook' });
export const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().meta({ description: 'The signing secret (whsec_…): shown only in this answer' }),
  })
  .meta({ id: 'CreatedWebhook' });
export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) }).meta({ id: 'WebhookList' });
export const webhookParams = z.object({ id: z.string().min(1).max(64) });
export const deliverySchema = z
  .object({
    id: z.string().meta({ description: 'The webhook-id header: msg_<seq>, or msg_test_… for a test' }),
    webhookId: z.string(),
    seq: z.number().int().nullable(),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    latencyMs: z.number().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'WebhookDelivery' });
export const deliveryListSchema = z
  .object({ deliveries: z.array(deliverySchema) })
  .meta({ id: 'WebhookDeliveryList' });
export const deliveriesQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(1000).optional() })
  .strict();
export const eventsQuery = z
  .object({
    types: z
      .string()
      .transform((v) => v.split(',').map((t) => t.trim()))
      .pipe(z.array(eventPatternSchema).min(1).max(64))
      .optional()
      .meta({ description: 'Comma-separated event patterns (`version.*,alias.*`); default every event' }),
    after: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Start after this seq (a `Last-Event-ID` header wins); default: from now on' }),
  })
  .strict();
