import { parseModelUri } from '../domain/uri.js';
import type { ModelVersion } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ResolvedUri } from '../serving/ports.js';

export type { ResolvedUri };
import type { RegistryContext } from './context.js';
import { canonicalStage } from './models.js';

const where = 'resolve';

/** One store read per URI: the model's existence and the picked version come back together. */
async function resolveVersion(ctx: RegistryContext, uri: string): Promise<ModelVersion> {
  const parsed = parseModelUri(uri);
  if (parsed.kind !== 'model') {
    throw new RegistryError('INVALID_ARGUMENT', `"${uri}" is not a models:/ URI`, { where });
  }
  const { name, selector } = parsed;
  const stage = selector.type === 'stage' ? canonicalStage(ctx, selector.stage) : undefined;
  const found = await ctx.metadata.resolveVersion(
    name,
    stage === undefined ? selector : { type: 'stage', stage },
  );
  if (!found) throw new RegistryError('NOT_FOUND', `model "${name}" does not exist`, { where: 'registry' });
  if (found.version) return found.version;
  switch (selector.type) {
    case 'version':
      throw new RegistryError('NOT_FOUND', `model "${name}" has no version ${selector.version}`, {
        where: 'registry',
      });
    case 'latest':
      throw new RegistryError('NOT_FOUND', `model "${name}" has no versions`, { where });
    case 'stage':
      throw new RegistryError('NOT_FOUND', `model "${name}" has no version in stage "${stage}"`, { where });
    case 'alias':
      throw new RegistryError('NOT_FOUND', `model "${name}" has no alias "${selector.alias}"`, { where });
  }
}

/**
 * Resolves `models:/name/N`, `models:/name/latest`, `models:/name/<stage>` (the highest version in
 * that stage), `models:/name@alias` and `runs:/<runId>/<path>` to the files they point at now.
 */
export async function resolveUri(ctx: RegistryContext, uri: string): Promise<ResolvedUri> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === 'run') {
    const run = await ctx.metadata.getRun(parsed.runId);
    if (!run) throw new RegistryError('NOT_FOUND', `run "${parsed.runId}" does not exist`, { where });
    const recorded = await ctx.metadata.listRunArtifacts(run.id, `${parsed.path}/`);
    if (recorded.length === 0) {
      throw new RegistryError('NOT_FOUND', `run "${run.id}" has no artifacts under "${parsed.path}/"`, {
        where,
      });
    }
    const files = recorded.map((f) => ({ ...f, path: f.path.slice(parsed.path.length + 1) }));
    return { uri, modelVersion: null, runId: run.id, path: parsed.path, files };
  }
  const version = await resolveVersion(ctx, uri);
  const path = version.source.startsWith('runs:/') ? version.source.split('/').slice(2).join('/') : 'model';
  return { uri, modelVersion: version, runId: version.runId, path, files: version.files };
}
