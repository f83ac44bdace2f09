import type {
  Deployment,
  DeploymentHistoryEntry,
  DeploymentMethods,
  DeploymentRef,
  DeploymentSpec,
} from '@modelreg/core';
import { storeRules } from '@modelreg/core';
import { errors, WHERE } from './db.js';
import type { Db, Tx } from './db.js';

interface SpecRow {
  model: string;
  current_ref: DeploymentRef;
  next_ref: DeploymentRef;
  weight: number;
  sticky_key: string | null;
  mode: DeploymentSpec['mode'];
}
interface DeploymentRow extends SpecRow {
  revision: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
  deleted_at: string | null;
}
interface HistoryRow extends SpecRow {
  id: string;
  action: DeploymentHistoryEntry['action'];
  revision: string;
  actor: string;
  comment: string;
  time: string;
}

// References are jsonb, so version 3 and a stage named "3" stay apart.
const specOf = (row: SpecRow): DeploymentSpec => ({
  model: row.model,
  current: row.current_ref,
  next: row.next_ref,
  weight: Number(row.weight),
  stickyKey: row.sticky_key,
  mode: row.mode,
});
const toDeployment = (row: DeploymentRow): Deployment => ({
  ...specOf(row),
  revision: Number(row.revision),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  updatedBy: row.updated_by,
});

export function deploymentMethods(db: Db): DeploymentMethods {
  const { s } = db;
  const history = `INSERT INTO ${s}.deployment_history
    (model, action, revision, current_ref, next_ref, weight, sticky_key, mode, actor, comment, time)
    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11)`;

  /** Serializes the changes of one model's deployment (the row may not exist yet, so a row lock cannot). */
  const lock = async (tx: Tx, model: string): Promise<DeploymentRow | undefined> => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `modelreg.deployment.${s}.${model}`,
    ]);
    const [row] = await tx.query<DeploymentRow>(`SELECT * FROM ${s}.deployments WHERE model = $1`, [model]);
    return row;
  };

  return {
    saveDeployment: (change) =>
      db.transaction(async (tx) => {
        const d = change.deployment;
        const old = await lock(tx, d.model);
        const live = old && old.deleted_at === null ? old : undefined;
        const liveRevision = live ? Number(live.revision) : null;
        storeRules.checkDeploymentCas(WHERE, d.model, change.ifRevision, liveRevision);
        const revision = (old ? Number(old.revision) : 0) + 1;
        const current = JSON.stringify(d.current);
        const next = JSON.stringify(d.next);
        const [row] = await tx.query<DeploymentRow>(
          `INSERT INTO ${s}.deployments
             (model, current_ref, next_ref, weight, sticky_key, mode, revision, created_at, updated_at, updated_by, deleted_at)
           VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, NULL)
           ON CONFLICT (model) DO UPDATE SET current_ref = EXCLUDED.current_ref, next_ref = EXCLUDED.next_ref,
             weight = EXCLUDED.weight, sticky_key = EXCLUDED.sticky_key, mode = EXCLUDED.mode,
             revision = EXCLUDED.revision, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
             updated_by = EXCLUDED.updated_by, deleted_at = NULL
           RETURNING *`,
          [
            d.model,
            current,
            next,
            d.weight,
            d.stickyKey,
            d.mode,
            revision,
            live ? Number(live.created_at) : change.time,
            change.time,
            change.actor,
          ],
        );
        await tx.query(history, [
          d.model,
          change.action,
          revision,
          current,
          next,
          d.weight,
          d.stickyKey,
          d.mode,
          change.actor,
          change.comment,
          change.time,
        ]);
        tx.emit('deployment.updated', { model: d.model, revision, action: change.action });
        return toDeployment(row!);
      }),

    getDeployment: async (model) => {
      const [row] = await db.read<DeploymentRow>(
        `SELECT * FROM ${s}.deployments WHERE model = $1 AND deleted_at IS NULL`,
        [model],
      );
      return row ? toDeployment(row) : null;
    },

    listDeployments: async () =>
      (
        await db.read<DeploymentRow>(
          `SELECT * FROM ${s}.deployments WHERE deleted_at IS NULL ORDER BY model COLLATE "C"`,
        )
      ).map(toDeployment),

    deleteDeployment: (change) =>
      db.transaction(async (tx) => {
        const old = await lock(tx, change.model);
        if (!old || old.deleted_at !== null) throw errors.deploymentNotFound(change.model);
        storeRules.checkDeploymentCas(WHERE, change.model, change.ifRevision, Number(old.revision));
        const revision = Number(old.revision) + 1;
        await tx.query(
          `UPDATE ${s}.deployments SET revision = $2, updated_at = $3, updated_by = $4, deleted_at = $3 WHERE model = $1`,
          [change.model, revision, change.time, change.actor],
        );
        await tx.query(history, [
          change.model,
          'delete',
          revision,
          JSON.stringify(old.current_ref),
          JSON.stringify(old.next_ref),
          old.weight,
          old.sticky_key,
          old.mode,
          change.actor,
          change.comment,
          change.time,
        ]);
        tx.emit('deployment.deleted', { model: change.model, revision });
      }),

    getDeploymentHistory: async (model) =>
      (
        await db.read<HistoryRow>(`SELECT * FROM ${s}.deployment_history WHERE model = $1 ORDER BY id`, [
          model,
        ])
      ).map((h) => ({
        id: Number(h.id),
        ...specOf(h),
        action: h.action,
        revision: Number(h.revision),
        actor: h.actor,
        comment: h.comment,
        time: Number(h.time),
      })),
  };
}
