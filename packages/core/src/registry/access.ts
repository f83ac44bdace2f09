import { parseModelUri } from '../domain/uri.js';
import { roleAllows, roleForPermission } from '../domain/identity.js';
import type { Permission, Principal } from '../domain/identity.js';
import { RegistryError } from '../errors.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import type { MetadataStore } from '../stores/metadata-store.js';

/**
 * Permissions of a registry that acts as a principal (`registry.as(principal)`).
 *
 * They are enforced where state changes: the view's stores are wrapped by {@link scopeStores}, so
 * every registry module — and any module added later — checks the role and the model grants before
 * a store writes, without a check of its own. The facade adds the checks that are not store writes
 * (predict) and early checks where failing late would waste work (train with `register`).
 */

const WHERE = 'access';

/** What a store method needs: a permission and, for model changes, the model it touches. */
interface Rule {
  permission: Permission;
  /** The model the call changes, for the principal's model grants. */
  model?: (args: unknown[]) => string | undefined;
}

const first = (args: unknown[]): string | undefined => (typeof args[0] === 'string' ? args[0] : undefined);
const field = (args: unknown[]): string | undefined => {
  const arg = args[0] as { name?: unknown } | undefined;
  return typeof arg?.name === 'string' ? arg.name : undefined;
};
const read: Rule = { permission: 'read' };
const edit: Rule = { permission: 'edit' };
const admin: Rule = { permission: 'admin' };
const editModel = (model: (args: unknown[]) => string | undefined): Rule => ({ permission: 'edit', model });

/**
 * Every metadata store method, classified: TypeScript fails when a method is added to
 * {@link MetadataStore} without a rule here, so no write can slip past the checks.
 */
const metadataRules = {
  init: read,
  close: read,
  createExperiment: edit,
  getExperiment: read,
  getExperimentByName: read,
  listExperiments: read,
  updateExperiment: edit,
  deleteExperiment: admin,
  restoreExperiment: admin,
  createRun: edit,
  getRun: read,
  deleteRun: admin,
  restoreRun: admin,
  endRun: edit,
  logParams: edit,
  logMetrics: edit,
  setRunTags: edit,
  deleteRunTag: edit,
  getMetricHistory: read,
  searchRuns: read,
  recordRunArtifacts: edit,
  listRunArtifacts: read,
  createModel: editModel(field),
  getModel: read,
  listModels: read,
  updateModel: editModel(first),
  deleteModel: admin,
  renameModel: admin,
  createVersion: editModel(field),
  getVersion: read,
  listVersions: read,
  resolveVersion: read,
  updateVersion: editModel(first),
  deleteVersion: admin,
  transitionStage: editModel(field),
  setAlias: editModel(field),
  deleteAlias: editModel(field),
  getHistory: read,
  createDatasetVersion: edit,
  getDataset: read,
  listDatasets: read,
  listDatasetVersions: read,
  deleteDataset: admin,
  listReferencedKeys: read,
  getRegistryId: read,
  claimRegistryId: admin,
  heartbeatRuns: edit,
  expireRuns: admin,
  createJob: edit,
  getJob: read,
  listJobs: read,
  claimJob: edit,
  renewJob: edit,
  finishJob: edit,
  readEvents: read,
  lastEventSeq: read,
  subscribe: read,
  createToken: admin,
  getToken: admin,
  findTokenByHash: admin,
  listTokens: admin,
  revokeToken: admin,
  touchToken: admin,
  saveDeployment: editModel((a) => (a[0] as { deployment?: { model?: string } }).deployment?.model),
  getDeployment: read,
  listDeployments: read,
  deleteDeployment: editModel((a) => (a[0] as { model?: string }).model),
  getDeploymentHistory: read,
  getCursor: admin,
  claimCursor: admin,
  advanceCursor: admin,
  releaseCursor: admin,
  createWebhook: admin,
  getWebhook: admin,
  listWebhooks: admin,
  updateWebhook: admin,
  deleteWebhook: admin,
  saveWebhookDelivery: admin,
  getWebhookDelivery: admin,
  listWebhookDeliveries: admin,
} satisfies Record<Exclude<keyof MetadataStore, 'name'>, Rule>;

/**
 * Artifact writes need `edit` (uploads, logged files and models). Deleting is `edit` too: core
 * deletes only what a failed write of the same call left, and `gc` (which deletes stored objects)
 * needs `admin`, checked by the facade.
 */
const artifactRules = {
  init: read,
  close: read,
  put: edit,
  get: read,
  getStream: read,
  head: read,
  list: read,
  delete: edit,
  deletePrefix: admin,
  listTemporary: read,
  deleteTemporary: admin,
} satisfies Record<Exclude<keyof ArtifactStore, 'name'>, Rule>;

const describe = (p: Principal): string =>
  `principal "${p.name}" (${p.role}${p.models ? `, models ${p.models.join(', ')}` : ''})`;

/**
 * Throws `PERMISSION_DENIED` unless `principal` (none: the registry acts for its host, unchecked)
 * holds `permission` and, when `model` is given and the permission is `predict` or `edit`, a grant
 * for it. `action` says what was attempted, for the message.
 */
export function authorize(
  principal: Principal | null,
  permission: Permission,
  action: string,
  model?: string,
): void {
  if (principal === null) return;
  if (!roleAllows(principal.role, permission)) {
    throw new RegistryError(
      'PERMISSION_DENIED',
      `${describe(principal)} may not ${action}: it needs the role ${roleForPermission[permission]}`,
      {
        where: WHERE,
        details: { principal: principal.name, role: principal.role, needs: roleForPermission[permission] },
      },
    );
  }
  const narrowed = principal.models !== null && (permission === 'predict' || permission === 'edit');
  if (narrowed && model !== undefined && !principal.models!.includes(model)) {
    throw new RegistryError(
      'PERMISSION_DENIED',
      `${describe(principal)} may not ${action} of model "${model}": it has no grant for that model`,
      { where: WHERE, details: { principal: principal.name, model } },
    );
  }
}

/**
 * The model a URI names, for the predict check of a narrowed principal. A `runs:/` URI names no
 * model, so a principal with model grants may not load one.
 */
export function authorizeModelUri(
  principal: Principal | null,
  permission: Permission,
  action: string,
  uri: unknown,
): void {
  if (principal === null) return;
  if (principal.models === null || !roleAllows(principal.role, permission)) {
    authorize(principal, permission, action);
    return;
  }
  const parsed = parseModelUri(uri);
  if (parsed.kind !== 'model') {
    throw new RegistryError(
      'PERMISSION_DENIED',
      `${describe(principal)} may not ${action} a run's model (${String(uri)}): its grants name models only`,
      { where: WHERE, details: { principal: principal.name } },
    );
  }
  authorize(principal, permission, action, parsed.name);
}

/**
 * With a principal bound, the actor of a change is the principal: a per-call `actor` is refused.
 * Without one, the call's actor or the registry's default.
 */
export function actorOf(
  ctx: { principal: Principal | null; actor: string },
  given: string | undefined,
  where: string,
): string {
  if (given === undefined) return ctx.actor;
  if (ctx.principal !== null) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `actor "${given}" was given, but this registry acts as principal "${ctx.principal.name}", which every change records`,
      { where, details: { field: 'actor' } },
    );
  }
  return given;
}

function scope<T extends object>(
  store: T,
  rules: Record<string, Rule>,
  principal: Principal,
  what: string,
): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const rule = rules[prop] ?? admin;
      return (...args: unknown[]): unknown => {
        if (rule.permission !== 'read') {
          try {
            authorize(principal, rule.permission, `${prop} (${what})`, rule.model?.(args));
          } catch (e) {
            return Promise.reject(e);
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The stores of a registry view acting as `principal`: every method checks its rule first. */
export function scopeStores(
  principal: Principal,
  stores: { metadata: MetadataStore; artifacts: ArtifactStore },
): { metadata: MetadataStore; artifacts: ArtifactStore } {
  return {
    metadata: scope(stores.metadata, metadataRules, principal, 'metadata store'),
    artifacts: scope(stores.artifacts, artifactRules, principal, 'artifact store'),
  };
}
