import { Router } from 'express';
import type { ModelRegistry, ModelVersion, RegisteredModel } from '@modelreg/core';
import { isRegistryError } from '@modelreg/core';
import type { RouteContext } from './context.js';
import { endpoint, ExperimentIds, runById } from './context.js';
import { invalidParameter, MlflowError } from './errors.js';
import type { Clause } from './filter.js';
import { matchNumber, matchString, parseFilter, unsupportedClause } from './filter.js';
import {
  decodeToken,
  encodeToken,
  keyValueList,
  optionalBoolean,
  optionalInteger,
  optionalString,
  paramsOf,
  requiredString,
  stringList,
} from './params.js';
import { fromMlflowExperimentId, mlflowStage, modelVersionView, registeredModelView } from './views.js';

const noSuchModel = (name: string): MlflowError =>
  new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
const noSuchVersion = (name: string, version: string): MlflowError =>
  new MlflowError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=${version}) not found`);

function versionNumber(p: Record<string, unknown>, field = 'version'): number {
  const raw = p[field];
  const s = typeof raw === 'number' ? String(raw) : raw;
  if (s === undefined || s === null || s === '')
    throw invalidParameter(`Missing value for required parameter '${field}'`);
  if (typeof s !== 'string' || !/^[1-9]\d{0,8}$/.test(s)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(raw)} for parameter '${field}' supplied: versions are positive integers`,
    );
  }
  return Number(s);
}

async function requireModel(registry: ModelRegistry, name: string): Promise<RegisteredModel> {
  const model = await registry.getModel(name);
  if (!model) throw noSuchModel(name);
  return model;
}

async function requireVersion(registry: ModelRegistry, name: string, version: number): Promise<ModelVersion> {
  await requireModel(registry, name);
  const v = await registry.getVersion(name, version);
  if (!v) throw noSuchVersion(name, String(version));
  return v;
}

/** Every registered model, in pages of 1000 from the store. */
async function allModels(registry: ModelRegistry): Promise<RegisteredModel[]> {
  const out: RegisteredModel[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await registry.listModels({ limit: 1000, offset });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** `runs:/<run_id>/<path>` or the run's `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path>`. */
function parseSource(source: string): { runId: string; path: string; experimentId?: string } {
  const runs = /^runs:\/([^/]+)\/(.+)$/.exec(source);
  if (runs) return { runId: runs[1]!, path: runs[2]!.replace(/\/+$/, '') };
  const proxied = /^mlflow-artifacts:\/(?:\/[^/]*\/)?([0-9]+)\/([^/]+)\/artifacts\/(.+)$/.exec(source);
  if (proxied)
    return { experimentId: proxied[1]!, runId: proxied[2]!, path: proxied[3]!.replace(/\/+$/, '') };
  throw invalidParameter(
    `Invalid model version source ${JSON.stringify(source)}: give runs:/<run_id>/<path> or mlflow-artifacts:/<experiment_id>/<run_id>/artifacts/<path> of a run on this server`,
  );
}

/** One version as MLflow shows it, its source under the run's proxied artifact root. */
async function versionView(
  registry: ModelRegistry,
  v: ModelVersion,
  ids: ExperimentIds,
): Promise<Record<string, unknown>> {
  let experiment: string | undefined;
  if (v.runId !== null) {
    const run = await registry.getRun(v.runId);
    if (run) experiment = await ids.of(run.experimentId);
  }
  return modelVersionView(v, registry.stages, experiment);
}

/** Per stage, the highest version in it (MLflow's latest_versions). */
async function latestVersions(
  registry: ModelRegistry,
  name: string,
  stages?: string[],
): Promise<ModelVersion[]> {
  const versions = await registry.listVersions(name);
  const wanted = stages && stages.length > 0 ? stages.map((s) => s.toLowerCase()) : undefined;
  const best = new Map<string, ModelVersion>();
  for (const v of versions) {
    const stage = mlflowStage(v.stage, registry.stages).toLowerCase();
    if (wanted && !wanted.includes(stage)) continue;
    const current = best.get(stage);
    if (!current || v.version > current.version) best.set(stage, v);
  }
  return [...best.values()].sort((a, b) => a.version - b.version);
}

async function modelView(
  registry: ModelRegistry,
  m: RegisteredModel,
  ids: ExperimentIds,
): Promise<Record<string, unknown>> {
  const latest = await latestVersions(registry, m.name);
  return registeredModelView(m, await Promise.all(latest.map((v) => versionView(registry, v, ids))));
}

function sorter<T>(
  orderBy: string[],
  fields: Record<string, (x: T) => string | number>,
  fallback: (a: T, b: T) => number,
): (a: T, b: T) => number {
  const keys = orderBy.map((raw) => {
    const m = /^\s*(?:attributes?\.)?([A-Za-z_]+)(?:\s+(asc|desc))?\s*$/i.exec(raw);
    const get = m ? fields[m[1]!.toLowerCase()] : undefined;
    if (!m || !get) {
      throw invalidParameter(
        `Invalid order_by clause ${JSON.stringify(raw)}: order by ${Object.keys(fields).join(', ')}`,
      );
    }
    const sign = m[2]?.toLowerCase() === 'desc' ? -1 : 1;
    return (a: T, b: T): number => {
      const x = get(a);
      const y = get(b);
      return (
        sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)))
      );
    };
  });
  keys.push(fallback);
  return (a, b) => {
    for (const k of keys) {
      const d = k(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };
}

function modelFilter(filter: string): (m: RegisteredModel) => boolean {
  const checks = parseFilter(filter).map((c: Clause) => {
    if (c.entity === 'tag') return (m: RegisteredModel) => matchString(m.tags[c.key], c, filter);
    if (c.entity === 'attribute' && c.key === 'name')
      return (m: RegisteredModel) => matchString(m.name, c, filter);
    throw unsupportedClause(c, filter, `registered models are searched by name and tags, not "${c.key}"`);
  });
  return (m) => checks.every((check) => check(m));
}

function versionFilter(filter: string): { name?: string; test: (v: ModelVersion) => boolean } {
  const clauses = parseFilter(filter);
  let name: string | undefined;
  const checks = clauses.map((c: Clause) => {
    if (c.entity === 'tag') return (v: ModelVersion) => matchString(v.tags[c.key], c, filter);
    if (c.entity === 'attribute') {
      switch (c.key) {
        case 'name':
          if (c.comparator === '=' && typeof c.value === 'string') name ??= c.value;
          return (v: ModelVersion) => matchString(v.name, c, filter);
        case 'run_id':
          return (v: ModelVersion) => matchString(v.runId ?? undefined, c, filter);
        case 'source_path':
          return (v: ModelVersion) => matchString(v.source, c, filter);
        case 'version_number':
          return (v: ModelVersion) => matchNumber(v.version, c, filter);
        case 'current_stage':
          return (v: ModelVersion) => matchString(v.stage, { ...c, value: lower(c.value) }, filter);
      }
    }
    throw unsupportedClause(
      c,
      filter,
      `model versions are searched by name, run_id, source_path, version_number, current_stage and tags, not "${c.key}"`,
    );
  });
  return { ...(name === undefined ? {} : { name }), test: (v) => checks.every((check) => check(v)) };
}

const lower = (v: Clause['value']): Clause['value'] =>
  typeof v === 'string' ? v.toLowerCase() : Array.isArray(v) ? v.map((s) => s.toLowerCase()) : v;

/** Registered models and model versions: MLflow's `model_registry.proto` (ModelRegistryService). */
export function modelRegistryRoutes(ctx: RouteContext): Router {
  const router = Router();
  const reg = ctx.registryOf;

  // ---- registered models ----
  endpoint(router, ['post'], '/registered-models/create', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    if (await registry.getModel(name)) {
      throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
    }
    const model = await registry.createModel(name, {
      description: optionalString(p, 'description') ?? '',
      tags: keyValueList(p, 'tags'),
    });
    return { registered_model: registeredModelView(model, []) };
  });

  endpoint(router, ['get'], '/registered-models/get', async (req, res) => {
    const registry = reg(req, res);
    const model = await requireModel(registry, requiredString(paramsOf(req), 'name'));
    return { registered_model: await modelView(registry, model, new ExperimentIds(registry)) };
  });

  endpoint(router, ['post'], '/registered-models/rename', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const newName = optionalString(p, 'new_name');
    if (!newName) throw invalidParameter('Registered model name cannot be empty.');
    await requireModel(registry, name);
    let model: RegisteredModel;
    try {
      model = await registry.renameModel(name, newName);
    } catch (e) {
      if (isRegistryError(e, 'ALREADY_EXISTS')) {
        throw new MlflowError(
          'RESOURCE_ALREADY_EXISTS',
          `Registered Model (name=${newName}) already exists.`,
        );
      }
      throw e;
    }
    return { registered_model: await modelView(registry, model, new ExperimentIds(registry)) };
  });

  endpoint(router, ['patch'], '/registered-models/update', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    await requireModel(registry, name);
    const description = optionalString(p, 'description');
    const model = await registry.updateModel(name, description === undefined ? {} : { description });
    return { registered_model: await modelView(registry, model, new ExperimentIds(registry)) };
  });

  endpoint(router, ['delete'], '/registered-models/delete', async (req, res) => {
    const registry = reg(req, res);
    const name = requiredString(paramsOf(req), 'name');
    await requireModel(registry, name);
    await registry.deleteModel(name);
    return {};
  });

  endpoint(router, ['get'], '/registered-models/search', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const filter = optionalString(p, 'filter') ?? '';
    const orderBy = stringList(p, 'order_by');
    const max = optionalInteger(p, 'max_results', { min: 1, max: 1000 }) ?? 100;
    const query = { filter, orderBy };
    const offset = decodeToken(optionalString(p, 'page_token'), query);
    const test = modelFilter(filter);
    const sorted = (await allModels(registry)).filter(test).sort(
      sorter<RegisteredModel>(
        orderBy,
        {
          name: (m) => m.name,
          timestamp: (m) => m.createdAt,
          creation_timestamp: (m) => m.createdAt,
          last_updated_timestamp: (m) => m.updatedAt,
        },
        (a, b) => a.name.localeCompare(b.name),
      ),
    );
    const ids = new ExperimentIds(registry);
    const page = await Promise.all(
      sorted.slice(offset, offset + max).map((m) => modelView(registry, m, ids)),
    );
    return {
      registered_models: page,
      ...(sorted.length > offset + max ? { next_page_token: encodeToken(offset + max, query) } : {}),
    };
  });

  endpoint(router, ['get', 'post'], '/registered-models/get-latest-versions', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    await requireModel(registry, name);
    const ids = new ExperimentIds(registry);
    const latest = await latestVersions(registry, name, stringList(p, 'stages'));
    return { model_versions: await Promise.all(latest.map((v) => versionView(registry, v, ids))) };
  });

  endpoint(router, ['post'], '/registered-models/set-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const key = requiredString(p, 'key');
    await requireModel(registry, name);
    await registry.updateModel(name, { tags: { [key]: optionalString(p, 'value') ?? '' } });
    return {};
  });

  endpoint(router, ['delete'], '/registered-models/delete-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const key = requiredString(p, 'key');
    const model = await requireModel(registry, name);
    if (model.tags[key] === undefined) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with key ${key} on registered model ${name}`);
    }
    await registry.updateModel(name, { tags: { [key]: null } });
    return {};
  });

  endpoint(router, ['post'], '/registered-models/alias', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const alias = requiredString(p, 'alias');
    const version = versionNumber(p);
    await requireVersion(registry, name, version);
    await registry.setAlias(name, alias, version);
    return {};
  });

  endpoint(router, ['delete'], '/registered-models/alias', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const alias = requiredString(p, 'alias');
    const model = await requireModel(registry, name);
    if (model.aliases[alias] === undefined) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
    }
    await registry.deleteAlias(name, alias);
    return {};
  });

  endpoint(router, ['get'], '/registered-models/alias', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const alias = requiredString(p, 'alias');
    const model = await requireModel(registry, name);
    const version = model.aliases[alias];
    if (version === undefined)
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
    const v = await requireVersion(registry, name, version);
    return { model_version: await versionView(registry, v, new ExperimentIds(registry)) };
  });

  // ---- model versions ----
  endpoint(router, ['post'], '/model-versions/create', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const source = parseSource(requiredString(p, 'source'));
    const runId = optionalString(p, 'run_id');
    if (runId && runId !== source.runId) {
      throw invalidParameter(`run_id ${runId} is not the run of the source (${source.runId})`);
    }
    await requireModel(registry, name);
    const run = await runById(registry, source.runId);
    if (source.experimentId !== undefined) {
      const ref = fromMlflowExperimentId(source.experimentId, 'source');
      const ids = new ExperimentIds(registry);
      if (ref !== 'default' && (await ids.of(run.experimentId)) !== source.experimentId) {
        throw invalidParameter(`Run ${run.id} is not in experiment ${source.experimentId}`);
      }
    }
    const version = await registry.registerModel(name, {
      runId: run.id,
      path: source.path,
      description: optionalString(p, 'description') ?? '',
      tags: keyValueList(p, 'tags'),
    });
    return { model_version: await versionView(registry, version, new ExperimentIds(registry)) };
  });

  endpoint(router, ['get'], '/model-versions/get', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const v = await requireVersion(registry, requiredString(p, 'name'), versionNumber(p));
    return { model_version: await versionView(registry, v, new ExperimentIds(registry)) };
  });

  endpoint(router, ['patch'], '/model-versions/update', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const version = versionNumber(p);
    await requireVersion(registry, name, version);
    const description = optionalString(p, 'description');
    const v = await registry.updateVersion(name, version, description === undefined ? {} : { description });
    return { model_version: await versionView(registry, v, new ExperimentIds(registry)) };
  });

  endpoint(router, ['delete'], '/model-versions/delete', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const version = versionNumber(p);
    await requireVersion(registry, name, version);
    await registry.deleteVersion(name, version);
    return {};
  });

  endpoint(router, ['get'], '/model-versions/search', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const filter = optionalString(p, 'filter') ?? '';
    const orderBy = stringList(p, 'order_by');
    const max = optionalInteger(p, 'max_results', { min: 1, max: 200_000 }) ?? 10_000;
    const query = { filter, orderBy };
    const offset = decodeToken(optionalString(p, 'page_token'), query);
    const { name, test } = versionFilter(filter);
    const names =
      name !== undefined
        ? (await registry.getModel(name))
          ? [name]
          : []
        : (await allModels(registry)).map((m) => m.name);
    const versions: ModelVersion[] = [];
    for (const n of names) versions.push(...(await registry.listVersions(n)).filter(test));
    versions.sort(
      sorter<ModelVersion>(
        orderBy,
        {
          name: (v) => v.name,
          version_number: (v) => v.version,
          creation_timestamp: (v) => v.createdAt,
          timestamp: (v) => v.createdAt,
          last_updated_timestamp: (v) => v.updatedAt,
        },
        (a, b) => a.name.localeCompare(b.name) || b.version - a.version,
      ),
    );
    const ids = new ExperimentIds(registry);
    const page = await Promise.all(
      versions.slice(offset, offset + max).map((v) => versionView(registry, v, ids)),
    );
    return {
      model_versions: page,
      ...(versions.length > offset + max ? { next_page_token: encodeToken(offset + max, query) } : {}),
    };
  });

  endpoint(router, ['post'], '/model-versions/transition-stage', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const version = versionNumber(p);
    const stage = requiredString(p, 'stage');
    const archive = optionalBoolean(p, 'archive_existing_versions') ?? false;
    await requireVersion(registry, name, version);
    const target = registry.stages.find((s) => s.toLowerCase() === stage.toLowerCase());
    if (!target) {
      throw invalidParameter(
        `Invalid Model Version stage: ${stage}. Value must be one of ${registry.stages.map((s) => mlflowStage(s, registry.stages)).join(', ')}.`,
      );
    }
    const moved = await registry.transitionStage(name, version, target, { archiveExisting: archive });
    return { model_version: await versionView(registry, moved, new ExperimentIds(registry)) };
  });

  endpoint(router, ['get'], '/model-versions/get-download-uri', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const v = await requireVersion(registry, requiredString(p, 'name'), versionNumber(p));
    const view = await versionView(registry, v, new ExperimentIds(registry));
    return { artifact_uri: view['source'] };
  });

  endpoint(router, ['post'], '/model-versions/set-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const version = versionNumber(p);
    const key = requiredString(p, 'key');
    await requireVersion(registry, name, version);
    await registry.updateVersion(name, version, { tags: { [key]: optionalString(p, 'value') ?? '' } });
    return {};
  });

  endpoint(router, ['delete'], '/model-versions/delete-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    const version = versionNumber(p);
    const key = requiredString(p, 'key');
    const v = await requireVersion(registry, name, version);
    if (v.tags[key] === undefined) {
      throw new MlflowError(
        'RESOURCE_DOES_NOT_EXIST',
        `No tag with key ${key} on model version ${name} ${version}`,
      );
    }
    await registry.updateVersion(name, version, { tags: { [key]: null } });
    return {};
  });

  return router;
}
