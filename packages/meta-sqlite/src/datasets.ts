import type { DatasetAndEventMethods } from '@modelreg/core';
import { LIMIT, type StoreContext } from './context.js';
import type { DatasetRow, EventRow } from './rows.js';
import { toDataset, toEvent } from './rows.js';
import { errors } from './transactions.js';

export const LAST_EVENT_SEQ = 'SELECT coalesce(max(seq), 0) AS seq FROM events';

export function createDatasetAndEventMethods(ctx: StoreContext): DatasetAndEventMethods {
  const latestLive = (name: string): DatasetRow | undefined =>
    ctx.get<DatasetRow>(
      'SELECT * FROM datasets WHERE name = ? AND deleted_at IS NULL ORDER BY version DESC LIMIT 1',
      name,
    );

  return {
    createDatasetVersion: (dataset) =>
      ctx.write('createDatasetVersion', () => {
        const same = ctx.get<DatasetRow>(
          'SELECT * FROM datasets WHERE name = ? AND sha256 = ? AND deleted_at IS NULL ORDER BY version DESC LIMIT 1',
          dataset.name,
          dataset.sha256,
        );
        if (same) return { dataset: toDataset(same), created: false };
        const version = ctx.get<{ next: number }>(
          'SELECT coalesce(max(version), 0) + 1 AS next FROM datasets WHERE name = ?',
          dataset.name,
        )!.next;
        ctx.run(
          `INSERT INTO datasets (name, version, sha256, size, rows, columns, key, original_name, created_at, deleted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
          dataset.name,
          version,
          dataset.sha256,
          dataset.size,
          dataset.rows,
          JSON.stringify(dataset.columns),
          dataset.key,
          dataset.originalName,
          dataset.createdAt,
        );
        ctx.emit('dataset.created', { name: dataset.name, version, sha256: dataset.sha256 });
        const row = ctx.get<DatasetRow>(
          'SELECT * FROM datasets WHERE name = ? AND version = ?',
          dataset.name,
          version,
        )!;
        return { dataset: toDataset(row), created: true };
      }),

    getDataset: (name, version) =>
      ctx.read('getDataset', () => {
        const row =
          version === undefined
            ? latestLive(name)
            : ctx.get<DatasetRow>(
                'SELECT * FROM datasets WHERE name = ? AND version = ? AND deleted_at IS NULL',
                name,
                version,
              );
        return row ? toDataset(row) : null;
      }),

    listDatasets: () =>
      ctx.read('listDatasets', () =>
        ctx
          .all<DatasetRow>(
            `SELECT d.* FROM datasets d
             WHERE d.deleted_at IS NULL
               AND d.version = (SELECT max(version) FROM datasets l WHERE l.name = d.name AND l.deleted_at IS NULL)
             ORDER BY d.name`,
          )
          .map(toDataset),
      ),

    listDatasetVersions: (name) =>
      ctx.read('listDatasetVersions', () =>
        ctx
          .all<DatasetRow>(
            'SELECT * FROM datasets WHERE name = ? AND deleted_at IS NULL ORDER BY version',
            name,
          )
          .map(toDataset),
      ),

    deleteDataset: (name, version, time) =>
      ctx.write('deleteDataset', () => {
        const rows =
          version === undefined
            ? ctx.all<DatasetRow>(
                'SELECT * FROM datasets WHERE name = ? AND deleted_at IS NULL ORDER BY version',
                name,
              )
            : ctx.all<DatasetRow>(
                'SELECT * FROM datasets WHERE name = ? AND version = ? AND deleted_at IS NULL',
                name,
                version,
              );
        if (rows.length === 0) {
          throw errors.datasetNotFound(name, version);
        }
        for (const row of rows) {
          ctx.run(
            'UPDATE datasets SET deleted_at = ? WHERE name = ? AND version = ?',
            time,
            name,
            row.version,
          );
          ctx.emit('dataset.deleted', { name, version: row.version });
        }
      }),

    listReferencedKeys: () =>
      ctx.read('listReferencedKeys', () => {
        const rows = ctx.all<{ key: string }>(
          `SELECT key FROM run_artifacts
           UNION SELECT json_extract(f.value, '$.key') FROM model_versions v, json_each(v.files) f
           UNION SELECT key FROM datasets`,
        );
        return rows.map((r) => r.key).sort();
      }),

    readEvents: (afterSeq, limit) =>
      ctx.read('readEvents', () =>
        ctx
          .all<EventRow>(`SELECT * FROM events WHERE seq > ? ORDER BY seq ${LIMIT}`, afterSeq, limit)
          .map(toEvent),
      ),

    lastEventSeq: () => ctx.read('lastEventSeq', () => ctx.get<{ seq: number }>(LAST_EVENT_SEQ)!.seq),
  };
}
