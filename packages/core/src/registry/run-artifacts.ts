import type { FileRecord } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ArtifactBody } from '../stores/artifact-store.js';
import { assertArtifactKey } from '../stores/keys.js';
import type { RegistryContext } from './context.js';

const where = 'runs';

function runKey(runId: string, path: string): string {
  return `runs/${runId}/artifacts/${path}`;
}

/** Writes files for a run, then records them all in one metadata call. Keys are checked before any write. */
export async function logArtifacts(
  ctx: RegistryContext,
  runId: string,
  files: { path: string; body: ArtifactBody }[],
): Promise<FileRecord[]> {
  for (const f of files) assertArtifactKey(f.path, where);
  const run = await ctx.metadata.getRun(runId);
  if (!run) throw new RegistryError('NOT_FOUND', `run "${runId}" does not exist`, { where });
  const existing = new Set((await ctx.metadata.listRunArtifacts(runId)).map((f) => f.path));
  for (const f of files) {
    if (existing.has(f.path)) {
      throw new RegistryError('ALREADY_EXISTS', `run "${runId}" already has an artifact at "${f.path}"`, {
        where,
      });
    }
  }
  const records: FileRecord[] = [];
  for (const f of files) {
    const key = runKey(runId, f.path);
    const { sha256, size } = await ctx.artifacts.put(key, f.body);
    records.push({ path: f.path, key, sha256, size });
  }
  await ctx.metadata.recordRunArtifacts(runId, records);
  return records;
}
