import { storeRules } from '@modelreg/core';
import type { Db, Tx } from './db.js';

type Who = { actor: string; comment: string; time: number };

/** Appends one history entry in the transaction. */
export async function appendHistory(db: Db, tx: Tx, h: storeRules.HistoryDraft): Promise<void> {
  await tx.query(
    `INSERT INTO ${db.s}.history (model_name, kind, version, from_stage, to_stage, alias, from_version, actor, comment, time)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [h.name, h.kind, h.version, h.fromStage, h.toStage, h.alias, h.fromVersion, h.actor, h.comment, h.time],
  );
}

/** Moves one version to `toStage`, with its history entry and event. The caller holds the model lock. */
export async function moveStage(
  db: Db,
  tx: Tx,
  name: string,
  version: number,
  fromStage: string,
  toStage: string,
  by: Who,
): Promise<void> {
  await tx.query(
    `UPDATE ${db.s}.model_versions SET stage = $3, updated_at = $4 WHERE model_name = $1 AND version = $2`,
    [name, version, toStage, by.time],
  );
  await appendHistory(db, tx, storeRules.stageMoveEntry(name, version, fromStage, toStage, by));
  tx.emit('version.stage_changed', { name, version, fromStage, toStage });
}

/**
 * Moves every other live version of `stage` to `archiveTo` (see `storeRules.archiveStageFor`), in
 * version order, with history and events. Returns the moved version numbers.
 */
export async function archiveOthers(
  db: Db,
  tx: Tx,
  name: string,
  stage: string,
  archiveTo: string | undefined,
  keep: number,
  by: Who,
): Promise<number[]> {
  const target = storeRules.archiveStageFor(stage, archiveTo);
  if (target === undefined) return [];
  const moved = await tx.query<{ version: string }>(
    `UPDATE ${db.s}.model_versions SET stage = $3, updated_at = $4
     WHERE model_name = $1 AND stage = $2 AND version <> $5 AND deleted_at IS NULL
     RETURNING version`,
    [name, stage, target, by.time, keep],
  );
  const numbers = moved.map((r) => Number(r.version)).sort((a, b) => a - b);
  for (const version of numbers) {
    await appendHistory(db, tx, storeRules.stageMoveEntry(name, version, stage, target, by));
    tx.emit('version.stage_changed', { name, version, fromStage: stage, toStage: target });
  }
  return numbers;
}

/** Where the alias points now, or `null`. */
export async function currentAlias(db: Db, tx: Tx, name: string, alias: string): Promise<number | null> {
  const [row] = await tx.query<{ version: string }>(
    `SELECT version FROM ${db.s}.aliases WHERE model_name = $1 AND alias = $2`,
    [name, alias],
  );
  return row ? Number(row.version) : null;
}

/** Points the alias at `version` (its current target is `fromVersion`), with history and event. */
export async function pointAlias(
  db: Db,
  tx: Tx,
  name: string,
  alias: string,
  version: number,
  fromVersion: number | null,
  by: Who,
): Promise<void> {
  await tx.query(
    `INSERT INTO ${db.s}.aliases (model_name, alias, version) VALUES ($1, $2, $3)
     ON CONFLICT (model_name, alias) DO UPDATE SET version = EXCLUDED.version`,
    [name, alias, version],
  );
  await appendHistory(db, tx, storeRules.aliasEntry('alias_set', name, alias, version, fromVersion, by));
  tx.emit('alias.set', { name, alias, version, fromVersion });
}
