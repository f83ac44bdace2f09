import type { Deployment, DeploymentHistoryEntry, DeploymentSpec } from '../domain/deployments.js';
import type { DeploymentMethods, EventDraft } from '../stores/metadata-store.js';
import { checkDeploymentCas, compareText } from '../stores/rules.js';
import { errors, WHERE } from './memory-state.js';

export interface DeploymentState {
  /** `null` once deleted; the record stays so that revisions are never reused. */
  live: Deployment | null;
  revision: number;
}

const specOf = (d: DeploymentSpec): DeploymentSpec => ({
  model: d.model,
  current: d.current,
  next: d.next,
  weight: d.weight,
  stickyKey: d.stickyKey,
  mode: d.mode,
});

/** Deployments and their history, over the memory store's state. */
export function memoryDeploymentMethods(
  emit: (...drafts: EventDraft[]) => void,
  /** Shared with the model methods, which refuse to rename a deployed model. */
  deployments: Map<string, DeploymentState>,
): DeploymentMethods {
  const history: DeploymentHistoryEntry[] = [];

  return {
    async saveDeployment(change) {
      const { model } = change.deployment;
      const state = deployments.get(model);
      checkDeploymentCas(WHERE, model, change.ifRevision, state?.live?.revision ?? null);
      const revision = (state?.revision ?? 0) + 1;
      const deployment: Deployment = {
        ...specOf(change.deployment),
        revision,
        createdAt: state?.live?.createdAt ?? change.time,
        updatedAt: change.time,
        updatedBy: change.actor,
      };
      deployments.set(model, { live: deployment, revision });
      history.push({
        id: history.length + 1,
        ...specOf(deployment),
        action: change.action,
        revision,
        actor: change.actor,
        comment: change.comment,
        time: change.time,
      });
      emit({ type: 'deployment.updated', payload: { model, revision, action: change.action } });
      return structuredClone(deployment);
    },

    async getDeployment(model) {
      const live = deployments.get(model)?.live;
      return live ? structuredClone(live) : null;
    },

    async listDeployments() {
      return [...deployments.values()]
        .flatMap((s) => (s.live ? [structuredClone(s.live)] : []))
        .sort((a, b) => compareText(a.model, b.model));
    },

    async deleteDeployment(change) {
      const state = deployments.get(change.model);
      if (!state?.live) throw errors.deploymentNotFound(change.model);
      checkDeploymentCas(WHERE, change.model, change.ifRevision, state.live.revision);
      const revision = state.revision + 1;
      history.push({
        id: history.length + 1,
        ...specOf(state.live),
        action: 'delete',
        revision,
        actor: change.actor,
        comment: change.comment,
        time: change.time,
      });
      deployments.set(change.model, { live: null, revision });
      emit({ type: 'deployment.deleted', payload: { model: change.model, revision } });
    },

    async getDeploymentHistory(model) {
      return structuredClone(history.filter((h) => h.model === model));
    },
  };
}
