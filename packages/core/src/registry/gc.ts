import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import type { RegistryContext } from './context.js';

export const gcOptionsSchema = z.object({
  /**
   * Only objects older than this are deleted, so uploads whose metadata is not committed yet are
   * safe. Default one hour.
   */
  gracePeriodMs: z
    .number()
    .int()
    .min(0)
    .default(60 * 60 * 1000),
  /** Report what would be deleted without deleting. */
  dryRun: z.boolean().default(false),
});
export type GcOptions = z.input<typeof gcOptionsSchema>;

export interface GcResult {
  /** Objects looked at. */
  scanned: number;
  /** Keys deleted (or that would be, on a dry run). */
  deleted: string[];
  /** Unreferenced objects kept because they are younger than the grace period. */
  young: number;
}

/** Deletes artifacts that no metadata references (run artifacts, version files, dataset files). */
export async function collectGarbage(ctx: RegistryContext, options?: GcOptions): Promise<GcResult> {
  const opts = parseArg(gcOptionsSchema, options ?? {}, 'gc options', 'gc');
  const referenced = new Set(await ctx.metadata.listReferencedKeys());
  const objects = await ctx.artifacts.list('');
  const cutoff = ctx.now() - opts.gracePeriodMs;
  const deleted: string[] = [];
  let young = 0;
  for (const object of objects) {
    if (referenced.has(object.key)) continue;
    if (object.lastModified > cutoff) {
      young++;
      continue;
    }
    if (!opts.dryRun) await ctx.artifacts.delete(object.key);
    deleted.push(object.key);
  }
  return { scanned: objects.length, deleted, young };
}
