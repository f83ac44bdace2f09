import { Router } from 'express';
import type { ModelRegistry, ModelVersion, RegisteredModel } from '@modelreg/core';
import { actorOption, registryOf } from '../auth.js';
import type { AppContext } from '../context.js';
import { HttpError, parseRequest, requireContentType } from '../errors.js';
import { readModelInfo } from '../model-info.js';
import {
  aliasBody,
  aliasParams,
  deleteAliasQuery,
  historyQuery,
  listModelsQuery,
  listVersionsQuery,
  modelParams,
  stageBody,
  updateMetaBody,
  versionParams,
} from '../schemas.js';

const json = requireContentType('application/json');

/** Versions per stage, the highest version, and the latest stage or alias move of a model. */
async function summarize(registry: ModelRegistry, model: RegisteredModel) {
  const [versions, history] = await Promise.all([
    registry.listVersions(model.name),
    registry.getStageHistory(model.name),
  ]);
  const counts = new Map<string, number>();
  for (const v of versions) counts.set(v.stage, (counts.get(v.stage) ?? 0) + 1);
  const stages = Object.fromEntries(counts);
  return {
    ...model,
    summary: {
      latestVersion: versions.at(-1)?.version ?? null,
      stages,
      lastChange: history.at(-1) ?? null,
    },
  };
}

/** Registered models, versions, stage moves, aliases and their history. */
export function modelRoutes(ctx: AppContext): Router {
  const router = Router();
  const { registry } = ctx;

  const requireModel = async (name: string) => {
    const model = await registry.getModel(name);
    if (!model) throw new HttpError(404, 'NOT_FOUND', `model "${name}" does not exist`);
    return model;
  };

  router.get('/models', async (req, res) => {
    const { summary, ...query } = parseRequest(listModelsQuery, req.query, 'query');
    const models = await registry.listModels(query);
    res.json({ models: summary ? await Promise.all(models.map((m) => summarize(registry, m))) : models });
  });

  router.get('/models/:name', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const model = await requireModel(name);
    const latest = new Map<string, ModelVersion>();
    for (const v of await registry.listVersions(name)) latest.set(v.stage, v);
    const latestVersions = registry.stages.flatMap((s) => latest.get(s) ?? []);
    res.json({ ...model, latestVersions, stages: registry.stages });
  });

  router.get('/models/:name/versions', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const query = parseRequest(listVersionsQuery, req.query, 'query');
    await requireModel(name);
    res.json({ versions: await registry.listVersions(name, query.stage ? { stage: query.stage } : {}) });
  });

  router.get('/models/:name/versions/:version', async (req, res) => {
    const { name, version } = parseRequest(versionParams, req.params, 'params');
    const found = await registry.getVersion(name, version);
    if (!found) {
      await requireModel(name);
      throw new HttpError(404, 'NOT_FOUND', `model "${name}" has no version ${version}`);
    }
    res.json(found);
  });

  router.get('/models/:name/versions/:version/signature', async (req, res) => {
    const { name, version } = parseRequest(versionParams, req.params, 'params');
    const found = await registry.getVersion(name, version);
    if (!found) {
      await requireModel(name);
      throw new HttpError(404, 'NOT_FOUND', `model "${name}" has no version ${version}`);
    }
    const manifest = found.files.find((f) => f.path === 'MODEL.json');
    if (!manifest)
      throw new HttpError(404, 'NOT_FOUND', `model "${name}" version ${version} has no MODEL.json`);
    const model = await readModelInfo(registry, `models:/${name}/${version}`);
    res.json({ name, version, runId: found.runId, model });
  });

  router.patch('/models/:name', json, async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const body = parseRequest(updateMetaBody, req.body, 'body');
    res.json(await registryOf(res).updateModel(name, body));
  });

  router.patch('/models/:name/versions/:version', json, async (req, res) => {
    const { name, version } = parseRequest(versionParams, req.params, 'params');
    const body = parseRequest(updateMetaBody, req.body, 'body');
    res.json(await registryOf(res).updateVersion(name, version, body));
  });

  router.post('/models/:name/versions/:version/stage', json, async (req, res) => {
    const { name, version } = parseRequest(versionParams, req.params, 'params');
    const body = parseRequest(stageBody, req.body, 'body');
    const moved = await registryOf(res).transitionStage(name, version, body.stage, {
      archiveExisting: body.archiveExisting ?? false,
      comment: body.comment ?? '',
      ...actorOption(res, body.actor),
    });
    res.json(moved);
  });

  router.put('/models/:name/aliases/:alias', json, async (req, res) => {
    const { name, alias } = parseRequest(aliasParams, req.params, 'params');
    const body = parseRequest(aliasBody, req.body, 'body');
    await registryOf(res).setAlias(name, alias, body.version, {
      ...(body.ifVersion !== undefined ? { ifVersion: body.ifVersion } : {}),
      comment: body.comment ?? '',
      ...actorOption(res, body.actor),
    });
    res.json({ name, alias, version: body.version });
  });

  router.delete('/models/:name/aliases/:alias', async (req, res) => {
    const { name, alias } = parseRequest(aliasParams, req.params, 'params');
    const query = parseRequest(deleteAliasQuery, req.query, 'query');
    await registryOf(res).deleteAlias(
      name,
      alias,
      query.ifVersion !== undefined ? { ifVersion: query.ifVersion } : {},
    );
    res.status(204).end();
  });

  router.get('/models/:name/history', async (req, res) => {
    const { name } = parseRequest(modelParams, req.params, 'params');
    const query = parseRequest(historyQuery, req.query, 'query');
    res.json({
      history: await registry.getStageHistory(
        name,
        query.version !== undefined ? { version: query.version } : {},
      ),
    });
  });

  return router;
}
