import { RegistryError } from '@modelreg/core';
import type { MetadataStore } from '@modelreg/core';
import { WHERE } from './db.js';
import type { Db, Tx } from './db.js';
import { liveVersion, lockModel, notFound } from './models.js';
import { toHistoryEntry, toVersion, versionColumns } from './rows.js';
import type { HistoryRow, VersionRow } from './rows.js';

type StageMethods = Pick<MetadataStore, 'transitionStage' | 'setAlias' | 'deleteAlias' | 'getHistory'>;

interface HistoryInsert {
  name: string;
  kind: 'stage' | 'alias_set' | 'alias_deleted';
  version: number;
  fromStage?: string | null;
  toStage?: string | null;
  alias?: string | null;
  fromVersion?: number | null;
  actor: string;
  comment: string;
  time: number;
}

export function stageMethods(db: Db): StageMethods {
  const { s } = db;

  const record = async (tx: Tx, h: HistoryInsert): Promise<void> => {
    await tx.query(
      `INSERT INTO ${s}.history (model_name, kind, version, from_stage, to_stage, alias, from_version, actor, comment, time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        h.name,
        h.kind,
        h.version,
        h.fromStage ?? null,
        h.toStage ?? null,
        h.alias ?? null,
        h.fromVersion ?? null,
        h.actor,
        h.comment,
        h.time,
      ],
    );
  };

  const currentAlias = async (tx: Tx, name: string, alias: string): Promise<number | null> => {
    const [row] = await tx.query<{ version: string }>(
      `SELECT version FROM ${s}.aliases WHERE model_name = $1 AND alias = $2`,
      [name, alias],
    );
    return row ? Number(row.version) : null;
  };

  const casFailed = (
    name: string,
    alias: string,
    current: number | null,
    expected: number | null,
  ): RegistryError =>
    new RegistryError(
      'CONFLICT',
      `alias "${alias}" of model "${name}" points at ${current ?? 'nothing'}, expected ${expected ?? 'nothing'}`,
      { where: WHERE },
    );

  return {
    transitionStage: (change) =>
      db.transaction(async (tx) => {
        const { name, actor, comment, time } = change;
        // The model row lock serializes every stage move of the model: two concurrent
        // `archiveExisting` moves cannot both see "no other version in production".
        await lockModel(db, tx, name);
        const target = await liveVersion(db, tx, name, change.version);
        if (target.stage === change.toStage) return { version: toVersion(target), archived: [] };

        await tx.query(
          `UPDATE ${s}.model_versions SET stage = $3, updated_at = $4 WHERE model_name = $1 AND version = $2`,
          [name, change.version, change.toStage, time],
        );
        await record(tx, {
          name,
          kind: 'stage',
          version: change.version,
          fromStage: target.stage,
          toStage: change.toStage,
          actor,
          comment,
          time,
        });
        tx.emit('version.stage_changed', {
          name,
          version: change.version,
          fromStage: target.stage,
          toStage: change.toStage,
        });

        let archived: VersionRow[] = [];
        if (change.archiveExisting && change.archiveStage !== change.toStage) {
          const moved = await tx.query<{ version: string }>(
            `UPDATE ${s}.model_versions SET stage = $3, updated_at = $4
             WHERE model_name = $1 AND stage = $2 AND version <> $5 AND deleted_at IS NULL
             RETURNING version`,
            [name, change.toStage, change.archiveStage, time, change.version],
          );
          const numbers = moved.map((r) => Number(r.version)).sort((a, b) => a - b);
          for (const version of numbers) {
            await record(tx, {
              name,
              kind: 'stage',
              version,
              fromStage: change.toStage,
              toStage: change.archiveStage,
              actor,
              comment,
              time,
            });
            tx.emit('version.stage_changed', {
              name,
              version,
              fromStage: change.toStage,
              toStage: change.archiveStage,
            });
          }
          archived = await tx.query<VersionRow>(
            `SELECT ${versionColumns(s)} FROM ${s}.model_versions v
             WHERE v.model_name = $1 AND v.version = ANY($2::bigint[]) ORDER BY v.version`,
            [name, numbers],
          );
        }
        const version = await liveVersion(db, tx, name, change.version);
        return { version: toVersion(version), archived: archived.map(toVersion) };
      }),

    setAlias: (change) =>
      db.transaction(async (tx) => {
        const { name, alias, version, actor, comment, time } = change;
        await lockModel(db, tx, name);
        await liveVersion(db, tx, name, version);
        const current = await currentAlias(tx, name, alias);
        if (change.ifVersion !== undefined && change.ifVersion !== current) {
          throw casFailed(name, alias, current, change.ifVersion);
        }
        await tx.query(
          `INSERT INTO ${s}.aliases (model_name, alias, version) VALUES ($1, $2, $3)
           ON CONFLICT (model_name, alias) DO UPDATE SET version = EXCLUDED.version`,
          [name, alias, version],
        );
        await record(tx, {
          name,
          kind: 'alias_set',
          version,
          alias,
          fromVersion: current,
          actor,
          comment,
          time,
        });
        tx.emit('alias.set', { name, alias, version, fromVersion: current });
      }),

    deleteAlias: (change) =>
      db.transaction(async (tx) => {
        const { name, alias, actor, comment, time } = change;
        await lockModel(db, tx, name);
        const current = await currentAlias(tx, name, alias);
        if (current === null) throw notFound(`model "${name}" has no alias "${alias}"`);
        if (change.ifVersion !== undefined && change.ifVersion !== current) {
          throw casFailed(name, alias, current, change.ifVersion);
        }
        await tx.query(`DELETE FROM ${s}.aliases WHERE model_name = $1 AND alias = $2`, [name, alias]);
        await record(tx, {
          name,
          kind: 'alias_deleted',
          version: current,
          alias,
          fromVersion: current,
          actor,
          comment,
          time,
        });
        tx.emit('alias.deleted', { name, alias, version: current });
      }),

    async getHistory(name, options = {}) {
      const rows = await db.read<HistoryRow>(
        `SELECT h.id, h.model_name, h.kind, h.version, h.from_stage, h.to_stage, h.alias, h.from_version, h.actor,
           h.comment, h.time
         FROM ${s}.history h
         WHERE h.model_name = $1 AND ($2::bigint IS NULL OR h.version = $2)
           AND EXISTS (SELECT 1 FROM ${s}.models m WHERE m.name = $1 AND m.deleted_at IS NULL)
         ORDER BY h.id`,
        [name, options.version ?? null],
      );
      return rows.map(toHistoryEntry);
    },
  };
}
