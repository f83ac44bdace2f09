import { setOwn, storeRules } from '@modelreg/core';
import type { FileRecord, MetricPoint, NewExperiment, Run, TrackingMethods } from '@modelreg/core';
import type { StoreContext } from './context.js';
import type { ExperimentRow, FileRow, RunRow } from './rows.js';
import { parseTags, toExperiment, toFile, toRun } from './rows.js';
import { insertExperiment, insertRunArtifacts } from './run-records.js';
import { buildSearchRuns } from './search-runs.js';
import { errors, STORE_NAME } from './transactions.js';

interface KeyValueRow {
  run_id: string;
  key: string;
  value: string;
}

interface MetricValueRow {
  run_id: string;
  key: string;
  value: number;
}

const LATEST_METRICS_OF_RUNS = `
  SELECT run_id, key, value FROM (
    SELECT run_id, key, value,
      ROW_NUMBER() OVER (PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, seq DESC) AS rank
    FROM metrics WHERE run_id IN (SELECT value FROM json_each(?))
  ) WHERE rank = 1`;

export function createTrackingMethods(ctx: StoreContext): TrackingMethods {
  const experimentById = (id: string): ExperimentRow | undefined =>
    ctx.get<ExperimentRow>('SELECT * FROM experiments WHERE id = ?', id);
  const runRow = (id: string): RunRow | undefined => ctx.get<RunRow>('SELECT * FROM runs WHERE id = ?', id);

  const requireRun = (id: string): RunRow => {
    const row = runRow(id);
    if (!row) throw errors.runNotFound(id);
    return row;
  };
  const requireExperiment = (id: string): ExperimentRow => {
    const row = experimentById(id);
    if (!row) throw errors.experimentNotFound(id);
    return row;
  };

  /** Loads params, tags and latest metrics of many runs with three queries. */
  const hydrate = (rows: RunRow[]): Run[] => {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((r) => r.id));
    const details = new Map(
      rows.map((r) => [
        r.id,
        {
          params: {} as Record<string, string>,
          tags: {} as Record<string, string>,
          latestMetrics: {} as Record<string, number>,
        },
      ]),
    );
    const of = (runId: string) => details.get(runId)!;
    const inRuns = 'WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key';
    for (const p of ctx.all<KeyValueRow>(`SELECT run_id, key, value FROM params ${inRuns}`, ids)) {
      setOwn(of(p.run_id).params, p.key, p.value);
    }
    for (const t of ctx.all<KeyValueRow>(`SELECT run_id, key, value FROM run_tags ${inRuns}`, ids)) {
      setOwn(of(t.run_id).tags, t.key, t.value);
    }
    for (const m of ctx.all<MetricValueRow>(LATEST_METRICS_OF_RUNS, ids))
      setOwn(of(m.run_id).latestMetrics, m.key, m.value);
    return rows.map((r) => toRun(r, of(r.id)));
  };
  const loadRun = (id: string): Run | null => {
    const row = runRow(id);
    return row ? hydrate([row])[0]! : null;
  };

  return {
    createExperiment: (experiment: NewExperiment) =>
      ctx.write('createExperiment', () => {
        if (ctx.get('SELECT 1 FROM experiments WHERE name = ?', experiment.name)) {
          throw errors.experimentExists(experiment.name);
        }
        insertExperiment(ctx, experiment);
        return toExperiment(experimentById(experiment.id)!);
      }),

    getExperiment: (id) =>
      ctx.read('getExperiment', () => {
        const row = experimentById(id);
        return row ? toExperiment(row) : null;
      }),

    getExperimentByName: (name) =>
      ctx.read('getExperimentByName', () => {
        const row = ctx.get<ExperimentRow>('SELECT * FROM experiments WHERE name = ?', name);
        return row ? toExperiment(row) : null;
      }),

    listExperiments: (query = {}) =>
      ctx.read('listExperiments', () => {
        const lifecycle = query.lifecycle ?? 'active';
        const where =
          lifecycle === 'all' ? '' : `WHERE deleted_at IS ${lifecycle === 'active' ? '' : 'NOT '}NULL`;
        return ctx
          .all<ExperimentRow>(`SELECT * FROM experiments ${where} ORDER BY created_at, rowid`)
          .map(toExperiment);
      }),

    updateExperiment: (id, change) =>
      ctx.write('updateExperiment', () => {
        const row = requireExperiment(id);
        if (row.deleted_at !== null) throw errors.experimentDeleted(id, row.name);
        const name = change.name ?? row.name;
        if (name !== row.name && ctx.get('SELECT 1 FROM experiments WHERE name = ?', name)) {
          throw errors.experimentExists(name);
        }
        const tags = JSON.stringify(storeRules.mergeTags(parseTags(row.tags), change.tags));
        ctx.run('UPDATE experiments SET name = ?, tags = ? WHERE id = ?', name, tags, id);
        ctx.emit('experiment.updated', { id, name, fromName: row.name });
        return toExperiment(experimentById(id)!);
      }),

    deleteExperiment: (id, time) =>
      ctx.write('deleteExperiment', () => {
        const row = requireExperiment(id);
        if (row.deleted_at !== null) throw errors.experimentDeleted(id, row.name);
        ctx.run('UPDATE experiments SET deleted_at = ? WHERE id = ?', time, id);
        ctx.run('UPDATE runs SET deleted_at = ? WHERE experiment_id = ? AND deleted_at IS NULL', time, id);
        ctx.emit('experiment.deleted', { id, name: row.name });
        return toExperiment(experimentById(id)!);
      }),

    restoreExperiment: (id) =>
      ctx.write('restoreExperiment', () => {
        const row = requireExperiment(id);
        if (row.deleted_at === null) throw errors.experimentNotDeleted(id, row.name);
        ctx.run(
          'UPDATE runs SET deleted_at = NULL WHERE experiment_id = ? AND deleted_at = ?',
          id,
          row.deleted_at,
        );
        ctx.run('UPDATE experiments SET deleted_at = NULL WHERE id = ?', id);
        ctx.emit('experiment.restored', { id, name: row.name });
        return toExperiment(experimentById(id)!);
      }),

    createRun: (run) =>
      ctx.write('createRun', () => {
        const experiment = requireExperiment(run.experimentId);
        if (experiment.deleted_at !== null) throw errors.experimentDeleted(experiment.id, experiment.name);
        if (runRow(run.id)) throw errors.runExists(run.id);
        ctx.run(
          `INSERT INTO runs (id, experiment_id, name, status, parent_run_id, start_time, end_time)
           VALUES (?, ?, ?, 'running', ?, ?, NULL)`,
          run.id,
          run.experimentId,
          run.name,
          run.parentRunId,
          run.startTime,
        );
        for (const [key, value] of Object.entries(run.tags)) {
          ctx.run('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)', run.id, key, value);
        }
        ctx.emit('run.created', { runId: run.id, experimentId: run.experimentId });
        return loadRun(run.id)!;
      }),

    getRun: (id) => ctx.read('getRun', () => loadRun(id)),

    deleteRun: (id, time) =>
      ctx.write('deleteRun', () => {
        const row = requireRun(id);
        if (row.deleted_at !== null) throw errors.runDeleted(id);
        ctx.run('UPDATE runs SET deleted_at = ? WHERE id = ?', time, id);
        ctx.emit('run.deleted', { runId: id, experimentId: row.experiment_id });
        return loadRun(id)!;
      }),

    restoreRun: (id) =>
      ctx.write('restoreRun', () => {
        const row = requireRun(id);
        if (row.deleted_at === null) throw errors.runNotDeleted(id);
        if (requireExperiment(row.experiment_id).deleted_at !== null) {
          throw errors.runOfDeletedExperiment(id, row.experiment_id);
        }
        ctx.run('UPDATE runs SET deleted_at = NULL WHERE id = ?', id);
        ctx.emit('run.restored', { runId: id, experimentId: row.experiment_id });
        return loadRun(id)!;
      }),

    endRun: (id, status, endTime) =>
      ctx.write('endRun', () => {
        const row = requireRun(id);
        if (row.status !== 'running') throw errors.runEnded(id, row.status);
        ctx.run('UPDATE runs SET status = ?, end_time = ? WHERE id = ?', status, endTime, id);
        ctx.emit('run.updated', { runId: id, status });
        return loadRun(id)!;
      }),

    logParams: (runId, params) =>
      ctx.write('logParams', () => {
        requireRun(runId);
        const stored = (key: string): string | undefined =>
          ctx.get<{ value: string }>('SELECT value FROM params WHERE run_id = ? AND key = ?', runId, key)
            ?.value;
        for (const [key, value] of storeRules.newParams(STORE_NAME, runId, params, stored)) {
          ctx.run('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)', runId, key, value);
        }
      }),

    logMetrics: (runId, points) =>
      ctx.write('logMetrics', () => {
        requireRun(runId);
        for (const point of points) {
          ctx.run(
            'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
            runId,
            point.key,
            point.value,
            point.step,
            point.timestamp,
          );
        }
      }),

    setRunTags: (runId, tags) =>
      ctx.write('setRunTags', () => {
        requireRun(runId);
        for (const [key, value] of Object.entries(tags)) {
          ctx.run(
            'INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
            runId,
            key,
            value,
          );
        }
      }),

    deleteRunTag: (runId, key) =>
      ctx.write('deleteRunTag', () => {
        requireRun(runId);
        ctx.run('DELETE FROM run_tags WHERE run_id = ? AND key = ?', runId, key);
      }),

    getMetricHistory: (runId, key) =>
      ctx.read('getMetricHistory', () =>
        ctx.all<MetricPoint>(
          'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, seq',
          runId,
          key,
        ),
      ),

    searchRuns: (query) =>
      ctx.read('searchRuns', () => {
        if (query.experimentIds.length === 0) return [];
        const { sql, params } = buildSearchRuns(query);
        return hydrate(ctx.query<RunRow>(sql, params));
      }),

    recordRunArtifacts: (runId, files: FileRecord[]) =>
      ctx.write('recordRunArtifacts', () => insertRunArtifacts(ctx, runId, files)),

    listRunArtifacts: (runId, prefix) =>
      ctx.read('listRunArtifacts', () => {
        const rows =
          prefix === undefined || prefix === ''
            ? ctx.all<FileRow>(
                'SELECT path, key, sha256, size FROM run_artifacts WHERE run_id = ? ORDER BY path',
                runId,
              )
            : ctx.all<FileRow>(
                'SELECT path, key, sha256, size FROM run_artifacts WHERE run_id = ? AND substr(path, 1, length(?)) = ? ORDER BY path',
                runId,
                prefix,
                prefix,
              );
        return rows.map(toFile);
      }),
  };
}
