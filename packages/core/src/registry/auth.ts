import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { createTokenSchema } from '../domain/identity.js';
import type { ApiToken, CreateTokenOptions, Principal } from '../domain/identity.js';
import { parseArg } from '../domain/names.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import { authorize } from './access.js';
import type { RegistryContext } from './context.js';

const where = 'auth';

/** Every token starts with this prefix, so secret scanners and people recognise one. */
export const TOKEN_PREFIX = 'mr_';
/** `mr_` and 43 base64url characters: 256 random bits. */
const TOKEN_SHAPE = /^mr_[A-Za-z0-9_-]{43}$/;
const tokenIdSchema = z.string().regex(/^tok_[0-9a-f]{24}$/, 'must be "tok_" and 24 hex digits');
/** `lastUsedAt` is written at most this often per token, so authenticating is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

/** A created token: the only place its secret `token` ever appears. */
export type CreatedToken = Pick<ApiToken, 'id' | 'name' | 'role' | 'models' | 'createdAt'> & {
  token: string;
};

/**
 * The stored hash of a token secret. sha256 and no salt or slow KDF: a secret is 256 random bits,
 * so neither brute force nor precomputed tables can reverse its hash (slow, salted KDFs exist for
 * low-entropy passwords), and an unsalted hash is what lets `authenticate` find the token with one
 * indexed lookup instead of trying every stored hash.
 */
export const hashToken = (secret: string): string =>
  createHash('sha256').update(secret, 'utf8').digest('hex');

const sameHash = (a: string, b: string): boolean => {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
};

export interface AuthenticateOptions {
  /**
   * A bootstrap admin secret (a server's `MODELREG_ADMIN_TOKEN`): a `secret` equal to it (compared
   * through sha256 in constant time) authenticates as the principal `admin` with role `admin`, no
   * stored token needed. It may have any form, but should be long and random.
   */
  adminToken?: string;
}

/**
 * API tokens and authentication: `registry.auth`. Creating, listing and revoking need the `admin`
 * role when the registry acts as a principal; `authenticate` is open to every caller (it is how a
 * host finds the principal of a request).
 */
export class RegistryAuth {
  /** `ctx` checks permissions; `store` is the unscoped store that authentication reads. */
  constructor(
    private readonly ctx: RegistryContext,
    private readonly store: MetadataStore,
  ) {}

  /**
   * Creates a token for a principal `name` with `role` and, for a predictor or an editor, optional
   * model grants. Returns the secret `token` (`mr_…`) once: only its sha256 is stored.
   * `INVALID_ARGUMENT` for a bad name, role or grant list.
   */
  async createToken(options: CreateTokenOptions): Promise<CreatedToken> {
    authorize(this.ctx.principal, 'admin', 'create tokens');
    const opts = parseArg(createTokenSchema, options, 'token options', where);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const created = await this.ctx.metadata.createToken({
      id: `tok_${randomBytes(12).toString('hex')}`,
      name: opts.name,
      role: opts.role,
      models: opts.models ?? null,
      createdAt: this.ctx.now(),
      secretHash: hashToken(token),
    });
    this.ctx.changed();
    const { id, name, role, models, createdAt } = created;
    return { id, name, role, models, createdAt, token };
  }

  /** Every token (revoked ones too), oldest first, without secrets. */
  async listTokens(): Promise<ApiToken[]> {
    authorize(this.ctx.principal, 'admin', 'list tokens');
    return this.ctx.metadata.listTokens();
  }

  /** Revokes a token: it stops authenticating at once. `NOT_FOUND` for an unknown id; revoking twice is a no-op. */
  async revokeToken(id: string): Promise<ApiToken> {
    authorize(this.ctx.principal, 'admin', 'revoke tokens');
    const parsed = parseArg(tokenIdSchema, id, 'token id', where);
    const revoked = await this.ctx.metadata.revokeToken(parsed, this.ctx.now());
    this.ctx.changed();
    return revoked;
  }

  /**
   * The principal a secret authenticates as, or `null` when it matches no live token (malformed,
   * unknown or revoked). The secret is hashed and found by its hash, then the stored hash is compared
   * in constant time; the bootstrap `adminToken` is compared in constant time as well.
   */
  async authenticate(secret: unknown, options: AuthenticateOptions = {}): Promise<Principal | null> {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 1024) return null;
    const hash = hashToken(secret);
    if (options.adminToken !== undefined && sameHash(hash, hashToken(options.adminToken))) {
      return { name: 'admin', role: 'admin', models: null, tokenId: null };
    }
    if (!TOKEN_SHAPE.test(secret)) return null;
    const found = await this.store.findTokenByHash(hash);
    if (!found || !sameHash(found.secretHash, hash) || found.revokedAt !== null) return null;
    const now = this.ctx.now();
    if (found.lastUsedAt === null || now - found.lastUsedAt >= TOUCH_INTERVAL_MS) {
      // Best effort: a read-only replica or a busy store must not refuse a valid token.
      await this.store.touchToken(found.id, now).catch(() => undefined);
    }
    return { name: found.name, role: found.role, models: found.models, tokenId: found.id };
  }
}
