import { lstat, readdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The folder where uploads are spooled before they reach the artifact store: dataset uploads of the
 * catalog, and the Express server's multipart bodies. It holds nothing else, so gc may delete any
 * file in it older than its grace period: that is a spool file whose process died. One folder per
 * OS user (`$TMPDIR/modelreg-spool-<uid>`), created on first use.
 */
export function defaultSpoolDir(): string {
  return path.join(tmpdir(), `modelreg-spool-${process.getuid?.() ?? 'user'}`);
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
