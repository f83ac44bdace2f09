import type { ApiToken, IdentityMethods, Role } from '@modelreg/core';
import type { StoreContext } from './context.js';
import { errors } from './transactions.js';

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  models: string | null;
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const toToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  role: row.role,
  models: row.models === null ? null : (JSON.parse(row.models) as string[]),
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

const BY_ID = 'SELECT * FROM api_tokens WHERE id = ?';

/** API tokens (migration 5): the secret's sha256 only, unique and indexed. */
export function createIdentityMethods(ctx: StoreContext): IdentityMethods {
  return {
    createToken: (token) =>
      ctx.write('createToken', () => {
        const taken = ctx.get(
          'SELECT 1 FROM api_tokens WHERE id = ? OR secret_hash = ?',
          token.id,
          token.secretHash,
        );
        if (taken) throw errors.tokenExists(token.id);
        ctx.run(
          `INSERT INTO api_tokens (id, name, role, models, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
          token.id,
          token.name,
          token.role,
          token.models === null ? null : JSON.stringify(token.models),
          token.secretHash,
          token.createdAt,
        );
        ctx.emit('token.created', { id: token.id, name: token.name, role: token.role });
        return toToken(ctx.get<TokenRow>(BY_ID, token.id)!);
      }),

    getToken: (id) =>
      ctx.read('getToken', () => {
        const row = ctx.get<TokenRow>(BY_ID, id);
        return row ? toToken(row) : null;
      }),

    findTokenByHash: (secretHash) =>
      ctx.read('findTokenByHash', () => {
        const row = ctx.get<TokenRow>('SELECT * FROM api_tokens WHERE secret_hash = ?', secretHash);
        return row ? { ...toToken(row), secretHash: row.secret_hash } : null;
      }),

    listTokens: () =>
      ctx.read('listTokens', () =>
        ctx.all<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id').map(toToken),
      ),

    revokeToken: (id, time) =>
      ctx.write('revokeToken', () => {
        const row = ctx.get<TokenRow>(BY_ID, id);
        if (!row) throw errors.tokenNotFound(id);
        if (row.revoked_at !== null) return toToken(row);
        ctx.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', time, id);
        ctx.emit('token.revoked', { id, name: row.name });
        return toToken({ ...row, revoked_at: time });
      }),

    touchToken: async (id, time) => {
      await ctx.write('touchToken', () =>
        ctx.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL', time, id),
      );
    },
  };
}
