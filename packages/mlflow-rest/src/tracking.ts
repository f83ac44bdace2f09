import { Router } from 'express';
import type { Experiment, MetricPoint, ModelRegistry, Run } from '@modelreg/core';
import { isRegistryError } from '@modelreg/core';
import type { RouteContext } from './context.js';
import {
  activeRunById,
  endpoint,
  experimentById,
  ExperimentIds,
  noSuchExperiment,
  requireActiveExperiment,
  runById,
} from './context.js';
import { invalidParameter, MlflowError } from './errors.js';
import { datasetInputsOf, logDatasetInputs, parseDatasetInputs } from './inputs.js';
import { matchNumber, matchString, parseFilter, unsupportedClause } from './filter.js';
import {
  decodeToken,
  encodeToken,
  keyValueList,
  optionalInteger,
  optionalString,
  paramsOf,
  requiredNumber,
  requiredString,
  runIdOf,
  stringList,
  viewTypeOf,
} from './params.js';
import { compileRunFilter, compileRunOrderBy } from './run-search.js';
import {
  DEFAULT_EXPERIMENT,
  experimentView,
  fromMlflowExperimentId,
  latestPoint,
  runInfoView,
  runView,
  toMlflowExperimentId,
} from './views.js';

const LOG_MODEL_HISTORY = 'mlflow.log-model.history';

/** MLflow's log-batch limits (the REST reference, "Log Batch"). */
export const batchLimits = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

/** A write-once param logged again with another value is INVALID_PARAMETER_VALUE in MLflow. */
async function asMlflowParamError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (isRegistryError(e, 'CONFLICT')) throw invalidParameter(e.message);
    throw e;
  }
}

async function fullRunView(
  registry: ModelRegistry,
  run: Run,
  ids: ExperimentIds,
): Promise<Record<string, unknown>> {
  const keys = Object.keys(run.latestMetrics);
  const histories = await Promise.all(keys.map((k) => registry.stores.metadata.getMetricHistory(run.id, k)));
  const latest = new Map<string, MetricPoint>();
  keys.forEach((k, i) => {
    const p = latestPoint(histories[i]!);
    if (p) latest.set(k, p);
  });
  return runView(run, await ids.of(run.experimentId), latest, await datasetInputsOf(registry, run));
}

function experimentMatches(filter: string): (e: Experiment) => boolean {
  const checks = parseFilter(filter).map((c) => {
    if (c.entity === 'tag') return (e: Experiment) => matchString(e.tags[c.key], c, filter);
    if (c.entity === 'attribute' && c.key === 'name')
      return (e: Experiment) => matchString(e.name, c, filter);
    if (c.entity === 'attribute' && (c.key === 'creation_time' || c.key === 'last_update_time')) {
      return (e: Experiment) => matchNumber(e.createdAt, c, filter);
    }
    throw unsupportedClause(
      c,
      filter,
      `experiments are searched by name, tags, creation_time and last_update_time, not "${c.key}"`,
    );
  });
  return (e) => checks.every((check) => check(e));
}

function experimentOrder(orderBy: string[]): (a: Experiment, b: Experiment) => number {
  const keys = orderBy.map((raw) => {
    const m =
      /^\s*(?:attributes?\.)?(name|creation_time|last_update_time|experiment_id)(?:\s+(asc|desc))?\s*$/i.exec(
        raw,
      );
    if (!m)
      throw invalidParameter(
        `Invalid order_by clause ${JSON.stringify(raw)}: experiments are ordered by name, creation_time, last_update_time or experiment_id`,
      );
    const sign = m[2]?.toLowerCase() === 'desc' ? -1 : 1;
    const field = m[1]!.toLowerCase();
    return (a: Experiment, b: Experiment): number =>
      sign *
      (field === 'name'
        ? a.name.localeCompare(b.name)
        : field === 'experiment_id'
          ? a.id.localeCompare(b.id)
          : a.createdAt - b.createdAt);
  });
  // MLflow's default: newest first, then by id.
  keys.push((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  return (a, b) => {
    for (const k of keys) {
      const d = k(a, b);
      if (d !== 0) return d;
    }
    return 0;
  };
}

/** Experiments, runs and metrics: MLflow's `service.proto` (MlflowService) tracking endpoints. */
export function trackingRoutes(ctx: RouteContext): Router {
  const router = Router();
  const reg = ctx.registryOf;

  // ---- experiments ----
  endpoint(router, ['post'], '/experiments/create', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const name = requiredString(p, 'name');
    if (optionalString(p, 'artifact_location')) {
      throw invalidParameter(
        'artifact_location cannot be set: this server stores artifacts in its own artifact store',
      );
    }
    const tags = keyValueList(p, 'tags');
    try {
      return { experiment_id: toMlflowExperimentId(await registry.createExperiment(name, { tags })) };
    } catch (e) {
      if (isRegistryError(e, 'ALREADY_EXISTS')) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists.`);
      }
      throw e;
    }
  });

  endpoint(router, ['get'], '/experiments/get', async (req, res) => {
    const experiment = await experimentById(reg(req, res), requiredString(paramsOf(req), 'experiment_id'));
    return { experiment: experimentView(experiment) };
  });

  endpoint(router, ['get'], '/experiments/get-by-name', async (req, res) => {
    const name = requiredString(paramsOf(req), 'experiment_name');
    const found = await reg(req, res).stores.metadata.getExperimentByName(name);
    if (!found)
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name ${name}`);
    return { experiment: experimentView(found) };
  });

  endpoint(router, ['get', 'post'], '/experiments/search', async (req, res) => {
    const p = paramsOf(req);
    const filter = optionalString(p, 'filter') ?? '';
    const orderBy = stringList(p, 'order_by');
    const max = optionalInteger(p, 'max_results', { min: 1, max: 50_000 }) ?? 1000;
    const lifecycle = viewTypeOf(p, 'view_type');
    const query = { filter, orderBy, lifecycle };
    const offset = decodeToken(optionalString(p, 'page_token'), query);
    const matches = experimentMatches(filter);
    const sorted = (await reg(req, res).listExperiments({ lifecycle }))
      .filter(matches)
      .sort(experimentOrder(orderBy));
    const page = sorted.slice(offset, offset + max);
    return {
      experiments: page.map(experimentView),
      ...(sorted.length > offset + max ? { next_page_token: encodeToken(offset + max, query) } : {}),
    };
  });

  endpoint(router, ['get'], '/experiments/list', async (req, res) => {
    const lifecycle = viewTypeOf(paramsOf(req), 'view_type');
    const all = await reg(req, res).listExperiments({ lifecycle });
    return { experiments: all.sort(experimentOrder([])).map(experimentView) };
  });

  endpoint(router, ['post'], '/experiments/update', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const experiment = await experimentById(registry, requiredString(p, 'experiment_id'));
    const newName = optionalString(p, 'new_name');
    if (!newName || newName === experiment.name) return {};
    if (experiment.deletedAt !== null) {
      throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
    }
    // Experiment 0 is the one named Default: its id follows the name, so the name stays.
    if (experiment.name === DEFAULT_EXPERIMENT || newName === DEFAULT_EXPERIMENT) {
      throw invalidParameter(
        `Experiment 0 is named ${DEFAULT_EXPERIMENT} on this server: it cannot be renamed, nor can another experiment take its name`,
      );
    }
    try {
      await registry.updateExperiment({ id: experiment.id }, { name: newName });
    } catch (e) {
      if (isRegistryError(e, 'ALREADY_EXISTS')) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists.`);
      }
      throw e;
    }
    return {};
  });

  endpoint(router, ['post'], '/experiments/delete', async (req, res) => {
    const registry = reg(req, res);
    const id = requiredString(paramsOf(req), 'experiment_id');
    const experiment = await experimentById(registry, id);
    // MLflow looks the experiment up among the active ones: a deleted one does not exist here.
    if (experiment.deletedAt !== null) throw noSuchExperiment(id);
    await registry.deleteExperiment({ id: experiment.id });
    return {};
  });

  endpoint(router, ['post'], '/experiments/restore', async (req, res) => {
    const registry = reg(req, res);
    const id = requiredString(paramsOf(req), 'experiment_id');
    const experiment = await experimentById(registry, id);
    if (experiment.deletedAt === null) throw noSuchExperiment(id);
    await registry.restoreExperiment({ id: experiment.id });
    return {};
  });

  endpoint(router, ['post'], '/experiments/set-experiment-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const experiment = await experimentById(registry, requiredString(p, 'experiment_id'));
    const key = requiredString(p, 'key');
    const value = optionalString(p, 'value') ?? '';
    requireActiveExperiment(experiment);
    await registry.updateExperiment({ id: experiment.id }, { tags: { [key]: value } });
    return {};
  });

  endpoint(router, ['post'], '/experiments/delete-experiment-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const id = requiredString(p, 'experiment_id');
    const experiment = await experimentById(registry, id);
    const key = requiredString(p, 'key');
    requireActiveExperiment(experiment);
    if (!Object.hasOwn(experiment.tags, key)) {
      throw new MlflowError(
        'RESOURCE_DOES_NOT_EXIST',
        `No tag with name: ${key} in experiment with id ${id}`,
      );
    }
    await registry.updateExperiment({ id: experiment.id }, { tags: { [key]: null } });
    return {};
  });

  // ---- runs ----
  endpoint(router, ['post'], '/runs/create', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const experiment = requireActiveExperiment(
      await experimentById(registry, p['experiment_id'] ?? '0', { create: true }),
    );
    const tags = keyValueList(p, 'tags');
    const userId = optionalString(p, 'user_id');
    if (userId && tags['mlflow.user'] === undefined) tags['mlflow.user'] = userId;
    const name = optionalString(p, 'run_name') || tags['mlflow.runName'];
    if (name && tags['mlflow.runName'] === undefined) tags['mlflow.runName'] = name;
    const handle = await registry.startRun({ experiment: experiment.name, ...(name ? { name } : {}), tags });
    const run = await handle.info();
    return { run: runView(run, toMlflowExperimentId(experiment), new Map()) };
  });

  endpoint(router, ['get'], '/runs/get', async (req, res) => {
    const registry = reg(req, res);
    const run = await runById(registry, runIdOf(paramsOf(req)));
    return { run: await fullRunView(registry, run, new ExperimentIds(registry)) };
  });

  endpoint(router, ['post'], '/runs/update', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    let run = await activeRunById(registry, runId);
    const status = optionalString(p, 'status');
    const name = optionalString(p, 'run_name');
    if (name) await (await registry.openRun(runId)).setTag('mlflow.runName', name);
    if (status !== undefined) {
      const to = status.toLowerCase();
      if (!['running', 'scheduled', 'finished', 'failed', 'killed'].includes(to)) {
        throw invalidParameter(`Invalid value ${JSON.stringify(status)} for parameter 'status' supplied`);
      }
      if (to === 'finished' || to === 'failed' || to === 'killed') {
        if (run.status === 'running') await (await registry.openRun(runId)).end(to);
        else if (run.status !== to) {
          throw new MlflowError(
            'INVALID_PARAMETER_VALUE',
            `Run ${runId} has already ended as ${run.status.toUpperCase()}; it cannot become ${status}`,
          );
        }
      } else if (run.status !== 'running') {
        throw new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `Run ${runId} has ended; modelreg runs cannot be restarted`,
        );
      }
    }
    run = await runById(registry, runId);
    return { run_info: runInfoView(run, await new ExperimentIds(registry).of(run.experimentId)) };
  });

  // MLflow's delete and restore are idempotent: a deleted run deleted again stays as it is.
  endpoint(router, ['post'], '/runs/delete', async (req, res) => {
    const registry = reg(req, res);
    const run = await runById(registry, requiredString(paramsOf(req), 'run_id'));
    if (run.deletedAt === null) await registry.deleteRun(run.id);
    return {};
  });

  endpoint(router, ['post'], '/runs/restore', async (req, res) => {
    const registry = reg(req, res);
    const run = await runById(registry, requiredString(paramsOf(req), 'run_id'));
    if (run.deletedAt === null) return {};
    const experiment = await registry.stores.metadata.getExperiment(run.experimentId);
    if (experiment) requireActiveExperiment(experiment);
    await registry.restoreRun(run.id);
    return {};
  });

  endpoint(router, ['post'], '/runs/log-metric', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const key = requiredString(p, 'key');
    const value = requiredNumber(p, 'value');
    const timestamp = optionalInteger(p, 'timestamp', { min: 0 });
    const step = optionalInteger(p, 'step', { min: 0 }) ?? 0;
    await activeRunById(registry, runId);
    await (
      await registry.openRun(runId)
    ).logMetric(key, value, { step, ...(timestamp === undefined ? {} : { timestamp }) });
    return {};
  });

  endpoint(router, ['post'], '/runs/log-parameter', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const key = requiredString(p, 'key');
    const value = p['value'];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalidParameter(`Missing value for required parameter 'value'`);
    }
    await activeRunById(registry, runId);
    await asMlflowParamError((await registry.openRun(runId)).logParam(key, String(value)));
    return {};
  });

  endpoint(router, ['post'], '/runs/log-batch', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const metrics = p['metrics'] ?? [];
    const params = keyValueList(p, 'params');
    const tags = keyValueList(p, 'tags');
    if (!Array.isArray(metrics))
      throw invalidParameter(`Invalid value for parameter 'metrics' supplied: expected a list`);
    const counts = {
      metrics: metrics.length,
      params: Array.isArray(p['params']) ? p['params'].length : 0,
      tags: Array.isArray(p['tags']) ? p['tags'].length : 0,
    };
    for (const k of ['metrics', 'params', 'tags'] as const) {
      if (counts[k] > batchLimits[k]) {
        throw invalidParameter(
          `A batch logging request can contain at most ${batchLimits[k]} ${k}. Got ${counts[k]} ${k}. Please split up ${k} across multiple requests and try again.`,
        );
      }
    }
    const total = counts.metrics + counts.params + counts.tags;
    if (total > batchLimits.total) {
      throw invalidParameter(
        `A batch logging request can contain at most ${batchLimits.total} metrics, params, and tags in total. Got ${total}. Please split up across multiple requests and try again.`,
      );
    }
    // Points grouped by (step, timestamp), each group with distinct keys: core logs one step and
    // timestamp per call, and one value per key.
    const groups: { step: number; timestamp: number | undefined; values: Record<string, number> }[] = [];
    metrics.forEach((m: unknown, i) => {
      if (typeof m !== 'object' || m === null)
        throw invalidParameter(`Invalid value for parameter 'metrics[${i}]'`);
      const o = m as Record<string, unknown>;
      const key = requiredString(o, 'key');
      const value = requiredNumber(o, 'value');
      const timestamp = optionalInteger(o, 'timestamp', { min: 0 });
      const step = optionalInteger(o, 'step', { min: 0 }) ?? 0;
      let group = groups.find(
        (g) => g.step === step && g.timestamp === timestamp && !Object.hasOwn(g.values, key),
      );
      if (!group) groups.push((group = { step, timestamp, values: {} }));
      Object.defineProperty(group.values, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    await activeRunById(registry, runId);
    const handle = await registry.openRun(runId);
    if (Object.keys(params).length > 0) await asMlflowParamError(handle.logParams(params));
    for (const g of groups) {
      await handle.logMetrics(g.values, {
        step: g.step,
        ...(g.timestamp === undefined ? {} : { timestamp: g.timestamp }),
      });
    }
    if (Object.keys(tags).length > 0) await handle.setTags(tags);
    return {};
  });

  endpoint(router, ['post'], '/runs/set-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const key = requiredString(p, 'key');
    const value = optionalString(p, 'value') ?? '';
    await activeRunById(registry, runId);
    await (await registry.openRun(runId)).setTag(key, value);
    return {};
  });

  endpoint(router, ['post'], '/runs/delete-tag', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const key = requiredString(p, 'key');
    const run = await activeRunById(registry, runId);
    if (run.tags[key] === undefined) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in run with id ${runId}`);
    }
    await (await registry.openRun(runId)).deleteTag(key);
    return {};
  });

  endpoint(router, ['post'], '/runs/log-model', async (req, res) => {
    // LogModel: MLflow keeps the logged models' MLmodel descriptions in the run tag
    // `mlflow.log-model.history` (a JSON list); the files themselves came through the artifact upload.
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const modelJson = requiredString(p, 'model_json');
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw invalidParameter(`Invalid value for parameter 'model_json' supplied: it is not JSON`);
    }
    const run = await activeRunById(registry, runId);
    let history: unknown[] = [];
    try {
      const previous: unknown = JSON.parse(run.tags[LOG_MODEL_HISTORY] ?? '[]');
      if (Array.isArray(previous)) history = previous;
    } catch {
      history = [];
    }
    history.push(model);
    // The tag holds at most 5,000 characters: the oldest entries give way.
    let value = JSON.stringify(history);
    while (value.length > 5000 && history.length > 1) value = JSON.stringify((history = history.slice(1)));
    if (value.length > 5000)
      throw invalidParameter('model_json is longer than the 5000 characters a run tag holds');
    await (await registry.openRun(runId)).setTag(LOG_MODEL_HISTORY, value);
    return {};
  });

  endpoint(router, ['post'], '/runs/log-inputs', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const run = await activeRunById(registry, runIdOf(p));
    const inputs = parseDatasetInputs(p['datasets']);
    await logDatasetInputs(registry, run, inputs);
    return {};
  });

  endpoint(router, ['post'], '/runs/search', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const experimentIds = stringList(p, 'experiment_ids');
    const filter = optionalString(p, 'filter') ?? '';
    const orderBy = stringList(p, 'order_by');
    const max = optionalInteger(p, 'max_results', { min: 1, max: 50_000 }) ?? 1000;
    const lifecycle = viewTypeOf(p, 'run_view_type');
    const compiled = compileRunFilter(filter);
    const order = compileRunOrderBy(orderBy);
    if (!order.some((o) => 'field' in o && o.field === 'startTime'))
      order.push({ field: 'startTime', direction: 'desc' });
    const query = { experimentIds, filter, orderBy, lifecycle };
    const offset = decodeToken(optionalString(p, 'page_token'), query);
    // Experiment 0 before its first run has no runs (MLflow always has it; modelreg makes it on first use).
    const experiments = await Promise.all(
      experimentIds.map((id) =>
        experimentById(registry, id).catch((e: unknown) => {
          if (fromMlflowExperimentId(id) === 'default' && e instanceof MlflowError) return null;
          throw e;
        }),
      ),
    ).then((found) => found.filter((e): e is Experiment => e !== null));
    if (experiments.length === 0) return { runs: [] };

    // The typed search does the filtering it can and the ordering; the rest is checked per run.
    const found: Run[] = [];
    let skipped = 0;
    let pageToken: string | undefined;
    do {
      const page = await registry.searchRuns({
        experiment: experiments.map((e) => e.name),
        where: compiled.where,
        orderBy: order,
        lifecycle,
        limit: compiled.hasResidual ? 1000 : Math.min(1000, offset + max + 1 - skipped),
        ...(pageToken ? { pageToken } : {}),
      });
      for (const run of page.runs) {
        if (!compiled.residual(run)) continue;
        if (skipped < offset) skipped++;
        else found.push(run);
        if (found.length > max) break;
      }
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken && found.length <= max);

    const ids = new ExperimentIds(registry);
    const runs = await Promise.all(found.slice(0, max).map((r) => fullRunView(registry, r, ids)));
    return { runs, ...(found.length > max ? { next_page_token: encodeToken(offset + max, query) } : {}) };
  });

  // ---- metrics ----
  endpoint(router, ['get'], '/metrics/get-history', async (req, res) => {
    const p = paramsOf(req);
    const registry = reg(req, res);
    const runId = runIdOf(p);
    const key = requiredString(p, 'metric_key');
    const max = optionalInteger(p, 'max_results', { min: 1, max: 25_000 }) ?? 25_000;
    const query = { runId, key };
    const offset = decodeToken(optionalString(p, 'page_token'), query);
    await runById(registry, runId);
    const history = await registry.getMetricHistory(runId, key);
    const page = history.slice(offset, offset + max);
    return {
      metrics: page.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step })),
      ...(history.length > offset + max ? { next_page_token: encodeToken(offset + max, query) } : {}),
    };
  });

  return router;
}
