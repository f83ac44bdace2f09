import { storeRules } from '@modelreg/core';
import type { FileRecord, NewModelVersion, NewRunRecord, VersionPlacement } from '@modelreg/core';
import { errors, WHERE } from './db.js';
import type { Db, Tx } from './db.js';
import { archiveOthers, currentAlias, moveStage, pointAlias } from './moves.js';

/**
 * The optional parts of `createVersion`, as statements of its transaction, with the same rules and
 * events as createExperiment/createRun/endRun/recordRunArtifacts, createModel, transitionStage and setAlias.
 */
export async function insertRunRecord(db: Db, tx: Tx, record: NewRunRecord): Promise<void> {
  const { s } = db;
  const { experiment, run } = record;
  const [known] = await tx.query(`SELECT 1 FROM ${s}.runs WHERE id = $1`, [run.id]);
  if (known) return;
  await tx.query(
    `INSERT INTO ${s}.experiments (id, name, tags, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [experiment.id, experiment.name, JSON.stringify(experiment.tags), experiment.createdAt],
  );
  const [found] = await tx.query<{ id: string; deleted_at: string | null }>(
    `SELECT id, deleted_at FROM ${s}.experiments WHERE name = $1 FOR SHARE`,
    [experiment.name],
  );
  if (!found) {
    throw errors.experimentIdTaken(experiment.id);
  }
  if (found.deleted_at !== null) throw errors.experimentDeleted(found.id, experiment.name);
  if (found.id === experiment.id) {
    tx.emit('experiment.created', { id: experiment.id, name: experiment.name });
  }
  const latest: Record<string, { value: number; step: number; timestamp: number }> = Object.create(
    null,
  ) as Record<string, { value: number; step: number; timestamp: number }>;
  for (const p of record.metrics) {
    const cur = latest[p.key];
    if (!cur || p.step > cur.step || (p.step === cur.step && p.timestamp >= cur.timestamp)) latest[p.key] = p;
  }
  const latestMetrics = Object.fromEntries(Object.entries(latest).map(([k, p]) => [k, p.value]));
  // A concurrent copy of the same run may have committed it meanwhile: then it is left as it is.
  const inserted = await tx.query(
    `INSERT INTO ${s}.runs (id, experiment_id, name, status, parent_run_id, start_time, end_time, params, tags,
       latest_metrics)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      run.id,
      found.id,
      run.name,
      record.status,
      run.parentRunId,
      run.startTime,
      record.endTime,
      JSON.stringify(record.params),
      JSON.stringify(run.tags),
      JSON.stringify(latestMetrics),
    ],
  );
  if (inserted.length === 0) return;
  if (record.metrics.length > 0) {
    const points = record.metrics;
    await tx.query(
      `INSERT INTO ${s}.metrics (run_id, key, value, step, time)
       SELECT $1, p.key, p.value, p.step, p.time
       FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS p(key, value, step, time, n)
       ORDER BY p.n`,
      [
        run.id,
        points.map((p) => p.key),
        points.map((p) => p.value),
        points.map((p) => p.step),
        points.map((p) => p.timestamp),
      ],
    );
  }
  tx.emit('run.created', { runId: run.id, experimentId: found.id });
  if (record.status !== 'running') tx.emit('run.updated', { runId: run.id, status: record.status });
}

export async function insertRunArtifacts(db: Db, tx: Tx, runId: string, files: FileRecord[]): Promise<void> {
  const { s } = db;
  const [run] = await tx.query(`SELECT 1 FROM ${s}.runs WHERE id = $1 FOR UPDATE`, [runId]);
  if (!run) throw errors.runNotFound(runId);
  const rows = await tx.query<{ path: string; sha256: string }>(
    `SELECT path, sha256 FROM ${s}.run_artifacts WHERE run_id = $1 AND path = ANY($2::text[])`,
    [runId, files.map((f) => f.path)],
  );
  const known = new Map(rows.map((r) => [r.path, r.sha256]));
  const list = storeRules.newArtifacts(WHERE, runId, files, (path) => known.get(path));
  if (list.length === 0) return;
  await tx.query(
    `INSERT INTO ${s}.run_artifacts (run_id, path, key, sha256, size)
     SELECT $1, f.path, f.key, f.sha256, f.size FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])
       AS f(path, key, sha256, size)`,
    [
      runId,
      list.map((f) => f.path),
      list.map((f) => f.key),
      list.map((f) => f.sha256),
      list.map((f) => f.size),
    ],
  );
}

/** Creates (or revives) the model when no live one has the name. */
export async function ensureModel(db: Db, tx: Tx, input: NewModelVersion): Promise<void> {
  const { s } = db;
  const rows = await tx.query(
    `INSERT INTO ${s}.models AS m (name, description, tags, created_at, updated_at) VALUES ($1, '', '{}', $2, $2)
     ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, tags = EXCLUDED.tags,
       created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, deleted_at = NULL
     WHERE m.deleted_at IS NOT NULL
     RETURNING name`,
    [input.name, input.createdAt],
  );
  if (rows.length > 0) tx.emit('model.created', { name: input.name });
}

/** Moves the new version from `placement.fromStage` to its stage (archiving others) and sets the alias. */
export async function applyPlacement(
  db: Db,
  tx: Tx,
  input: NewModelVersion,
  version: number,
  placement: VersionPlacement,
): Promise<void> {
  const { name, stage } = input;
  const by = { actor: placement.actor, comment: placement.comment, time: input.createdAt };
  if (stage !== placement.fromStage) {
    await moveStage(db, tx, name, version, placement.fromStage, stage, by);
    await archiveOthers(db, tx, name, stage, placement.archiveTo, version, by);
  }
  if (placement.alias !== undefined) {
    const fromVersion = await currentAlias(db, tx, name, placement.alias);
    await pointAlias(db, tx, name, placement.alias, version, fromVersion, by);
  }
}
