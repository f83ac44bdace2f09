import { z } from 'zod';
import { aliasSchema, nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import { ownRecordSchema } from '../domain/records.js';
import { parseModelUri } from '../domain/uri.js';
import type { HistoryEntry, ModelVersion, RegisteredModel } from '../domain/types.js';
import { callLimits, maxEntries, tagsArgSchema } from '../domain/limits.js';
import { RegistryError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { registerVersion } from './register.js';
import { actorOf } from './access.js';

const where = 'registry';

const descriptionSchema = z.string().max(10_000);
export const tagChangesSchema = maxEntries(
  ownRecordSchema(nameSchema, z.string().max(callLimits.tagValueLength).nullable()),
  callLimits.tagsPerCall,
  'tags',
);
const commentSchema = z.string().max(5000).default('');
const actorSchema = z.string().min(1).max(256).optional();

export const createModelOptionsSchema = z.strictObject({
  description: descriptionSchema.default(''),
  tags: tagsArgSchema.default({}),
});
export type CreateModelOptions = z.input<typeof createModelOptionsSchema>;

export const listModelsOptionsSchema = z.strictObject({
  nameContains: z.string().max(128).optional(),
  tags: ownRecordSchema(z.string(), z.string()).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).default(0),
});
export type ListModelsOptions = z.input<typeof listModelsOptionsSchema>;

export const registerModelOptionsSchema = z
  .object({
    /** The run whose artifacts hold the model. */
    runId: z.string().min(1).optional(),
    /** Folder of the model inside the run's artifacts. Default `model`. */
    path: z.string().min(1).default('model'),
    /** Alternatively `runs:/<runId>/<path>`. */
    source: z.string().optional(),
    description: descriptionSchema.default(''),
    tags: tagsArgSchema.default({}),
  })
  .strict()
  .refine((o) => (o.runId === undefined) !== (o.source === undefined), 'give exactly one of runId or source');
export type RegisterModelOptions = z.input<typeof registerModelOptionsSchema>;

export const transitionOptionsSchema = z.strictObject({
  /** Move the other versions of the target stage to the last stage, in the same transaction. */
  archiveExisting: z.boolean().default(false),
  comment: commentSchema,
  actor: actorSchema,
});
export type TransitionStageOptions = z.input<typeof transitionOptionsSchema>;

export const aliasOptionsSchema = z.strictObject({
  /** Compare-and-set: `null` = the alias must not exist; a number = it must point at that version now. */
  ifVersion: versionNumberSchema.nullable().optional(),
  comment: commentSchema,
  actor: actorSchema,
});
export type AliasOptions = z.input<typeof aliasOptionsSchema>;

export const updateOptionsSchema = z.strictObject({
  description: descriptionSchema.optional(),
  tags: tagChangesSchema.optional(),
});
export type UpdateOptions = z.input<typeof updateOptionsSchema>;

const modelName = (name: unknown): string => parseArg(nameSchema, name, 'model name', where);
const versionNumber = (version: unknown): number => parseArg(versionNumberSchema, version, 'version', where);

/** Matches a stage against the configured list, case-insensitively, and returns the configured spelling. */
export function canonicalStage(ctx: RegistryContext, stage: unknown): string {
  if (typeof stage === 'string') {
    const found = ctx.stages.find((s) => s.toLowerCase() === stage.toLowerCase());
    if (found) return found;
  }
  throw new RegistryError(
    'INVALID_ARGUMENT',
    `stage ${JSON.stringify(stage)} is not one of the configured stages: ${ctx.stages.join(', ')}`,
    { where },
  );
}

export async function requireModel(ctx: RegistryContext, name: string): Promise<RegisteredModel> {
  const model = await ctx.metadata.getModel(name);
  if (!model) throw new RegistryError('NOT_FOUND', `model "${name}" does not exist`, { where });
  return model;
}

export async function requireVersion(
  ctx: RegistryContext,
  name: string,
  version: number,
): Promise<ModelVersion> {
  const found = await ctx.metadata.getVersion(name, version);
  if (found) return found;
  await requireModel(ctx, name);
  throw new RegistryError('NOT_FOUND', `model "${name}" has no version ${version}`, { where });
}

export async function createModel(
  ctx: RegistryContext,
  name: string,
  options?: CreateModelOptions,
): Promise<RegisteredModel> {
  const opts = parseArg(createModelOptionsSchema, options ?? {}, 'model options', where);
  const model = await ctx.metadata.createModel({ name: modelName(name), ...opts, createdAt: ctx.now() });
  ctx.changed();
  return model;
}

export async function updateModel(
  ctx: RegistryContext,
  name: string,
  change: UpdateOptions,
): Promise<RegisteredModel> {
  const opts = parseArg(updateOptionsSchema, change, 'model change', where);
  const model = await ctx.metadata.updateModel(modelName(name), { ...opts, time: ctx.now() });
  ctx.changed();
  return model;
}

export async function deleteModel(ctx: RegistryContext, name: string): Promise<void> {
  await ctx.metadata.deleteModel(modelName(name), ctx.now());
  ctx.changed();
}

export async function renameModel(
  ctx: RegistryContext,
  name: string,
  newName: string,
): Promise<RegisteredModel> {
  const from = modelName(name);
  const to = parseArg(nameSchema, newName, 'new model name', where);
  if (from === to) {
    throw new RegistryError('INVALID_ARGUMENT', `model "${from}" already has the name "${to}"`, {
      where,
      details: { field: 'newName' },
    });
  }
  const model = await ctx.metadata.renameModel(from, to, ctx.now());
  ctx.changed();
  return model;
}

export async function getModel(ctx: RegistryContext, name: string): Promise<RegisteredModel | null> {
  return ctx.metadata.getModel(modelName(name));
}

export async function listModels(
  ctx: RegistryContext,
  options?: ListModelsOptions,
): Promise<RegisteredModel[]> {
  return ctx.metadata.listModels(parseArg(listModelsOptionsSchema, options ?? {}, 'list options', where));
}

/**
 * Registers the model files that a run logged under `path` as the next version of `name`, creating
 * the registered model when it does not exist yet (as MLflow does).
 */
export async function registerModel(
  ctx: RegistryContext,
  name: string,
  options: RegisterModelOptions,
): Promise<ModelVersion> {
  const model = modelName(name);
  const opts = parseArg(registerModelOptionsSchema, options, 'register options', where);
  let runId = opts.runId;
  let path = opts.path.replace(/\/+$/, '');
  if (opts.source !== undefined) {
    const uri = parseModelUri(opts.source);
    if (uri.kind !== 'run')
      throw new RegistryError('INVALID_ARGUMENT', `source must be a runs:/ URI, got "${opts.source}"`, {
        where,
      });
    runId = uri.runId;
    path = uri.path;
  }
  const run = await ctx.metadata.getRun(runId!);
  if (!run) throw new RegistryError('NOT_FOUND', `run "${runId}" does not exist`, { where });
  const recorded = await ctx.metadata.listRunArtifacts(run.id, `${path}/`);
  if (recorded.length === 0) {
    throw new RegistryError('NOT_FOUND', `run "${run.id}" has no artifacts under "${path}/"`, { where });
  }
  const files = recorded.map((f) => ({ ...f, path: f.path.slice(path.length + 1) }));
  // One transaction creates the model when missing and the version: no model is left without it.
  return registerVersion(ctx, {
    name: model,
    runId: run.id,
    path,
    files,
    description: opts.description,
    tags: opts.tags,
  });
}

export async function getVersion(
  ctx: RegistryContext,
  name: string,
  version: number,
): Promise<ModelVersion | null> {
  return ctx.metadata.getVersion(modelName(name), versionNumber(version));
}

const listVersionsOptionsSchema = z.strictObject({ stage: z.string().optional() });
const historyOptionsSchema = z.strictObject({ version: z.unknown().optional() });

export async function listVersions(
  ctx: RegistryContext,
  name: string,
  options?: { stage?: string },
): Promise<ModelVersion[]> {
  const opts = parseArg(listVersionsOptionsSchema, options ?? {}, 'list options', where);
  const stage = opts.stage === undefined ? undefined : canonicalStage(ctx, opts.stage);
  return ctx.metadata.listVersions(modelName(name), stage === undefined ? {} : { stage });
}

export async function updateVersion(
  ctx: RegistryContext,
  name: string,
  version: number,
  change: UpdateOptions,
): Promise<ModelVersion> {
  const opts = parseArg(updateOptionsSchema, change, 'version change', where);
  const updated = await ctx.metadata.updateVersion(modelName(name), versionNumber(version), {
    ...opts,
    time: ctx.now(),
  });
  ctx.changed();
  return updated;
}

export async function deleteVersion(ctx: RegistryContext, name: string, version: number): Promise<void> {
  await ctx.metadata.deleteVersion(modelName(name), versionNumber(version), ctx.now());
  ctx.changed();
}

export async function transitionStage(
  ctx: RegistryContext,
  name: string,
  version: number,
  stage: string,
  options?: TransitionStageOptions,
): Promise<ModelVersion> {
  const n = modelName(name);
  const v = versionNumber(version);
  const toStage = canonicalStage(ctx, stage);
  const opts = parseArg(transitionOptionsSchema, options ?? {}, 'transition options', where);
  const result = await ctx.metadata.transitionStage({
    name: n,
    version: v,
    toStage,
    archiveExisting: opts.archiveExisting,
    archiveStage: ctx.stages[ctx.stages.length - 1]!,
    actor: actorOf(ctx, opts.actor, where),
    comment: opts.comment,
    time: ctx.now(),
  });
  ctx.changed();
  return result.version;
}

export async function setAlias(
  ctx: RegistryContext,
  name: string,
  alias: string,
  version: number,
  options?: AliasOptions,
): Promise<void> {
  const n = modelName(name);
  const a = parseArg(aliasSchema, alias, 'alias', where);
  const v = versionNumber(version);
  const opts = parseArg(aliasOptionsSchema, options ?? {}, 'alias options', where);
  await ctx.metadata.setAlias({
    name: n,
    alias: a,
    version: v,
    ...(opts.ifVersion !== undefined ? { ifVersion: opts.ifVersion } : {}),
    actor: actorOf(ctx, opts.actor, where),
    comment: opts.comment,
    time: ctx.now(),
  });
  ctx.changed();
}

export async function deleteAlias(
  ctx: RegistryContext,
  name: string,
  alias: string,
  options?: AliasOptions,
): Promise<void> {
  const n = modelName(name);
  const a = parseArg(aliasSchema, alias, 'alias', where);
  const opts = parseArg(aliasOptionsSchema, options ?? {}, 'alias options', where);
  await ctx.metadata.deleteAlias({
    name: n,
    alias: a,
    ...(opts.ifVersion !== undefined ? { ifVersion: opts.ifVersion } : {}),
    actor: actorOf(ctx, opts.actor, where),
    comment: opts.comment,
    time: ctx.now(),
  });
  ctx.changed();
}

export async function getStageHistory(
  ctx: RegistryContext,
  name: string,
  options?: { version?: number },
): Promise<HistoryEntry[]> {
  const n = modelName(name);
  const opts = parseArg(historyOptionsSchema, options ?? {}, 'history options', where);
  const version = opts.version === undefined ? undefined : versionNumber(opts.version);
  await requireModel(ctx, n);
  return ctx.metadata.getHistory(n, version === undefined ? {} : { version });
}
