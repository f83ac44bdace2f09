import { z } from 'zod';
import { nameSchema } from './names.js';
import { timestampSchema } from './types.js';

/**
 * Deployments: how the traffic of one registered model is split between two references. A
 * deployment lives in the metadata store, so every process serving the model follows the same one,
 * and a restart keeps it. At most one live deployment per model.
 */
export const deploymentModes = ['canary', 'shadow'] as const;
export const deploymentModeSchema = z.enum(deploymentModes);
/** `canary`: a `weight` share of rows is answered by `next`; `shadow`: `current` answers, `next` runs on the side. */
export type DeploymentMode = z.infer<typeof deploymentModeSchema>;

/**
 * A reference to a version as deployments store it, in canonical form: a version number, a
 * configured stage name (`'production'`), `'@alias'`, or `'latest'`.
 */
export const deploymentRefSchema = z.union([z.number().int().min(1), z.string().min(1).max(130)]);
export type DeploymentRef = z.infer<typeof deploymentRefSchema>;

/** Why a deployment changed; recorded in its history. */
export const deploymentActions = ['set', 'weight', 'promote', 'rollback', 'delete'] as const;
export const deploymentActionSchema = z.enum(deploymentActions);
export type DeploymentAction = z.infer<typeof deploymentActionSchema>;

/** What a deployment serves: the part a change writes. */
export const deploymentSpecSchema = z.object({
  model: nameSchema,
  /** What answers by default. */
  current: deploymentRefSchema,
  /** The candidate. */
  next: deploymentRefSchema,
  /** Share of rows routed to `next`, from 0 to 1. */
  weight: z.number().min(0).max(1),
  /** A field of each record row: rows with equal values always go to the same arm. `null`: random routing. */
  stickyKey: z.string().min(1).max(256).nullable(),
  mode: deploymentModeSchema,
});
export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;

export const deploymentSchema = deploymentSpecSchema.extend({
  /**
   * Increases by one with every change (delete included) and is never reused for a model, even
   * after a delete and a new `set`: the token of compare-and-set.
   */
  revision: z.number().int().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  /** The actor of the last change. */
  updatedBy: z.string(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

/** One entry of a deployment's append-only history: the state after the change (before it, for `delete`). */
export const deploymentHistoryEntrySchema = deploymentSpecSchema.extend({
  /** Increasing per store; orders the history. */
  id: z.number().int(),
  action: deploymentActionSchema,
  /** The revision this change produced. */
  revision: z.number().int().min(1),
  actor: z.string(),
  comment: z.string(),
  time: timestampSchema,
});
export type DeploymentHistoryEntry = z.infer<typeof deploymentHistoryEntrySchema>;

/**
 * What `saveDeployment` writes. `ifRevision`: `undefined` = unconditional; `null` = the model must
 * have no live deployment; a number = its live deployment must be at that revision now.
 */
export interface DeploymentChange {
  deployment: DeploymentSpec;
  action: Exclude<DeploymentAction, 'delete'>;
  ifRevision?: number | null;
  actor: string;
  comment: string;
  time: number;
}

/** What `deleteDeployment` needs; `ifRevision` as in {@link DeploymentChange} (a number only). */
export interface DeploymentDeletion {
  model: string;
  ifRevision?: number;
  actor: string;
  comment: string;
  time: number;
}
