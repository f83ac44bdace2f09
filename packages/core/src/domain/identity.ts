import { z } from 'zod';
import { nameSchema } from './names.js';
import { timestampSchema } from './types.js';

/**
 * Identity: principals, the roles they hold and the API tokens that authenticate them. A principal
 * is who a registry acts as (`registry.as(principal)`): its name is recorded as the actor of every
 * change it makes.
 */

/** Roles in increasing order: each one can do everything the ones before it can. */
export const roles = ['reader', 'predictor', 'editor', 'admin'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

/**
 * What a call needs, by role: `read` (reader), `predict` (predictor: load, predict, evaluate, watch,
 * canary), `edit` (editor: upload datasets, runs, train, register, stages, aliases, model and version
 * descriptions and tags, jobs), `admin` (admin: tokens, deletes, webhooks, gc).
 */
export const permissions = ['read', 'predict', 'edit', 'admin'] as const;
export type Permission = (typeof permissions)[number];

/** The lowest role that holds a permission. */
export const roleForPermission: Readonly<Record<Permission, Role>> = {
  read: 'reader',
  predict: 'predictor',
  edit: 'editor',
  admin: 'admin',
};

/** Whether `role` holds `permission`. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return roles.indexOf(role) >= roles.indexOf(roleForPermission[permission]);
}

/** Principal (and token) names: 1–128 of `[A-Za-z0-9._@+-]`, so e-mail addresses fit. */
export const principalNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._@+-]+$/, 'may contain only letters, digits, ".", "_", "@", "+" and "-"');

/**
 * Model grants: the models a `predictor` or `editor` may predict with or change; `null` means every
 * model. Reads are never narrowed. At most 1000 names, no duplicates.
 */
export const modelGrantsSchema = z
  .array(nameSchema)
  .min(1, 'must name at least one model (omit it for every model)')
  .max(1000)
  .refine((names) => new Set(names).size === names.length, 'must not repeat a model');

/** Who a registry acts as. `tokenId` is `null` for principals that no stored token backs (bootstrap, local). */
export const principalSchema = z.object({
  name: principalNameSchema,
  role: roleSchema,
  models: modelGrantsSchema.nullable(),
  tokenId: z.string().nullable(),
});
export type Principal = z.infer<typeof principalSchema>;

/** A stored API token, without its secret (only its hash is stored, and never returned). */
export const apiTokenSchema = z.object({
  /** `tok_` and 24 hex digits; public, used to list and revoke. */
  id: z.string(),
  /** The principal name the token authenticates as, recorded as the actor of its changes. */
  name: principalNameSchema,
  role: roleSchema,
  models: modelGrantsSchema.nullable(),
  createdAt: timestampSchema,
  /** Updated at most once a minute by `authenticate`. */
  lastUsedAt: timestampSchema.nullable(),
  revokedAt: timestampSchema.nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;

/** What `registry.auth.createToken` takes. `models` narrows a predictor or an editor. */
export const createTokenSchema = z
  .object({
    name: principalNameSchema,
    role: roleSchema,
    models: modelGrantsSchema.optional(),
  })
  .strict()
  .refine((t) => t.models === undefined || t.role === 'predictor' || t.role === 'editor', {
    message:
      'model grants narrow a predictor or an editor only (a reader reads everything, an admin is never narrowed)',
    path: ['models'],
  });
export type CreateTokenOptions = z.input<typeof createTokenSchema>;
