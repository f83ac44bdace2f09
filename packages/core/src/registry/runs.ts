import { randomUUID } from 'node:crypto';
import { decodePageToken, encodePageToken } from './page-token.js';
import { z } from 'zod';
import { assertMaxEntries, callLimits, tagsArgSchema } from '../domain/limits.js';
import { nameSchema, parseArg } from '../domain/names.js';
import { ownRecordSchema } from '../domain/records.js';
import { runOrderBySchema, runWhereSchema } from '../domain/run-search.js';
import type { Experiment, FileRecord, MetricPoint, Run } from '../domain/types.js';
import { endStatusSchema, lifecycleViewSchema, paramValueSchema } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ArtifactBody } from '../stores/artifact-store.js';
import type { RegistryContext } from './context.js';
import type { LoggedModel, LogModelOptions } from './log-model.js';
import { logOnnxModel } from './log-model.js';
import { logArtifacts } from './run-artifacts.js';

const where = 'runs';

export const startRunOptionsSchema = z.strictObject({
  /** Experiment name; created when missing. Default `Default`. */
  experiment: nameSchema.default('Default'),
  name: z.string().max(256).optional(),
  tags: tagsArgSchema.default({}),
  parentRunId: z.string().min(1).optional(),
});
export type StartRunOptions = z.input<typeof startRunOptionsSchema>;

export const searchRunsOptionsSchema = z.strictObject({
  /** One experiment name, or several. */
  experiment: z.union([nameSchema, z.array(nameSchema).min(1)]),
  where: runWhereSchema.optional(),
  orderBy: z.array(runOrderBySchema).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  pageToken: z.string().optional(),
  /** `active` (default): live runs; `deleted`: deleted ones only; `all`. */
  lifecycle: lifecycleViewSchema.default('active'),
});
export type SearchRunsOptions = z.input<typeof searchRunsOptionsSchema>;
export interface SearchRunsResult {
  runs: Run[];
  /** Pass back as `pageToken` for the next page; `null` on the last page. */
  nextPageToken: string | null;
}

/** A run id as the caller passes it: a non-empty string (modelreg's own are 32 hex characters). */
export const runIdSchema = z.string().min(1, 'must not be empty').max(256);

const metricValueSchema = z.number().refine(Number.isFinite, 'must be a finite number (not NaN or Infinity)');
const metricOptionsSchema = z
  .strictObject({
    step: z.number().int().min(0).default(0),
    timestamp: z.number().int().nonnegative().optional(),
  })
  .default({ step: 0 });

/** A found experiment, unless it is deleted (`CONFLICT`: runs are not logged into a deleted experiment). */
function live(experiment: Experiment): Experiment {
  if (experiment.deletedAt === null) return experiment;
  throw new RegistryError(
    'CONFLICT',
    `experiment "${experiment.name}" is deleted; restore it (restoreExperiment) or use another name`,
    { where },
  );
}

export async function getOrCreateExperiment(ctx: RegistryContext, name: string): Promise<Experiment> {
  const existing = await ctx.metadata.getExperimentByName(name);
  if (existing) return live(existing);
  try {
    const created = await ctx.metadata.createExperiment({
      id: randomUUID().replace(/-/g, ''),
      name,
      tags: {},
      createdAt: ctx.now(),
    });
    ctx.changed();
    return created;
  } catch (e) {
    // Another process created it first.
    const again = await ctx.metadata.getExperimentByName(name);
    if (again) return live(again);
    throw e;
  }
}

/** A run being tracked: log params, metrics, tags and artifacts, then `end` it. */
export class RunHandle {
  constructor(
    private readonly ctx: RegistryContext,
    /** The run id (32 hex characters). */
    readonly id: string,
  ) {}

  /** The run as stored now. */
  async info(): Promise<Run> {
    const run = await this.ctx.metadata.getRun(this.id);
    if (!run) throw new RegistryError('NOT_FOUND', `run "${this.id}" does not exist`, { where });
    return run;
  }

  /**
   * Logs params, write-once: the same value again is accepted, another value is `CONFLICT` and nothing
   * of the call is written. At most 100 params per call, values up to 6,000 characters
   * ({@link callLimits}).
   */
  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    assertMaxEntries(params, callLimits.paramsPerCall, 'params', where);
    const parsed = parseArg(ownRecordSchema(nameSchema, paramValueSchema), params, 'params', where);
    const values = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    await this.ctx.metadata.logParams(this.id, values);
  }

  async logParam(key: string, value: string | number | boolean): Promise<void> {
    await this.logParams({ [parseArg(nameSchema, key, 'param key', where)]: value });
  }

  /** Appends a metric point; the history keeps every (value, step, timestamp). */
  async logMetric(
    key: string,
    value: number,
    options?: { step?: number; timestamp?: number },
  ): Promise<void> {
    await this.logMetrics({ [parseArg(nameSchema, key, 'metric key', where)]: value }, options);
  }

  /** Appends one point per metric, all with the same step and timestamp; at most 1,000 metrics per call. */
  async logMetrics(
    metrics: Record<string, number>,
    options?: { step?: number; timestamp?: number },
  ): Promise<void> {
    assertMaxEntries(metrics, callLimits.metricsPerCall, 'metrics', where);
    const values = parseArg(ownRecordSchema(nameSchema, metricValueSchema), metrics, 'metrics', where);
    const opts = parseArg(metricOptionsSchema, options, 'metric options', where);
    const timestamp = opts.timestamp ?? this.ctx.now();
    const points: MetricPoint[] = Object.entries(values).map(([key, value]) => ({
      key,
      value,
      step: opts.step,
      timestamp,
    }));
    await this.ctx.metadata.logMetrics(this.id, points);
  }

  /** Sets (or overwrites) tags; at most 100 per call. */
  async setTags(tags: Record<string, string>): Promise<void> {
    assertMaxEntries(tags, callLimits.tagsPerCall, 'tags', where);
    await this.ctx.metadata.setRunTags(this.id, parseArg(tagsArgSchema, tags, 'tags', where));
  }

  async setTag(key: string, value: string): Promise<void> {
    await this.setTags({ [parseArg(nameSchema, key, 'tag key', where)]: value });
  }

  async deleteTag(key: string): Promise<void> {
    await this.ctx.metadata.deleteRunTag(this.id, parseArg(nameSchema, key, 'tag key', where));
  }

  /**
   * Writes an artifact under the run (`runs/<id>/artifacts/<path>`) and records its sha256 and size.
   * Paths are write-once: logging a path that the run already has is `ALREADY_EXISTS`.
   */
  async logArtifact(path: string, body: ArtifactBody): Promise<FileRecord> {
    const [file] = await logArtifacts(this.ctx, this.id, [{ path, body }]);
    return file!;
  }

  /**
   * Logs a model trained elsewhere (`format: 'onnx'`) with a MODEL.json, so that it registers,
   * resolves, loads and predicts like a built-in one. Bad bytes are `INVALID_ARGUMENT` now.
   */
  async logModel(options: LogModelOptions): Promise<LoggedModel> {
    return logOnnxModel(this.ctx, this.id, options);
  }

  /** The run's recorded artifacts under `prefix` (all when omitted). */
  async listArtifacts(prefix?: string): Promise<FileRecord[]> {
    const parsed = parseArg(z.string().optional(), prefix, 'artifact prefix', where);
    return this.ctx.metadata.listRunArtifacts(this.id, parsed);
  }

  /** Ends the run with a status (`finished` by default). Ending twice is `CONFLICT`. */
  async end(status: 'finished' | 'failed' | 'killed' = 'finished'): Promise<Run> {
    const parsed = parseArg(endStatusSchema, status, 'run status', where);
    const run = await this.ctx.metadata.endRun(this.id, parsed, this.ctx.now());
    this.ctx.leases.release(this.id);
    this.ctx.changed();
    return run;
  }
}

export async function startRun(ctx: RegistryContext, options: StartRunOptions = {}): Promise<RunHandle> {
  const opts = parseArg(startRunOptionsSchema, options, 'run options', where);
  if (opts.parentRunId !== undefined) {
    const parent = await ctx.metadata.getRun(opts.parentRunId);
    if (!parent)
      throw new RegistryError('NOT_FOUND', `parent run "${opts.parentRunId}" does not exist`, { where });
  }
  const experiment = await getOrCreateExperiment(ctx, opts.experiment);
  const id = randomUUID().replace(/-/g, '');
  const startTime = ctx.now();
  await ctx.metadata.createRun({
    id,
    experimentId: experiment.id,
    name: opts.name ?? `run-${new Date(startTime).toISOString().replace(/[:.]/g, '-')}`,
    parentRunId: opts.parentRunId ?? null,
    startTime,
    tags: opts.tags,
  });
  ctx.leases.hold(id);
  ctx.changed();
  return new RunHandle(ctx, id);
}

export async function searchRuns(
  ctx: RegistryContext,
  options: SearchRunsOptions,
): Promise<SearchRunsResult> {
  const opts = parseArg(searchRunsOptionsSchema, options, 'search options', where);
  const names = Array.isArray(opts.experiment) ? opts.experiment : [opts.experiment];
  const experimentIds: string[] = [];
  for (const name of names) {
    const experiment = await ctx.metadata.getExperimentByName(name);
    if (experiment) experimentIds.push(experiment.id);
  }
  const fingerprint = JSON.stringify([names, opts.where ?? null, opts.orderBy ?? null, opts.lifecycle]);
  const offset = opts.pageToken ? decodePageToken(opts.pageToken, fingerprint, where) : 0;
  if (experimentIds.length === 0) return { runs: [], nextPageToken: null };
  const page = await ctx.metadata.searchRuns({
    experimentIds,
    where: opts.where,
    orderBy: opts.orderBy,
    limit: opts.limit + 1,
    offset,
    lifecycle: opts.lifecycle,
  });
  const more = page.length > opts.limit;
  return {
    runs: page.slice(0, opts.limit),
    nextPageToken: more ? encodePageToken(offset + opts.limit, fingerprint) : null,
  };
}
