import { createHash } from 'node:crypto';
import { z } from 'zod';
import { aliasSchema, nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import type { FileRecord, MetricPoint, ModelVersion } from '../domain/types.js';
import { formatModelUri } from '../domain/uri.js';
import { RegistryError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { getStageHistory, getVersion } from './models.js';
import { newId, registerVersion } from './register.js';
import { authorize } from './access.js';

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
    /** Move the target's other versions of that stage to its last stage, in the same transaction. */
    archiveExisting: z.boolean().default(false),
    /** An alias to point at the new version in the target, in the same transaction. */
    alias: aliasSchema.optional(),
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
 * it, and reuses the files it already records with the same digest. The source history is stored as
 * the run artifact `modelreg/history/<name>-v<version>.json` and the version is tagged `modelreg.source`.
 *
 * Safe against a damaged source or a failure at any step: files are written under fresh keys
 * (`runs/<runId>/copies/<copyId>/<path>`, never a key the target's metadata references) and verified
 * before any metadata points at them; then one metadata transaction creates the run (when missing),
 * records the files, and creates the version with its model, stage and alias. A failure leaves the
 * target's metadata exactly as it was; the files this copy wrote are deleted, and any left over
 * (a crash) are unreferenced, for `gc()`.
 *
 * `from` and `to` are the contexts of the two registries (`target.copyVersionFrom(source)` passes them).
 */
export async function copyVersion(
  from: RegistryContext,
  to: RegistryContext,
  options: CopyModelVersionOptions,
): Promise<CopyModelVersionResult> {
  const opts = parseArg(copyModelVersionOptionsSchema, options, 'copy options', where);
  const targetName = opts.targetName ?? opts.name;
  authorize(to.principal, 'edit', 'copy a version', targetName);
  const stage =
    opts.stage === undefined
      ? undefined
      : to.stages.find((s) => s.toLowerCase() === opts.stage!.toLowerCase());
  if (opts.stage !== undefined && stage === undefined) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `stage "${opts.stage}" is not a stage of the target registry: ${to.stages.join(', ')}`,
      { where },
    );
  }
  const src = await getVersion(from, opts.name, opts.version);
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
  const run = await from.metadata.getRun(src.runId);
  if (!run)
    throw new RegistryError(
      'NOT_FOUND',
      `run "${src.runId}" of the version is missing in the source registry`,
      { where },
    );
  const modelPath = src.source.split('/').slice(2).join('/') || 'model';
  const history = await getStageHistory(from, opts.name, { version: opts.version });
  const experiment = (await from.metadata.getExperiment(run.experimentId))?.name ?? 'Default';

  const targetRun = await to.metadata.getRun(run.id);
  const recorded = new Map(
    targetRun ? (await to.metadata.listRunArtifacts(run.id)).map((f) => [f.path, f]) : [],
  );
  const copyId = newId();
  const written: string[] = [];
  try {
    // 1. Bytes, verified before any metadata points at them, under keys no metadata references:
    //    `runs/<runId>/copies/<copyId>/<path>`. A file the target's run already records with the same
    //    digest is reused (the source bytes are still verified, so a damaged source is refused).
    const runFiles: FileRecord[] = [];
    const versionFiles: FileRecord[] = [];
    for (const file of src.files) {
      const path = `${modelPath}/${file.path}`;
      const have = recorded.get(path);
      if (have && (have.sha256 !== file.sha256 || have.size !== file.size)) {
        throw new RegistryError(
          'CONFLICT',
          `run "${run.id}" in the target registry already has "${path}" with other content (sha256 ${have.sha256.slice(0, 16)}…); nothing was copied`,
          { where },
        );
      }
      const stream = await from.artifacts.getStream(file.key);
      if (!stream)
        throw new RegistryError(
          'INTEGRITY',
          `file "${file.path}" (key ${file.key}) of models:/${opts.name}/${opts.version} is missing in the source registry; nothing was copied`,
          { where },
        );
      let got: { sha256: string; size: number };
      let key: string;
      if (have) {
        got = await digest(stream);
        key = have.key;
      } else {
        key = `runs/${run.id}/copies/${copyId}/${path}`;
        written.push(key);
        got = await to.artifacts.put(key, stream);
      }
      if (got.sha256 !== file.sha256 || got.size !== file.size) {
        throw new RegistryError(
          'INTEGRITY',
          `file "${file.path}" of models:/${opts.name}/${opts.version} in the source registry has sha256 ${got.sha256.slice(0, 16)}… and ${got.size} bytes, but its version records ${file.sha256.slice(0, 16)}… and ${file.size} bytes; nothing was copied`,
          { where },
        );
      }
      const record = { path, key, sha256: file.sha256, size: file.size };
      if (!have) runFiles.push(record);
      versionFiles.push({ ...record, path: file.path });
    }
    const historyPath = `modelreg/history/${opts.name}-v${opts.version}.json`;
    if (!recorded.has(historyPath)) {
      const body = JSON.stringify({ source: formatModelUri(opts.name, opts.version), history }, null, 2);
      const key = `runs/${run.id}/copies/${copyId}/${historyPath}`;
      written.push(key);
      runFiles.push({ path: historyPath, key, ...(await to.artifacts.put(key, body)) });
    }

    // 2. One metadata transaction: the run (when the target lacks it) with its params, full metric
    //    history and end state, the new files, the model (when missing), the version, its stage and tags.
    const metrics: MetricPoint[] = [];
    if (!targetRun) {
      for (const key of Object.keys(run.latestMetrics)) {
        metrics.push(...(await from.metadata.getMetricHistory(run.id, key)));
      }
    }
    const version = await registerVersion(to, {
      name: targetName,
      runId: run.id,
      path: modelPath,
      files: versionFiles,
      description: src.description,
      tags: { ...src.tags, 'modelreg.source': formatModelUri(opts.name, opts.version) },
      ...(stage !== undefined ? { stage } : {}),
      archiveExisting: opts.archiveExisting,
      ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
      comment: opts.comment || `copied from ${formatModelUri(opts.name, opts.version)}`,
      ...(targetRun
        ? {}
        : {
            run: {
              experiment: { id: newId(), name: experiment, tags: {}, createdAt: run.startTime },
              run: {
                id: run.id,
                name: run.name,
                parentRunId: null,
                startTime: run.startTime,
                tags: run.tags,
              },
              params: run.params,
              metrics,
              status: run.status,
              endTime: run.endTime,
            },
          }),
      runArtifacts: runFiles,
    });
    return { version, files: versionFiles };
  } catch (e) {
    // Only keys this copy wrote (its copy id makes them unique); what is left is unreferenced, for gc.
    for (const key of written) await to.artifacts.delete(key).catch(() => undefined);
    throw e;
  }
}

async function digest(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}
