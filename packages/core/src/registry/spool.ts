import { lstat, readdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The folder where hosts spool uploads before they reach the artifact store (the Express server's
 * multipart dataset uploads). It holds nothing else, so gc may delete any file in it older than its
 * grace period: that is a spool file whose process died.
 */
export function defaultSpoolDir(): string {
  return path.join(tmpdir(), 'modelreg-spool');
}

/** Deletes (or, on a dry run, lists) the plain files directly in `dirs` last modified before `cutoff`. */
export async function sweepSpool(
  dirs: readonly string[],
  cutoff: number,
  dryRun: boolean,
): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const name of names.sort()) {
      const file = path.join(dir, name);
      const stats = await lstat(file).catch(() => null);
      if (!stats?.isFile() || stats.mtimeMs >= cutoff) continue;
      if (!dryRun) {
        try {
          await unlink(file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
      }
      removed.push(file);
    }
  }
  return removed;
}
