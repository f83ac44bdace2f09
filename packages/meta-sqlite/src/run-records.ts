import { storeRules } from '@modelreg/core';
import type { FileRecord, NewExperiment, NewRunRecord } from '@modelreg/core';
import type { StoreContext } from './context.js';
import type { ExperimentRow, FileRow } from './rows.js';
import { errors, STORE_NAME } from './transactions.js';

/**
 * The run parts of `createVersion` (`run`, `runArtifacts`): plain statements for the caller's
 * transaction, with the same rules and events as createExperiment/createRun/endRun/recordRunArtifacts.
 */
/** Inserts an experiment whose name is free (`ALREADY_EXISTS` when its id is taken), with its event. */
export function insertExperiment(ctx: StoreContext, experiment: NewExperiment): void {
  if (ctx.get('SELECT 1 FROM experiments WHERE id = ?', experiment.id)) {
    throw errors.experimentIdTaken(experiment.id);
  }
  ctx.run(
    'INSERT INTO experiments (id, name, tags, created_at) VALUES (?, ?, ?, ?)',
    experiment.id,
    experiment.name,
    JSON.stringify(experiment.tags),
    experiment.createdAt,
  );
  ctx.emit('experiment.created', { id: experiment.id, name: experiment.name });
}

export function insertRunRecord(ctx: StoreContext, record: NewRunRecord): void {
  if (ctx.get('SELECT 1 FROM runs WHERE id = ?', record.run.id)) return;
  const { experiment, run } = record;
  const found = ctx.get<ExperimentRow>('SELECT * FROM experiments WHERE name = ?', experiment.name);
  if (found && found.deleted_at !== null) throw errors.experimentDeleted(found.id, found.name);
  let experimentId = found?.id;
  if (experimentId === undefined) {
    insertExperiment(ctx, experiment);
    experimentId = experiment.id;
  }
  ctx.run(
    `INSERT INTO runs (id, experiment_id, name, status, parent_run_id, start_time, end_time)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    run.id,
    experimentId,
    run.name,
    record.status,
    run.parentRunId,
    run.startTime,
    record.endTime,
  );
  for (const [key, value] of Object.entries(run.tags)) {
    ctx.run('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)', run.id, key, value);
  }
  for (const [key, value] of Object.entries(record.params)) {
    ctx.run('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)', run.id, key, value);
  }
  for (const point of record.metrics) {
    ctx.run(
      'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
      run.id,
      point.key,
      point.value,
      point.step,
      point.timestamp,
    );
  }
  ctx.emit('run.created', { runId: run.id, experimentId });
  if (record.status !== 'running') ctx.emit('run.updated', { runId: run.id, status: record.status });
}

export function insertRunArtifacts(ctx: StoreContext, runId: string, files: FileRecord[]): void {
  if (!ctx.get('SELECT 1 FROM runs WHERE id = ?', runId)) throw errors.runNotFound(runId);
  const stored = (path: string): string | undefined =>
    ctx.get<Pick<FileRow, 'sha256'>>(
      'SELECT sha256 FROM run_artifacts WHERE run_id = ? AND path = ?',
      runId,
      path,
    )?.sha256;
  for (const file of storeRules.newArtifacts(STORE_NAME, runId, files, stored)) {
    ctx.run(
      'INSERT INTO run_artifacts (run_id, path, key, sha256, size) VALUES (?, ?, ?, ?, ?)',
      runId,
      file.path,
      file.key,
      file.sha256,
      file.size,
    );
  }
}
