import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import type { FileRecord, ModelVersion } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ModelRegistry } from './model-registry.js';

const where = 'copyModelVersion';

export const copyModelVersionOptionsSchema = z
  .object({
    /** The model in the source registry. */
    name: nameSchema,
    version: versionNumberSchema,
    /** The model name in the target registry. Default: the same name. */
    targetName: nameSchema.optional(),
    /** A stage to put the new version in (in the target's stage list). Default: the target's first stage. */
    stage: z.string().optional(),
    comment: z.string().max(5000).default(''),
  })
  .strict();
export type CopyModelVersionOptions = z.input<typeof copyModelVersionOptionsSchema>;

export interface CopyModelVersionResult {
  /** The new version in the target registry (its number is the target's next one). */
  version: ModelVersion;
  /** Files copied, with the sha256 each had in the source and still has in the target. */
  files: FileRecord[];
}

/**
 * Copies one version — its files (byte for byte, sha256 verified), its run (params, the full metric
 * history, tags), its description and tags, and its stage/alias history — from one registry into
 * another: how a team promotes from a dev registry (SQLite + files) to a production one (Postgres +
 * S3). The run keeps its id, so lineage survives; copying a second version of the same run reuses
 * it. The source history is stored as the run artifact `modelreg/history/<name>-v<version>.json` and
 * the version is tagged `modelreg.source`. Files are written before any target metadata; a failure
 * leaves at most unreferenced files, which `gc()` collects.
 */
export async function copyModelVersion(
  source: ModelRegistry,
  target: ModelRegistry,
  options: CopyModelVersionOptions,
): Promise<CopyModelVersionResult> {
  const opts = parseArg(copyModelVersionOptionsSchema, options, 'copy options', where);
  const targetName = opts.targetName ?? opts.name;
  const stage =
    opts.stage === undefined
      ? undefined
      : target.stages.find((s) => s.toLowerCase() === opts.stage!.toLowerCase());
  if (opts.stage !== undefined && stage === undefined) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `stage "${opts.stage}" is not a stage of the target registry: ${target.stages.join(', ')}`,
      { where },
    );
  }
  const src = await source.getVersion(opts.name, opts.version);
  if (!src)
    throw new RegistryError(
      'NOT_FOUND',
      `model "${opts.name}" has no version ${opts.version} in the source registry`,
      { where },
    );
  if (!src.runId)
    throw new RegistryError(
      'UNSUPPORTED',
      `model "${opts.name}" version ${opts.version} has no run to copy`,
      { where },
    );
  const run = await source.getRun(src.runId);
  if (!run)
    throw new RegistryError(
      'NOT_FOUND',
      `run "${src.runId}" of the version is missing in the source registry`,
      { where },
    );
  const modelPath = src.source.split('/').slice(2).join('/') || 'model';
  const history = await source.getStageHistory(opts.name, { version: opts.version });
  const experiment = (await source.stores.metadata.getExperiment(run.experimentId))?.name ?? 'Default';

  const from = source.stores;
  const to = target.stores;
  // 1. Bytes first, verified: the same key layout, so the same sha256 must come out.
  const copied: FileRecord[] = [];
  for (const file of src.files) {
    const stream = await from.artifacts.getStream(file.key);
    if (!stream)
      throw new RegistryError(
        'INTEGRITY',
        `file "${file.path}" (key ${file.key}) is missing in the source registry`,
        { where },
      );
    const key = `runs/${run.id}/artifacts/${modelPath}/${file.path}`;
    const put = await to.artifacts.put(key, stream);
    if (put.sha256 !== file.sha256 || put.size !== file.size) {
      throw new RegistryError(
        'INTEGRITY',
        `file "${file.path}" arrived with sha256 ${put.sha256.slice(0, 16)}…, expected ${file.sha256.slice(0, 16)}…`,
        { where },
      );
    }
    copied.push({ path: `${modelPath}/${file.path}`, key, sha256: file.sha256, size: file.size });
  }
  const historyBody = JSON.stringify({ source: `models:/${opts.name}/${opts.version}`, history }, null, 2);

  // 2. The run (kept id), its params, metrics and tags, then the file records.
  if (!(await to.metadata.getRun(run.id))) {
    let exp = await to.metadata.getExperimentByName(experiment);
    if (!exp) {
      const created = {
        id: randomUUID().replace(/-/g, ''),
        name: experiment,
        tags: {},
        createdAt: run.startTime,
      };
      exp = await to.metadata.createExperiment(created).catch(async (e: unknown) => {
        const raced = await to.metadata.getExperimentByName(experiment);
        if (raced) return raced;
        throw e;
      });
    }
    await to.metadata.createRun({
      id: run.id,
      experimentId: exp.id,
      name: run.name,
      parentRunId: null,
      startTime: run.startTime,
      tags: run.tags,
    });
    if (Object.keys(run.params).length > 0) await to.metadata.logParams(run.id, run.params);
    for (const key of Object.keys(run.latestMetrics)) {
      await to.metadata.logMetrics(run.id, await source.getMetricHistory(run.id, key));
    }
    if (run.status !== 'running') await to.metadata.endRun(run.id, run.status, run.endTime ?? run.startTime);
  }
  const existing = new Map((await to.metadata.listRunArtifacts(run.id)).map((f) => [f.path, f]));
  const fresh = copied.filter((f) => existing.get(f.path)?.sha256 !== f.sha256);
  if (fresh.length > 0) await to.metadata.recordRunArtifacts(run.id, fresh);
  const historyPath = `modelreg/history/${opts.name}-v${opts.version}.json`;
  if (!existing.has(historyPath)) {
    const handle = await target.openRun(run.id);
    await handle.logArtifact(historyPath, historyBody);
  }

  // 3. The version.
  let version = await target.registerModel(targetName, {
    runId: run.id,
    path: modelPath,
    description: src.description,
    tags: { ...src.tags, 'modelreg.source': `models:/${opts.name}/${opts.version}` },
  });
  if (stage !== undefined && stage !== version.stage) {
    version = await target.transitionStage(targetName, version.version, stage, {
      comment: opts.comment || `copied from models:/${opts.name}/${opts.version}`,
    });
  }
  return { version, files: copied };
}
