import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import type { ModelRegistry, Principal } from '@modelreg/core';
import { createMlflowRouter } from '../src/index.js';
import { openMlflowApp } from './app.js';

/**
 * Renaming, tagging, deleting and restoring experiments and runs, and renaming registered models,
 * as MLflow's service.proto (UpdateExperiment, SetExperimentTag, DeleteExperimentTag,
 * DeleteExperiment, RestoreExperiment, DeleteRun, RestoreRun, SearchRuns.run_view_type,
 * SearchExperiments.view_type) and model_registry.proto (RenameRegisteredModel) define them.
 */
describe('MLflow lifecycle endpoints', () => {
  let registry: ModelRegistry;
  let app: express.Application;
  let post: Awaited<ReturnType<typeof openMlflowApp>>['post'];
  let get: Awaited<ReturnType<typeof openMlflowApp>>['get'];

  beforeEach(async () => {
    ({ registry, app, post, get } = await openMlflowApp());
  });
  afterEach(async () => {
    await registry.close();
  });

  const createExperiment = async (name: string, tags: { key: string; value: string }[] = []) =>
    (await post('experiments/create', { name, tags }).expect(200)).body.experiment_id as string;
  const createRun = async (experimentId: string) =>
    (await post('runs/create', { experiment_id: experimentId }).expect(200)).body.run.info.run_id as string;
  const experimentOf = async (id: string) =>
    (await get('experiments/get', { experiment_id: id }).expect(200)).body.experiment as {
      name: string;
      lifecycle_stage: string;
      tags: { key: string; value: string }[];
    };
  const searchRuns = async (experimentId: string, runViewType?: string) =>
    (
      (await post('runs/search', { experiment_ids: [experimentId], run_view_type: runViewType }).expect(200))
        .body.runs as { info: { run_id: string; lifecycle_stage: string } }[]
    ).map((r) => [r.info.run_id, r.info.lifecycle_stage]);

  it('experiment tags: set at create, set-experiment-tag, delete-experiment-tag; shown by get and search', async () => {
    const id = await createExperiment('tagged', [{ key: 'team', value: 'vision' }]);
    await post('experiments/set-experiment-tag', { experiment_id: id, key: 'stage', value: 'beta' }).expect(
      200,
    );
    expect((await experimentOf(id)).tags).toEqual([
      { key: 'team', value: 'vision' },
      { key: 'stage', value: 'beta' },
    ]);
    const found = await post('experiments/search', { filter: "tags.stage = 'beta'" }).expect(200);
    expect(found.body.experiments.map((e: { name: string }) => e.name)).toEqual(['tagged']);
    await post('experiments/delete-experiment-tag', { experiment_id: id, key: 'team' }).expect(200);
    expect((await experimentOf(id)).tags).toEqual([{ key: 'stage', value: 'beta' }]);
    const missing = await post('experiments/delete-experiment-tag', {
      experiment_id: id,
      key: 'team',
    }).expect(404);
    expect(missing.body).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: `No tag with name: team in experiment with id ${id}`,
    });
    const noKey = await post('experiments/set-experiment-tag', { experiment_id: id, value: 'x' }).expect(400);
    expect(noKey.body).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'key'",
    });
    await post('experiments/set-experiment-tag', { experiment_id: '12345', key: 'k', value: 'v' }).expect(
      404,
    );
  });

  it('update renames an experiment (its id stays); a taken name or experiment 0 is refused', async () => {
    const id = await createExperiment('old-name');
    await createExperiment('other');
    await post('experiments/update', { experiment_id: id, new_name: 'new-name' }).expect(200);
    expect(await experimentOf(id)).toMatchObject({ name: 'new-name' });
    await get('experiments/get-by-name', { experiment_name: 'old-name' }).expect(404);
    const byName = await get('experiments/get-by-name', { experiment_name: 'new-name' }).expect(200);
    expect(byName.body.experiment.experiment_id).toBe(id);
    const taken = await post('experiments/update', { experiment_id: id, new_name: 'other' }).expect(400);
    expect(taken.body).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Experiment(name=other) already exists.',
    });
    const bad = await post('experiments/update', { experiment_id: id, new_name: 'a/b' }).expect(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    await createRun('0');
    const zero = await post('experiments/update', { experiment_id: '0', new_name: 'renamed' }).expect(400);
    expect(zero.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    await post('experiments/update', { experiment_id: id, new_name: 'Default' }).expect(400);
    await post('experiments/update', { experiment_id: '99', new_name: 'x' }).expect(404);
    // Without new_name there is nothing to change.
    await post('experiments/update', { experiment_id: id }).expect(200);
    expect(await experimentOf(id)).toMatchObject({ name: 'new-name' });
  });

  it('delete hides an experiment and its runs; restore brings both back; MLflow errors in between', async () => {
    const id = await createExperiment('doomed');
    const runId = await createRun(id);
    await post('experiments/delete', { experiment_id: id }).expect(200);
    expect(await experimentOf(id)).toMatchObject({ lifecycle_stage: 'deleted' });
    const active = await get('experiments/search', {}).expect(200);
    expect(active.body.experiments.map((e: { name: string }) => e.name)).not.toContain('doomed');
    const deleted = await get('experiments/search', { view_type: 'DELETED_ONLY' }).expect(200);
    expect(deleted.body.experiments.map((e: { name: string }) => e.name)).toEqual(['doomed']);
    const all = await post('experiments/search', { view_type: 'ALL' }).expect(200);
    expect(all.body.experiments.map((e: { name: string }) => e.name)).toContain('doomed');
    const listed = await get('experiments/list', { view_type: 'DELETED_ONLY' }).expect(200);
    expect(listed.body.experiments).toHaveLength(1);
    expect(await searchRuns(id)).toEqual([]);
    expect(await searchRuns(id, 'DELETED_ONLY')).toEqual([[runId, 'deleted']]);

    // The name stays taken, nothing new starts in it, and it cannot be renamed or tagged.
    const again = await post('experiments/create', { name: 'doomed' }).expect(400);
    expect(again.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    const newRun = await post('runs/create', { experiment_id: id }).expect(400);
    expect(newRun.body).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `The experiment ${id} must be in the 'active' state. Current state is deleted.`,
    });
    const tag = await post('experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' });
    expect([tag.status, tag.body.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    const rename = await post('experiments/update', { experiment_id: id, new_name: 'saved' });
    expect([rename.status, rename.body]).toEqual([
      500,
      { error_code: 'INVALID_STATE', message: 'Cannot rename a non-active experiment.' },
    ]);
    const twice = await post('experiments/delete', { experiment_id: id }).expect(404);
    expect(twice.body).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: `No Experiment with id=${id} exists`,
    });
    await post('runs/restore', { run_id: runId }).expect(400);

    await post('experiments/restore', { experiment_id: id }).expect(200);
    expect(await experimentOf(id)).toMatchObject({ lifecycle_stage: 'active' });
    expect(await searchRuns(id)).toEqual([[runId, 'active']]);
    await post('experiments/restore', { experiment_id: id }).expect(404);
    await post('experiments/delete', { experiment_id: '4242' }).expect(404);
  });

  it('runs: delete and restore (idempotent as in MLflow); a deleted run takes no writes; run_view_type', async () => {
    const id = await createExperiment('runs');
    const kept = await createRun(id);
    const gone = await createRun(id);
    await post('runs/delete', { run_id: gone }).expect(200);
    await post('runs/delete', { run_id: gone }).expect(200);
    const read = await get('runs/get', { run_id: gone }).expect(200);
    expect(read.body.run.info).toMatchObject({ lifecycle_stage: 'deleted', status: 'RUNNING' });
    expect(await searchRuns(id)).toEqual([[kept, 'active']]);
    expect(await searchRuns(id, 'ACTIVE_ONLY')).toEqual([[kept, 'active']]);
    expect(await searchRuns(id, 'DELETED_ONLY')).toEqual([[gone, 'deleted']]);
    expect((await searchRuns(id, 'ALL')).map(([r]) => r).sort()).toEqual([kept, gone].sort());
    const numeric = await post('runs/search', { experiment_ids: [id], run_view_type: 2 }).expect(200);
    expect(numeric.body.runs).toHaveLength(1);
    const badView = await post('runs/search', { experiment_ids: [id], run_view_type: 'SOME' }).expect(400);
    expect(badView.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    const refused = await post('runs/log-metric', { run_id: gone, key: 'm', value: 1, timestamp: 1 }).expect(
      400,
    );
    expect(refused.body).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `The run ${gone} must be in the 'active' state. Current state is deleted.`,
    });
    for (const [rpc, body] of [
      ['runs/log-parameter', { run_id: gone, key: 'p', value: '1' }],
      ['runs/set-tag', { run_id: gone, key: 't', value: '1' }],
      ['runs/log-batch', { run_id: gone, params: [{ key: 'p', value: '1' }] }],
      ['runs/update', { run_id: gone, status: 'FINISHED' }],
    ] as const) {
      const res = await post(rpc, body).expect(400);
      expect(res.body.error_code, rpc).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await registry.getRun(gone))?.params).toEqual({});

    await post('runs/restore', { run_id: gone }).expect(200);
    await post('runs/restore', { run_id: gone }).expect(200);
    await post('runs/log-metric', { run_id: gone, key: 'm', value: 1, timestamp: 1 }).expect(200);
    expect((await searchRuns(id)).map(([r]) => r).sort()).toEqual([kept, gone].sort());
    await post('runs/delete', { run_id: 'f'.repeat(32) }).expect(404);
    await post('runs/delete', {}).expect(400);
  });

  it('registered-models/rename moves versions, aliases and stages; the old name is free and its URIs fail', async () => {
    const id = await createExperiment('train');
    const runId = await createRun(id);
    await request(app)
      .put(`/api/2.0/mlflow-artifacts/artifacts/${id}/${runId}/artifacts/model/MLmodel`)
      .send('flavors: {}\n')
      .expect(200);
    await post('registered-models/create', { name: 'old' }).expect(200);
    for (let i = 0; i < 2; i++) {
      await post('model-versions/create', { name: 'old', source: `runs:/${runId}/model` }).expect(200);
    }
    await post('model-versions/transition-stage', {
      name: 'old',
      version: '2',
      stage: 'Production',
      archive_existing_versions: false,
    }).expect(200);
    await post('registered-models/alias', { name: 'old', alias: 'champion', version: '1' }).expect(200);

    const renamed = await post('registered-models/rename', { name: 'old', new_name: 'new' }).expect(200);
    expect(renamed.body.registered_model).toMatchObject({
      name: 'new',
      aliases: [{ alias: 'champion', version: '1' }],
    });
    expect(
      renamed.body.registered_model.latest_versions.map(
        (v: { name: string; version: string; current_stage: string }) => [v.name, v.version, v.current_stage],
      ),
    ).toEqual([
      ['new', '1', 'None'],
      ['new', '2', 'Production'],
    ]);
    await get('registered-models/get', { name: 'old' }).expect(404);
    const byAlias = await get('registered-models/alias', { name: 'new', alias: 'champion' }).expect(200);
    expect(byAlias.body.model_version).toMatchObject({ name: 'new', version: '1' });
    expect((await registry.resolve('models:/new/Production')).modelVersion?.version).toBe(2);
    const oldUri = await registry.resolve('models:/old/1').catch((e: unknown) => e);
    expect(isRegistryError(oldUri, 'NOT_FOUND')).toBe(true);
    expect((await registry.getStageHistory('new')).map((h) => h.kind)).toEqual(['stage', 'alias_set']);
    // The old name is free again.
    await post('registered-models/create', { name: 'old' }).expect(200);

    const taken = await post('registered-models/rename', { name: 'new', new_name: 'old' }).expect(400);
    expect(taken.body).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Registered Model (name=old) already exists.',
    });
    const empty = await post('registered-models/rename', { name: 'new' }).expect(400);
    expect(empty.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const unknown = await post('registered-models/rename', { name: 'nope', new_name: 'x' }).expect(404);
    expect(unknown.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('roles apply as in the native API: an editor renames experiments, only an admin deletes or renames models', async () => {
    const editor: Principal = { name: 'ds', role: 'editor', models: null, tokenId: null };
    const asEditor = express().use(createMlflowRouter({ registry, auth: () => registry.as(editor) }));
    const id = await createExperiment('shared');
    const runId = await createRun(id);
    await post('registered-models/create', { name: 'm' }).expect(200);
    const send = (rpc: string, body: Record<string, unknown>) =>
      request(asEditor).post(`/api/2.0/mlflow/${rpc}`).send(body);
    await send('experiments/update', { experiment_id: id, new_name: 'renamed' }).expect(200);
    await send('experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' }).expect(200);
    for (const [rpc, body] of [
      ['experiments/delete', { experiment_id: id }],
      ['runs/delete', { run_id: runId }],
      ['registered-models/rename', { name: 'm', new_name: 'n' }],
    ] as const) {
      const res = await send(rpc, body).expect(403);
      expect(res.body.error_code, rpc).toBe('PERMISSION_DENIED');
    }
    expect(await experimentOf(id)).toMatchObject({ name: 'renamed', lifecycle_stage: 'active' });
    expect((await registry.getRun(runId))?.deletedAt).toBeNull();
    expect(await registry.getModel('m')).not.toBeNull();
  });
});
