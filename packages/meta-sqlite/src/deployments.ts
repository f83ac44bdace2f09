import type {
  Deployment,
  DeploymentHistoryEntry,
  DeploymentMethods,
  DeploymentRef,
  DeploymentSpec,
} from '@modelreg/core';
import { storeRules } from '@modelreg/core';
import type { StoreContext } from './context.js';
import { STORE_NAME, errors } from './transactions.js';

interface SpecRow {
  model: string;
  current_ref: string;
  next_ref: string;
  weight: number;
  sticky_key: string | null;
  mode: DeploymentSpec['mode'];
}
interface DeploymentRow extends SpecRow {
  revision: number;
  created_at: number;
  updated_at: number;
  updated_by: string;
  deleted_at: number | null;
}
interface HistoryRow extends SpecRow {
  id: number;
  action: DeploymentHistoryEntry['action'];
  revision: number;
  actor: string;
  comment: string;
  time: number;
}

/** References are stored as JSON, so version 3 and a stage named "3" stay apart. */
const ref = (text: string): DeploymentRef => JSON.parse(text) as DeploymentRef;
const specOf = (row: SpecRow): DeploymentSpec => ({
  model: row.model,
  current: ref(row.current_ref),
  next: ref(row.next_ref),
  weight: row.weight,
  stickyKey: row.sticky_key,
  mode: row.mode,
});
const toDeployment = (row: DeploymentRow): Deployment => ({
  ...specOf(row),
  revision: row.revision,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  updatedBy: row.updated_by,
});

const HISTORY_INSERT = `INSERT INTO deployment_history
  (model, action, revision, current_ref, next_ref, weight, sticky_key, mode, actor, comment, time)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function createDeploymentMethods(ctx: StoreContext): DeploymentMethods {
  const row = (model: string) => ctx.get<DeploymentRow>('SELECT * FROM deployments WHERE model = ?', model);

  return {
    saveDeployment: (change) =>
      ctx.write('saveDeployment', () => {
        const d = change.deployment;
        const old = row(d.model);
        const live = old && old.deleted_at === null ? old : undefined;
        storeRules.checkDeploymentCas(STORE_NAME, d.model, change.ifRevision, live?.revision ?? null);
        const revision = (old?.revision ?? 0) + 1;
        const current = JSON.stringify(d.current);
        const next = JSON.stringify(d.next);
        ctx.run(
          `INSERT INTO deployments (model, current_ref, next_ref, weight, sticky_key, mode, revision, created_at, updated_at, updated_by, deleted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT (model) DO UPDATE SET current_ref = excluded.current_ref, next_ref = excluded.next_ref,
             weight = excluded.weight, sticky_key = excluded.sticky_key, mode = excluded.mode,
             revision = excluded.revision, created_at = excluded.created_at, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by, deleted_at = NULL`,
          d.model,
          current,
          next,
          d.weight,
          d.stickyKey,
          d.mode,
          revision,
          live?.created_at ?? change.time,
          change.time,
          change.actor,
        );
        ctx.run(
          HISTORY_INSERT,
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
        );
        ctx.emit('deployment.updated', { model: d.model, revision, action: change.action });
        return toDeployment(row(d.model)!);
      }),

    getDeployment: (model) =>
      ctx.read('getDeployment', () => {
        const found = row(model);
        return found && found.deleted_at === null ? toDeployment(found) : null;
      }),

    listDeployments: () =>
      ctx.read('listDeployments', () =>
        ctx
          .all<DeploymentRow>('SELECT * FROM deployments WHERE deleted_at IS NULL ORDER BY model')
          .map(toDeployment),
      ),

    deleteDeployment: (change) =>
      ctx.write('deleteDeployment', () => {
        const old = row(change.model);
        if (!old || old.deleted_at !== null) throw errors.deploymentNotFound(change.model);
        storeRules.checkDeploymentCas(STORE_NAME, change.model, change.ifRevision, old.revision);
        const revision = old.revision + 1;
        ctx.run(
          'UPDATE deployments SET revision = ?, updated_at = ?, updated_by = ?, deleted_at = ? WHERE model = ?',
          revision,
          change.time,
          change.actor,
          change.time,
          change.model,
        );
        ctx.run(
          HISTORY_INSERT,
          change.model,
          'delete',
          revision,
          old.current_ref,
          old.next_ref,
          old.weight,
          old.sticky_key,
          old.mode,
          change.actor,
          change.comment,
          change.time,
        );
        ctx.emit('deployment.deleted', { model: change.model, revision });
      }),

    getDeploymentHistory: (model) =>
      ctx.read('getDeploymentHistory', () =>
        ctx
          .all<HistoryRow>('SELECT * FROM deployment_history WHERE model = ? ORDER BY id', model)
          .map((h) => ({
            id: h.id,
            ...specOf(h),
            action: h.action,
            revision: h.revision,
            actor: h.actor,
            comment: h.comment,
            time: h.time,
          })),
      ),
  };
}
