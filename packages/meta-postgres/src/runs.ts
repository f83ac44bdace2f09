import { ownValue, storeRules } from '@modelreg/core';
import type { TrackingMethods } from '@modelreg/core';
import { errors, WHERE } from './db.js';
import { insertRunArtifacts } from './registration.js';
import type { Db, Tx } from './db.js';
import { toExperiment, toFileRecord, toMetricPoint, toRun } from './rows.js';
import type { ExperimentRow, FileRow, MetricRow, RunRow } from './rows.js';
import { searchRuns } from './run-search.js';

export function runMethods(db: Db): TrackingMethods {
  const { s } = db;
  const runColumns = `id, experiment_id, name, status, parent_run_id, start_time, end_time, params, tags, latest_metrics,
    deleted_at`;
  const experimentColumns = 'id, name, tags, created_at, deleted_at';

  /** Locks the run row for the rest of the transaction, so read-check-write sequences on it are atomic. */
  const lockRun = async (tx: Tx, id: string): Promise<RunRow> => {
    const [row] = await tx.query<RunRow>(`SELECT ${runColumns} FROM ${s}.runs WHERE id = $1 FOR UPDATE`, [
      id,
    ]);
    if (!row) throw errors.runNotFound(id);
    return row;
  };

  /** Locks the experiment row (`FOR UPDATE` or `FOR SHARE`) for the rest of the transaction. */
  const lockExperiment = async (tx: Tx, id: string, mode: 'UPDATE' | 'SHARE'): Promise<ExperimentRow> => {
    const [row] = await tx.query<ExperimentRow>(
      `SELECT ${experimentColumns} FROM ${s}.experiments WHERE id = $1 FOR ${mode}`,
      [id],
    );
    if (!row) throw errors.experimentNotFound(id);
    return row;
  };
  const lifecycleWhere = (lifecycle = 'active'): string =>
    lifecycle === 'all' ? 'true' : `deleted_at IS ${lifecycle === 'active' ? '' : 'NOT '}NULL`;

  return {
    createExperiment: (experiment) =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<ExperimentRow>(
          `INSERT INTO ${s}.experiments (id, name, tags, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING ${experimentColumns}`,
          [experiment.id, experiment.name, JSON.stringify(experiment.tags), experiment.createdAt],
        );
        if (!row) {
          const [byName] = await tx.query(`SELECT 1 FROM ${s}.experiments WHERE name = $1`, [
            experiment.name,
          ]);
          throw byName ? errors.experimentExists(experiment.name) : errors.experimentIdTaken(experiment.id);
        }
        tx.emit('experiment.created', { id: experiment.id, name: experiment.name });
        return toExperiment(row);
      }),

    async getExperiment(id) {
      const [row] = await db.read<ExperimentRow>(
        `SELECT ${experimentColumns} FROM ${s}.experiments WHERE id = $1`,
        [id],
      );
      return row ? toExperiment(row) : null;
    },

    async getExperimentByName(name) {
      const [row] = await db.read<ExperimentRow>(
        `SELECT ${experimentColumns} FROM ${s}.experiments WHERE name = $1`,
        [name],
      );
      return row ? toExperiment(row) : null;
    },

    async listExperiments(query = {}) {
      const rows = await db.read<ExperimentRow>(
        `SELECT ${experimentColumns} FROM ${s}.experiments WHERE ${lifecycleWhere(query.lifecycle)}
         ORDER BY created_at, position`,
      );
      return rows.map(toExperiment);
    },

    updateExperiment: (id, change) =>
      db.transaction(async (tx) => {
        const current = await lockExperiment(tx, id, 'UPDATE');
        if (current.deleted_at !== null) throw errors.experimentDeleted(id, current.name);
        const name = change.name ?? current.name;
        if (name !== current.name) {
          const [taken] = await tx.query(`SELECT 1 FROM ${s}.experiments WHERE name = $1`, [name]);
          if (taken) throw errors.experimentExists(name);
        }
        const { set, removed } = storeRules.splitTagChange(change.tags);
        const [row] = await tx.query<ExperimentRow>(
          `UPDATE ${s}.experiments SET name = $2, tags = (tags || $3::jsonb) - $4::text[] WHERE id = $1
           RETURNING ${experimentColumns}`,
          [id, name, JSON.stringify(set), removed],
        );
        tx.emit('experiment.updated', { id, name, fromName: current.name });
        return toExperiment(row as ExperimentRow);
      }),

    deleteExperiment: (id, time) =>
      db.transaction(async (tx) => {
        const current = await lockExperiment(tx, id, 'UPDATE');
        if (current.deleted_at !== null) throw errors.experimentDeleted(id, current.name);
        await tx.query(
          `UPDATE ${s}.runs SET deleted_at = $2 WHERE experiment_id = $1 AND deleted_at IS NULL`,
          [id, time],
        );
        const [row] = await tx.query<ExperimentRow>(
          `UPDATE ${s}.experiments SET deleted_at = $2 WHERE id = $1 RETURNING ${experimentColumns}`,
          [id, time],
        );
        tx.emit('experiment.deleted', { id, name: current.name });
        return toExperiment(row as ExperimentRow);
      }),

    restoreExperiment: (id) =>
      db.transaction(async (tx) => {
        const current = await lockExperiment(tx, id, 'UPDATE');
        if (current.deleted_at === null) throw errors.experimentNotDeleted(id, current.name);
        await tx.query(
          `UPDATE ${s}.runs SET deleted_at = NULL WHERE experiment_id = $1 AND deleted_at = $2`,
          [id, current.deleted_at],
        );
        const [row] = await tx.query<ExperimentRow>(
          `UPDATE ${s}.experiments SET deleted_at = NULL WHERE id = $1 RETURNING ${experimentColumns}`,
          [id],
        );
        tx.emit('experiment.restored', { id, name: current.name });
        return toExperiment(row as ExperimentRow);
      }),

    createRun: (run) =>
      db.transaction(async (tx) => {
        const experiment = await lockExperiment(tx, run.experimentId, 'SHARE');
        if (experiment.deleted_at !== null) throw errors.experimentDeleted(experiment.id, experiment.name);
        const [row] = await tx.query<RunRow>(
          `INSERT INTO ${s}.runs (id, experiment_id, name, status, parent_run_id, start_time, tags)
           VALUES ($1, $2, $3, 'running', $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING ${runColumns}`,
          [run.id, run.experimentId, run.name, run.parentRunId, run.startTime, JSON.stringify(run.tags)],
        );
        if (!row) throw errors.runExists(run.id);
        tx.emit('run.created', { runId: run.id, experimentId: run.experimentId });
        return toRun(row);
      }),

    async getRun(id) {
      const [row] = await db.read<RunRow>(`SELECT ${runColumns} FROM ${s}.runs WHERE id = $1`, [id]);
      return row ? toRun(row) : null;
    },

    deleteRun: (id, time) =>
      db.transaction(async (tx) => {
        const current = await lockRun(tx, id);
        if (current.deleted_at !== null) throw errors.runDeleted(id);
        const [row] = await tx.query<RunRow>(
          `UPDATE ${s}.runs SET deleted_at = $2 WHERE id = $1 RETURNING ${runColumns}`,
          [id, time],
        );
        tx.emit('run.deleted', { runId: id, experimentId: current.experiment_id });
        return toRun(row as RunRow);
      }),

    restoreRun: (id) =>
      db.transaction(async (tx) => {
        // Lock order as in deleteExperiment: the experiment, then its run.
        const [found] = await tx.query<{ experiment_id: string }>(
          `SELECT experiment_id FROM ${s}.runs WHERE id = $1`,
          [id],
        );
        if (!found) throw errors.runNotFound(id);
        const experiment = await lockExperiment(tx, found.experiment_id, 'SHARE');
        const current = await lockRun(tx, id);
        if (current.deleted_at === null) throw errors.runNotDeleted(id);
        if (experiment.deleted_at !== null) throw errors.runOfDeletedExperiment(id, experiment.id);
        const [row] = await tx.query<RunRow>(
          `UPDATE ${s}.runs SET deleted_at = NULL WHERE id = $1 RETURNING ${runColumns}`,
          [id],
        );
        tx.emit('run.restored', { runId: id, experimentId: current.experiment_id });
        return toRun(row as RunRow);
      }),

    endRun: (id, status, endTime) =>
      db.transaction(async (tx) => {
        const current = await lockRun(tx, id);
        if (current.status !== 'running') {
          throw errors.runEnded(id, current.status);
        }
        const [row] = await tx.query<RunRow>(
          `UPDATE ${s}.runs SET status = $2, end_time = $3 WHERE id = $1 RETURNING ${runColumns}`,
          [id, status, endTime],
        );
        tx.emit('run.updated', { runId: id, status });
        return toRun(row as RunRow);
      }),

    logParams: (runId, params) =>
      db.transaction(async (tx) => {
        const current = (await lockRun(tx, runId)).params;
        storeRules.newParams(WHERE, runId, params, (key) => ownValue(current, key));
        await tx.query(`UPDATE ${s}.runs SET params = params || $2::jsonb WHERE id = $1`, [
          runId,
          JSON.stringify(params),
        ]);
      }),

    logMetrics: (runId, points) =>
      db.transaction(async (tx) => {
        await lockRun(tx, runId);
        if (points.length === 0) return;
        await tx.query(
          `INSERT INTO ${s}.metrics (run_id, key, value, step, time)
           SELECT $1, p.key, p.value, p.step, p.time
           FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS p(key, value, step, time, n)
           ORDER BY p.n`,
          [
            runId,
            points.map((p) => p.key),
            points.map((p) => p.value),
            points.map((p) => p.step),
            points.map((p) => p.timestamp),
          ],
        );
        // Keep the latest value of each touched metric on the run row: highest step, then latest
        // timestamp, then last logged (the metric id follows logging order within a run, which is locked).
        await tx.query(
          `UPDATE ${s}.runs SET latest_metrics = latest_metrics || (
             SELECT jsonb_object_agg(l.key, l.value) FROM (
               SELECT DISTINCT ON (key) key, value FROM ${s}.metrics
               WHERE run_id = $1 AND key = ANY($2::text[])
               ORDER BY key, step DESC, time DESC, id DESC
             ) l)
           WHERE id = $1`,
          [runId, [...new Set(points.map((p) => p.key))]],
        );
      }),

    setRunTags: (runId, tags) =>
      db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE ${s}.runs SET tags = tags || $2::jsonb WHERE id = $1 RETURNING id`,
          [runId, JSON.stringify(tags)],
        );
        if (rows.length === 0) throw errors.runNotFound(runId);
      }),

    deleteRunTag: (runId, key) =>
      db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE ${s}.runs SET tags = tags - $2::text WHERE id = $1 RETURNING id`,
          [runId, key],
        );
        if (rows.length === 0) throw errors.runNotFound(runId);
      }),

    async getMetricHistory(runId, key) {
      const rows = await db.read<MetricRow>(
        `SELECT key, value, step, time AS timestamp FROM ${s}.metrics WHERE run_id = $1 AND key = $2 ORDER BY step, time, id`,
        [runId, key],
      );
      return rows.map(toMetricPoint);
    },

    async searchRuns(query) {
      const { sql, params } = searchRuns(s, runColumns, query);
      return (await db.read<RunRow>(sql, params)).map(toRun);
    },

    recordRunArtifacts: (runId, files) => db.transaction((tx) => insertRunArtifacts(db, tx, runId, files)),

    async listRunArtifacts(runId, prefix = '') {
      const rows = await db.read<FileRow>(
        `SELECT path, key, sha256, size FROM ${s}.run_artifacts WHERE run_id = $1 AND starts_with(path, $2)
         ORDER BY path COLLATE "C"`,
        [runId, prefix],
      );
      return rows.map(toFileRecord);
    },
  };
}
