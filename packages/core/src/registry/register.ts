import { randomUUID } from 'node:crypto';
import type { FileRecord, ModelVersion } from '../domain/types.js';
import type { ArtifactBody } from '../stores/artifact-store.js';
import { assertArtifactKey } from '../stores/keys.js';
import type { NewRunRecord } from '../stores/metadata-store.js';
import type { RegistryContext } from './context.js';

/** What one registration writes, in one `createVersion` transaction of the metadata store. */
export interface Registration {
  name: string;
  runId: string;
  /** Folder of the model inside the run's artifacts (`model`). */
  path: string;
  /** The version's files, with paths relative to `path`. */
  files: FileRecord[];
  description: string;
  tags: Record<string, string>;
  /** A configured stage (canonical spelling); default the first. */
  stage?: string;
  archiveExisting?: boolean;
  alias?: string;
  comment?: string;
  /** A finished run to create with the version (train, copy), when it does not exist yet. */
  run?: NewRunRecord;
  /** Run files to record with the version (the run's model folder and anything else written for it). */
  runArtifacts?: FileRecord[];
}

export const newId = (): string => randomUUID().replace(/-/g, '');

/**
 * Creates the version with its model (when missing), stage, archiving, alias and tags, and the run
 * records given, in one metadata transaction: a failure leaves no part of it.
 */
export async function registerVersion(ctx: RegistryContext, r: Registration): Promise<ModelVersion> {
  const first = ctx.stages[0]!;
  const stage = r.stage ?? first;
  const placed = stage !== first || r.alias !== undefined;
  const version = await ctx.metadata.createVersion({
    name: r.name,
    source: `runs:/${r.runId}/${r.path}`,
    runId: r.runId,
    files: r.files,
    description: r.description,
    tags: r.tags,
    stage,
    createdAt: ctx.now(),
    createModel: true,
    ...(placed
      ? {
          placement: {
            fromStage: first,
            ...(r.archiveExisting ? { archiveTo: ctx.stages[ctx.stages.length - 1]! } : {}),
            ...(r.alias !== undefined ? { alias: r.alias } : {}),
            actor: ctx.actor,
            comment: r.comment ?? '',
          },
        }
      : {}),
    ...(r.run ? { run: r.run } : {}),
    ...(r.runArtifacts?.length ? { runArtifacts: r.runArtifacts } : {}),
  });
  ctx.changed();
  return version;
}

/**
 * Writes files under `runs/<runId>/artifacts/<path>` without recording them: the caller records them
 * in the metadata transaction that makes them reachable (until then they are gc's to collect).
 */
export async function putRunFiles(
  ctx: RegistryContext,
  runId: string,
  files: { path: string; body: ArtifactBody }[],
): Promise<FileRecord[]> {
  for (const f of files) assertArtifactKey(f.path, 'train');
  const records: FileRecord[] = [];
  for (const f of files) {
    const key = `runs/${runId}/artifacts/${f.path}`;
    const { sha256, size } = await ctx.artifacts.put(key, f.body);
    records.push({ path: f.path, key, sha256, size });
  }
  return records;
}
