import { storeRules } from '@modelreg/core';
import type { ModelMethods, VersionSelector } from '@modelreg/core';
import { errors } from './db.js';
import { appendHistory } from './moves.js';
import { applyPlacement, ensureModel, insertRunArtifacts, insertRunRecord } from './registration.js';
import type { Db, Tx } from './db.js';
import { modelColumns, toModel, toVersion, versionColumns } from './rows.js';
import type { ModelRow, VersionRow } from './rows.js';

/** A tag change as SQL parameters: the object to merge (`||`) and the keys to remove (`-`). */
function tagChange(change: storeRules.TagChange): [string, string[]] {
  const { set, removed } = storeRules.splitTagChange(change);
  return [JSON.stringify(set), removed];
}

/**
 * Locks the live model row for the rest of the transaction. Every change to a model's versions,
 * stages and aliases takes this lock first, so they serialize per model in one fixed lock order.
 */
export async function lockModel(db: Db, tx: Tx, name: string): Promise<void> {
  const [row] = await tx.query(
    `SELECT 1 FROM ${db.s}.models WHERE name = $1 AND deleted_at IS NULL FOR UPDATE`,
    [name],
  );
  if (!row) throw errors.modelNotFound(name);
}

/** Reads a live version inside a transaction (after {@link lockModel}); `NOT_FOUND` when missing or deleted. */
export async function liveVersion(db: Db, tx: Tx, name: string, version: number): Promise<VersionRow> {
  const [row] = await tx.query<VersionRow>(
    `SELECT ${versionColumns(db.s)} FROM ${db.s}.model_versions v
     WHERE v.model_name = $1 AND v.version = $2 AND v.deleted_at IS NULL`,
    [name, version],
  );
  if (!row) throw errors.versionNotFound(name, version);
  return row;
}

/**
 * The one statement that resolves a selector: the live model row, left-joined to the version the
 * selector picks through the unique (model_name, version) index or the partial live-version
 * indexes of migration 2. No row: no live model; `picked` false: the model exists, nothing matches.
 */
export function resolveVersionQuery(s: string, name: string, selector: VersionSelector): [string, unknown[]] {
  const picked =
    selector.type === 'version'
      ? `SELECT * FROM ${s}.model_versions l WHERE l.model_name = m.name AND l.version = $2::bigint
           AND l.deleted_at IS NULL`
      : selector.type === 'alias'
        ? `SELECT l.* FROM ${s}.aliases a JOIN ${s}.model_versions l
             ON l.model_name = a.model_name AND l.version = a.version AND l.deleted_at IS NULL
           WHERE a.model_name = m.name AND a.alias = $2::text`
        : `SELECT * FROM ${s}.model_versions l WHERE l.model_name = m.name AND l.deleted_at IS NULL
             ${selector.type === 'stage' ? 'AND l.stage = $2::text' : ''}
           ORDER BY l.version DESC LIMIT 1`;
  const arg =
    selector.type === 'version'
      ? [selector.version]
      : selector.type === 'alias'
        ? [selector.alias]
        : selector.type === 'stage'
          ? [selector.stage]
          : [];
  const sql = `SELECT v.model_name IS NOT NULL AS picked, ${versionColumns(s)}
    FROM ${s}.models m LEFT JOIN LATERAL (${picked}) v ON true
    WHERE m.name = $1 AND m.deleted_at IS NULL`;
  return [sql, [name, ...arg]];
}

export function modelMethods(db: Db): ModelMethods {
  const { s } = db;
  const selectModel = `SELECT ${modelColumns(s)} FROM ${s}.models m`;
  const selectVersion = `SELECT ${versionColumns(s)} FROM ${s}.model_versions v`;

  const readModel = async (tx: Tx, name: string): Promise<ModelRow> => {
    const [row] = await tx.query<ModelRow>(`${selectModel} WHERE m.name = $1`, [name]);
    return row as ModelRow;
  };

  return {
    createModel: ({ name, description, tags, createdAt }) =>
      db.transaction(async (tx) => {
        // A concurrent insert of the same name waits for the first to commit, then takes the
        // conflict branch: exactly one caller creates (or revives) the model.
        const rows = await tx.query(
          `INSERT INTO ${s}.models AS m (name, description, tags, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, tags = EXCLUDED.tags,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, deleted_at = NULL
           WHERE m.deleted_at IS NOT NULL
           RETURNING name`,
          [name, description, JSON.stringify(tags), createdAt],
        );
        if (rows.length === 0) {
          throw errors.modelExists(name);
        }
        tx.emit('model.created', { name });
        return toModel(await readModel(tx, name));
      }),

    async getModel(name) {
      const [row] = await db.read<ModelRow>(`${selectModel} WHERE m.name = $1 AND m.deleted_at IS NULL`, [
        name,
      ]);
      return row ? toModel(row) : null;
    },

    async listModels(query) {
      const rows = await db.read<ModelRow>(
        `${selectModel} WHERE m.deleted_at IS NULL AND ($1::text IS NULL OR strpos(m.name, $1) > 0)
           AND m.tags @> $2::jsonb
         ORDER BY m.name COLLATE "C" LIMIT $3 OFFSET $4`,
        [query.nameContains ?? null, JSON.stringify(query.tags ?? {}), query.limit, query.offset],
      );
      return rows.map(toModel);
    },

    updateModel: (name, change) =>
      db.transaction(async (tx) => {
        const [set, removed] = tagChange(change.tags);
        const rows = await tx.query(
          `UPDATE ${s}.models SET description = COALESCE($2, description), tags = (tags || $3::jsonb) - $4::text[],
             updated_at = $5
           WHERE name = $1 AND deleted_at IS NULL RETURNING name`,
          [name, change.description ?? null, set, removed, change.time],
        );
        if (rows.length === 0) throw errors.modelNotFound(name);
        tx.emit('model.updated', { name });
        return toModel(await readModel(tx, name));
      }),

    deleteModel: (name, time) =>
      db.transaction(async (tx) => {
        await lockModel(db, tx, name);
        await tx.query(`DELETE FROM ${s}.aliases WHERE model_name = $1`, [name]);
        await tx.query(
          `UPDATE ${s}.model_versions SET deleted_at = $2 WHERE model_name = $1 AND deleted_at IS NULL`,
          [name, time],
        );
        await tx.query(`UPDATE ${s}.models SET deleted_at = $2 WHERE name = $1`, [name, time]);
        tx.emit('model.deleted', { name });
      }),

    renameModel: (name, newName, time) =>
      db.transaction(async (tx) => {
        await lockModel(db, tx, name);
        const [taken] = await tx.query<{ deleted_at: string | null }>(
          `SELECT deleted_at FROM ${s}.models WHERE name = $1`,
          [newName],
        );
        if (taken) throw errors.modelNameTaken(newName, taken.deleted_at !== null);
        const [deployed] = await tx.query(
          `SELECT 1 FROM ${s}.deployments WHERE model = $1 AND deleted_at IS NULL`,
          [name],
        );
        if (deployed) throw errors.modelDeployed(name);
        // The versions and their aliases follow through ON UPDATE CASCADE (migration 8).
        await tx.query(`UPDATE ${s}.models SET name = $2, updated_at = $3 WHERE name = $1`, [
          name,
          newName,
          time,
        ]);
        await tx.query(`UPDATE ${s}.history SET model_name = $2 WHERE model_name = $1`, [name, newName]);
        tx.emit('model.renamed', { name, newName });
        return toModel(await readModel(tx, newName));
      }),

    createVersion: (input) =>
      db.transaction(async (tx) => {
        // Lock order: run rows before the model row, so two registrations cannot deadlock.
        if (input.run) await insertRunRecord(db, tx, input.run);
        if (input.runArtifacts?.length)
          await insertRunArtifacts(db, tx, input.runId ?? '', input.runArtifacts);
        if (input.createModel) await ensureModel(db, tx, input);
        const initialStage = input.placement?.fromStage ?? input.stage;
        // The counter row is the allocation: its row lock serializes concurrent creators, and a
        // rolled-back transaction rolls the counter back too, so numbers have no gaps and are never reused.
        const [counter] = await tx.query<{ last_version: string }>(
          `UPDATE ${s}.models SET last_version = last_version + 1, updated_at = GREATEST(updated_at, $2)
           WHERE name = $1 AND deleted_at IS NULL RETURNING last_version`,
          [input.name, input.createdAt],
        );
        if (!counter) throw errors.modelNotFound(input.name);
        const version = Number(counter.last_version);
        await tx.query(
          `INSERT INTO ${s}.model_versions (model_name, version, stage, source, run_id, files, description, tags,
             created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
          [
            input.name,
            version,
            initialStage,
            input.source,
            input.runId,
            JSON.stringify(input.files),
            input.description,
            JSON.stringify(input.tags),
            input.createdAt,
          ],
        );
        tx.emit('version.created', { name: input.name, version, stage: initialStage });
        if (input.placement) await applyPlacement(db, tx, input, version, input.placement);
        return toVersion(await liveVersion(db, tx, input.name, version));
      }),

    async getVersion(name, version, options = {}) {
      const [row] = await db.read<VersionRow>(
        `${selectVersion} WHERE v.model_name = $1 AND v.version = $2 AND ($3 OR v.deleted_at IS NULL)`,
        [name, version, options.includeDeleted === true],
      );
      return row ? toVersion(row) : null;
    },

    async listVersions(name, options = {}) {
      const rows = await db.read<VersionRow>(
        `${selectVersion} WHERE v.model_name = $1 AND ($2 OR v.deleted_at IS NULL)
           AND ($3::text IS NULL OR v.stage = $3)
         ORDER BY v.version`,
        [name, options.includeDeleted === true, options.stage ?? null],
      );
      return rows.map(toVersion);
    },

    async resolveVersion(name, selector) {
      const [sql, params] = resolveVersionQuery(s, name, selector);
      const [row] = await db.read<VersionRow & { picked: boolean }>(sql, params);
      if (!row) return null;
      return { version: row.picked ? toVersion(row) : null };
    },

    updateVersion: (name, version, change) =>
      db.transaction(async (tx) => {
        await lockModel(db, tx, name);
        await liveVersion(db, tx, name, version);
        const [set, removed] = tagChange(change.tags);
        await tx.query(
          `UPDATE ${s}.model_versions SET description = COALESCE($3, description),
             tags = (tags || $4::jsonb) - $5::text[], updated_at = $6
           WHERE model_name = $1 AND version = $2`,
          [name, version, change.description ?? null, set, removed, change.time],
        );
        tx.emit('version.updated', { name, version });
        return toVersion(await liveVersion(db, tx, name, version));
      }),

    deleteVersion: (name, version, time) =>
      db.transaction(async (tx) => {
        await lockModel(db, tx, name);
        await liveVersion(db, tx, name, version);
        const dropped = await tx.query<{ alias: string }>(
          `DELETE FROM ${s}.aliases WHERE model_name = $1 AND version = $2 RETURNING alias`,
          [name, version],
        );
        await tx.query(
          `UPDATE ${s}.model_versions SET deleted_at = $3 WHERE model_name = $1 AND version = $2`,
          [name, version, time],
        );
        tx.emit('version.deleted', { name, version });
        const aliases = dropped.map((r) => r.alias).sort(storeRules.compareText);
        for (const alias of aliases) {
          await appendHistory(
            db,
            tx,
            storeRules.aliasEntry(
              'alias_deleted',
              name,
              alias,
              version,
              version,
              storeRules.systemActor(time),
            ),
          );
          tx.emit('alias.deleted', { name, alias, version });
        }
      }),
  };
}
