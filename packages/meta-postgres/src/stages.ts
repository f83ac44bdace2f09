import { storeRules } from '@modelreg/core';
import type { StageMethods } from '@modelreg/core';
import { errors, WHERE } from './db.js';
import type { Db } from './db.js';
import { liveVersion, lockModel } from './models.js';
import { appendHistory, archiveOthers, currentAlias, moveStage, pointAlias } from './moves.js';
import { toHistoryEntry, toVersion, versionColumns } from './rows.js';
import type { HistoryRow, VersionRow } from './rows.js';

export function stageMethods(db: Db): StageMethods {
  const { s } = db;

  return {
    transitionStage: (change) =>
      db.transaction(async (tx) => {
        const { name } = change;
        // The model row lock serializes every stage move of the model: two concurrent
        // `archiveExisting` moves cannot both see "no other version in production".
        await lockModel(db, tx, name);
        const target = await liveVersion(db, tx, name, change.version);
        if (target.stage === change.toStage) return { version: toVersion(target), archived: [] };
        await moveStage(db, tx, name, change.version, target.stage, change.toStage, change);
        const archiveTo = change.archiveExisting ? change.archiveStage : undefined;
        const numbers = await archiveOthers(db, tx, name, change.toStage, archiveTo, change.version, change);
        const archived =
          numbers.length === 0
            ? []
            : await tx.query<VersionRow>(
                `SELECT ${versionColumns(s)} FROM ${s}.model_versions v
                 WHERE v.model_name = $1 AND v.version = ANY($2::bigint[]) ORDER BY v.version`,
                [name, numbers],
              );
        const version = await liveVersion(db, tx, name, change.version);
        return { version: toVersion(version), archived: archived.map(toVersion) };
      }),

    setAlias: (change) =>
      db.transaction(async (tx) => {
        const { name, alias, version } = change;
        await lockModel(db, tx, name);
        await liveVersion(db, tx, name, version);
        const current = await currentAlias(db, tx, name, alias);
        storeRules.checkAliasCas(WHERE, change, current);
        await pointAlias(db, tx, name, alias, version, current, change);
      }),

    deleteAlias: (change) =>
      db.transaction(async (tx) => {
        const { name, alias } = change;
        await lockModel(db, tx, name);
        const current = await currentAlias(db, tx, name, alias);
        if (current === null) throw errors.aliasNotFound(name, alias);
        storeRules.checkAliasCas(WHERE, change, current);
        await tx.query(`DELETE FROM ${s}.aliases WHERE model_name = $1 AND alias = $2`, [name, alias]);
        await appendHistory(
          db,
          tx,
          storeRules.aliasEntry('alias_deleted', name, alias, current, current, change),
        );
        tx.emit('alias.deleted', { name, alias, version: current });
      }),

    async getHistory(name, options = {}) {
      const rows = await db.read<HistoryRow>(
        `SELECT h.id, h.model_name AS name, h.kind, h.version, h.from_stage, h.to_stage, h.alias, h.from_version, h.actor,
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
