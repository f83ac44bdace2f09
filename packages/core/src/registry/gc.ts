import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import { RegistryError, isRegistryError } from '../errors.js';
import type { ArtifactInfo } from '../stores/artifact-store.js';
import { REGISTRY_ID_KEY, bindStores } from './binding.js';
import type { RegistryContext } from './context.js';
import { defaultSpoolDir, sweepSpool } from '../stores/spool.js';

const where = 'gc';

export const gcOptionsSchema = z.strictObject({
  /**
   * Only objects, temp files and spool files older than this are deleted, so uploads whose metadata
   * is not committed yet are safe. Default one hour.
   */
  gracePeriodMs: z
    .number()
    .int()
    .min(0)
    .default(60 * 60 * 1000),
  /** Report what would be deleted (and which runs would be failed) without changing anything. */
  dryRun: z.boolean().default(false),
  /** Folders of upload spool files to sweep. Default: `[defaultSpoolDir()]` (`$TMPDIR/modelreg-spool`). */
  spoolDirs: z.array(z.string().min(1)).optional(),
});
export type GcOptions = z.input<typeof gcOptionsSchema>;

export interface GcResult {
  /** Objects looked at. */
  scanned: number;
  /** Keys deleted (or that would be, on a dry run). */
  deleted: string[];
  /** Unreferenced objects kept because they are younger than the grace period or were written again during gc. */
  young: number;
  /** Temp files of killed writers deleted (as the artifact store names them). */
  temporary: string[];
  /** Upload spool files deleted (absolute paths). */
  spool: string[];
  /** Runs ended as `failed` because their process stopped sending heartbeats for a whole lease. */
  expiredRuns: string[];
  /** Whether nothing was changed on purpose. */
  dryRun: boolean;
  /**
   * Set when gc changed nothing because the metadata store is not the artifact store's own (new,
   * empty, truncated or another registry's): why. Every list above is then empty.
   */
  refused?: string;
}

const fail = (what: string, error: unknown): RegistryError =>
  isRegistryError(error)
    ? error
    : new RegistryError(
        'STORE_FAILURE',
        `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          where,
          cause: error,
        },
      );

/**
 * Deletes what no metadata references and is older than the grace period: objects of the artifact
 * store, its temp files and the spool files; ends runs of dead processes as `failed`.
 *
 * An object is deleted only when all of these hold at delete time: it was unreferenced after the
 * listing was taken, its `head` right before the final reference check shows no modification after
 * the listing's and one older than the grace period, and the reference check after those heads
 * still does not name it. So a key written again (and committed) after the listing is kept.
 */
export async function collectGarbage(ctx: RegistryContext, options?: GcOptions): Promise<GcResult> {
  const opts = parseArg(gcOptionsSchema, options ?? {}, 'gc options', where);
  const result: GcResult = {
    scanned: 0,
    deleted: [],
    young: 0,
    temporary: [],
    spool: [],
    expiredRuns: [],
    dryRun: opts.dryRun,
  };
  const binding = await bindStores(ctx.metadata, ctx.artifacts);
  if (!binding.bound) return { ...result, refused: `${binding.reason}; gc deletes nothing` };
  const cutoff = ctx.now() - opts.gracePeriodMs;

  result.expiredRuns = await ctx.leases.expire(opts.dryRun);
  if (result.expiredRuns.length > 0 && !opts.dryRun) ctx.changed();

  const objects = await ctx.artifacts.list('');
  result.scanned = objects.length;
  const referencedAfterListing = new Set(await ctx.metadata.listReferencedKeys());
  const candidates: ArtifactInfo[] = [];
  for (const object of objects) {
    if (object.key === REGISTRY_ID_KEY || referencedAfterListing.has(object.key)) continue;
    if (object.lastModified > cutoff) result.young++;
    else candidates.push(object);
  }
  const unchanged: string[] = [];
  for (const listed of candidates) {
    const now = await ctx.artifacts.head(listed.key);
    if (now === null) continue;
    // Written again since the listing (a store's head may round times down to the second, as S3's does).
    if (now.lastModified > listed.lastModified || now.lastModified > cutoff) result.young++;
    else unchanged.push(listed.key);
  }
  if (unchanged.length > 0) {
    const referencedNow = new Set(await ctx.metadata.listReferencedKeys());
    for (const key of unchanged) {
      if (referencedNow.has(key)) continue;
      if (!opts.dryRun) await ctx.artifacts.delete(key);
      result.deleted.push(key);
    }
  }

  const { listTemporary, deleteTemporary } = ctx.artifacts;
  if (listTemporary && deleteTemporary) {
    for (const temp of await listTemporary()) {
      if (temp.lastModified > cutoff) continue;
      if (!opts.dryRun && !(await deleteTemporary(temp.key))) continue;
      result.temporary.push(temp.key);
    }
  }

  try {
    result.spool = await sweepSpool(opts.spoolDirs ?? [defaultSpoolDir()], cutoff, opts.dryRun);
  } catch (error) {
    throw fail('sweeping the spool folders', error);
  }
  return result;
}
