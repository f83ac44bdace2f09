import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { tagsArgSchema } from '../domain/limits.js';
import { nameSchema, parseArg } from '../domain/names.js';
import type { Experiment, LifecycleView, Run } from '../domain/types.js';
import { lifecycleViewSchema } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { tagChangesSchema } from './models.js';
import { runIdSchema } from './runs.js';

const where = 'experiments';

export const experimentChangeSchema = z.strictObject({
  /** A new name; the old one is free afterwards. */
  name: nameSchema.optional(),
  /** Tags to set; a `null` value deletes the tag. At most 100 per call. */
  tags: tagChangesSchema.optional(),
});
export type ExperimentChangeOptions = z.input<typeof experimentChangeSchema>;

export const createExperimentOptionsSchema = z.strictObject({
  tags: tagsArgSchema.default({}),
});
export type CreateExperimentOptions = z.input<typeof createExperimentOptionsSchema>;

export const listExperimentsOptionsSchema = z.strictObject({
  /** `active` (default), `deleted` or `all`. */
  lifecycle: lifecycleViewSchema.default('active'),
});
export type ListExperimentsOptions = z.input<typeof listExperimentsOptionsSchema>;

/**
 * An experiment by its name, or by its id (`{ id }`): an id names one experiment even while its name
 * changes (the MLflow router addresses experiments by id).
 */
export type ExperimentRef = string | { id: string };
const experimentRefSchema = z.union([nameSchema, z.strictObject({ id: z.string().min(1).max(256) })]);

const experimentName = (name: unknown): string => parseArg(nameSchema, name, 'experiment name', where);

async function findExperiment(ctx: RegistryContext, ref: ExperimentRef): Promise<Experiment | null> {
  const parsed = parseArg(experimentRefSchema, ref, 'experiment', where);
  return typeof parsed === 'string'
    ? ctx.metadata.getExperimentByName(parsed)
    : ctx.metadata.getExperiment(parsed.id);
}

/** The experiment (deleted or not); `NOT_FOUND` when there is none. */
async function requireExperiment(ctx: RegistryContext, ref: ExperimentRef): Promise<Experiment> {
  const found = await findExperiment(ctx, ref);
  if (found) return found;
  const shown = typeof ref === 'string' ? `"${ref}"` : `with id "${ref.id}"`;
  throw new RegistryError('NOT_FOUND', `experiment ${shown} does not exist`, { where });
}

export async function createExperiment(
  ctx: RegistryContext,
  name: string,
  options?: CreateExperimentOptions,
): Promise<Experiment> {
  const opts = parseArg(createExperimentOptionsSchema, options ?? {}, 'experiment options', where);
  const created = await ctx.metadata.createExperiment({
    id: randomUUID().replace(/-/g, ''),
    name: experimentName(name),
    tags: opts.tags,
    createdAt: ctx.now(),
  });
  ctx.changed();
  return created;
}

export async function getExperiment(ctx: RegistryContext, ref: ExperimentRef): Promise<Experiment | null> {
  return findExperiment(ctx, ref);
}

export async function listExperiments(
  ctx: RegistryContext,
  options?: ListExperimentsOptions,
): Promise<Experiment[]> {
  const opts = parseArg(listExperimentsOptionsSchema, options ?? {}, 'list options', where);
  return ctx.metadata.listExperiments({ lifecycle: opts.lifecycle satisfies LifecycleView });
}

export async function updateExperiment(
  ctx: RegistryContext,
  ref: ExperimentRef,
  change: ExperimentChangeOptions,
): Promise<Experiment> {
  const opts = parseArg(experimentChangeSchema, change, 'experiment change', where);
  const experiment = await requireExperiment(ctx, ref);
  const updated = await ctx.metadata.updateExperiment(experiment.id, { ...opts, time: ctx.now() });
  ctx.changed();
  return updated;
}

export async function deleteExperiment(ctx: RegistryContext, ref: ExperimentRef): Promise<Experiment> {
  const experiment = await requireExperiment(ctx, ref);
  const deleted = await ctx.metadata.deleteExperiment(experiment.id, ctx.now());
  ctx.changed();
  return deleted;
}

export async function restoreExperiment(ctx: RegistryContext, ref: ExperimentRef): Promise<Experiment> {
  const experiment = await requireExperiment(ctx, ref);
  const restored = await ctx.metadata.restoreExperiment(experiment.id);
  ctx.changed();
  return restored;
}

export async function deleteRun(ctx: RegistryContext, runId: string): Promise<Run> {
  const deleted = await ctx.metadata.deleteRun(parseArg(runIdSchema, runId, 'run id', 'runs'), ctx.now());
  ctx.changed();
  return deleted;
}

export async function restoreRun(ctx: RegistryContext, runId: string): Promise<Run> {
  const restored = await ctx.metadata.restoreRun(parseArg(runIdSchema, runId, 'run id', 'runs'));
  ctx.changed();
  return restored;
}
