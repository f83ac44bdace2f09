import type { DatasetAndEventMethods } from '@modelreg/core';
import { errors } from './db.js';
import type { Db } from './db.js';
import { toDataset, toEvent } from './rows.js';
import type { DatasetRow, EventRow } from './rows.js';

const columns = `name, version, sha256, size, row_count AS rows, columns, key, original_name, created_at, deleted_at`;

export function datasetMethods(db: Db): DatasetAndEventMethods {
  const { s } = db;

  return {
    createDatasetVersion: (input) =>
      db.transaction(async (tx) => {
        // The per-name counter row is locked before the sha256 check, so two uploads of the same
        // bytes cannot both create a version, and numbers continue past deleted versions.
        await tx.query(`INSERT INTO ${s}.dataset_names (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [
          input.name,
        ]);
        await tx.query(`SELECT 1 FROM ${s}.dataset_names WHERE name = $1 FOR UPDATE`, [input.name]);
        const [same] = await tx.query<DatasetRow>(
          `SELECT ${columns} FROM ${s}.datasets WHERE name = $1 AND sha256 = $2 AND deleted_at IS NULL
           ORDER BY version LIMIT 1`,
          [input.name, input.sha256],
        );
        if (same) return { dataset: toDataset(same), created: false };
        const [counter] = await tx.query<{ last_version: string }>(
          `UPDATE ${s}.dataset_names SET last_version = last_version + 1 WHERE name = $1 RETURNING last_version`,
          [input.name],
        );
        const version = Number(counter?.last_version);
        const [row] = await tx.query<DatasetRow>(
          `INSERT INTO ${s}.datasets (name, version, sha256, size, row_count, columns, key, original_name, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${columns}`,
          [
            input.name,
            version,
            input.sha256,
            input.size,
            input.rows,
            JSON.stringify(input.columns),
            input.key,
            input.originalName,
            input.createdAt,
          ],
        );
        tx.emit('dataset.created', { name: input.name, version, sha256: input.sha256 });
        return { dataset: toDataset(row as DatasetRow), created: true };
      }),

    async getDataset(name, version) {
      const [row] = await db.read<DatasetRow>(
        `SELECT ${columns} FROM ${s}.datasets WHERE name = $1 AND deleted_at IS NULL
           AND ($2::bigint IS NULL OR version = $2)
         ORDER BY version DESC LIMIT 1`,
        [name, version ?? null],
      );
      return row ? toDataset(row) : null;
    },

    async listDatasets() {
      const rows = await db.read<DatasetRow>(
        `SELECT * FROM (
           SELECT DISTINCT ON (name) ${columns} FROM ${s}.datasets WHERE deleted_at IS NULL
           ORDER BY name, version DESC
         ) latest ORDER BY name COLLATE "C"`,
      );
      return rows.map(toDataset);
    },

    async listDatasetVersions(name) {
      const rows = await db.read<DatasetRow>(
        `SELECT ${columns} FROM ${s}.datasets WHERE name = $1 AND deleted_at IS NULL ORDER BY version`,
        [name],
      );
      return rows.map(toDataset);
    },

    deleteDataset: (name, version, time) =>
      db.transaction(async (tx) => {
        const deleted = await tx.query<{ version: string }>(
          `UPDATE ${s}.datasets SET deleted_at = $3
           WHERE name = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR version = $2)
           RETURNING version`,
          [name, version ?? null, time],
        );
        if (deleted.length === 0) throw errors.datasetNotFound(name, version);
        for (const v of deleted.map((r) => Number(r.version)).sort((a, b) => a - b)) {
          tx.emit('dataset.deleted', { name, version: v });
        }
      }),

    async listReferencedKeys() {
      const rows = await db.read<{ key: string }>(
        `SELECT key FROM (
           SELECT key FROM ${s}.run_artifacts
           UNION SELECT f ->> 'key' FROM ${s}.model_versions, jsonb_array_elements(files) f
           UNION SELECT key FROM ${s}.datasets
         ) k (key) ORDER BY key COLLATE "C"`,
      );
      return rows.map((r) => r.key);
    },

    async readEvents(afterSeq, limit) {
      const rows = await db.read<EventRow>(
        `SELECT seq, type, time, payload FROM ${s}.events WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [afterSeq, limit],
      );
      return rows.map(toEvent);
    },

    async lastEventSeq() {
      const [row] = await db.read<{ seq: string }>(`SELECT COALESCE(max(seq), 0) AS seq FROM ${s}.events`);
      return Number(row?.seq ?? 0);
    },
  };
}
