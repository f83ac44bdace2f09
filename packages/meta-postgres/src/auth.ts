import type { ApiToken, IdentityMethods, Role } from '@modelreg/core';
import type { Db } from './db.js';
import { errors } from './db.js';

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  models: string[] | null;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const time = (v: string | null): number | null => (v === null ? null : Number(v));

const toToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  role: row.role,
  models: row.models,
  createdAt: Number(row.created_at),
  lastUsedAt: time(row.last_used_at),
  revokedAt: time(row.revoked_at),
});

/** API tokens (migration 5): the secret's sha256 only, unique and indexed. */
export function identityMethods(db: Db): IdentityMethods {
  const { s } = db;
  return {
    createToken: (token) =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<TokenRow>(
          `INSERT INTO ${s}.api_tokens (id, name, role, models, secret_hash, created_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6)
           ON CONFLICT DO NOTHING RETURNING *`,
          [
            token.id,
            token.name,
            token.role,
            token.models === null ? null : JSON.stringify(token.models),
            token.secretHash,
            token.createdAt,
          ],
        );
        if (!row) throw errors.tokenExists(token.id);
        tx.emit('token.created', { id: token.id, name: token.name, role: token.role });
        return toToken(row);
      }),

    async getToken(id) {
      const [row] = await db.read<TokenRow>(`SELECT * FROM ${s}.api_tokens WHERE id = $1`, [id]);
      return row ? toToken(row) : null;
    },

    async findTokenByHash(secretHash) {
      const [row] = await db.read<TokenRow>(`SELECT * FROM ${s}.api_tokens WHERE secret_hash = $1`, [
        secretHash,
      ]);
      return row ? { ...toToken(row), secretHash: row.secret_hash } : null;
    },

    async listTokens() {
      const rows = await db.read<TokenRow>(`SELECT * FROM ${s}.api_tokens ORDER BY created_at, id`);
      return rows.map(toToken);
    },

    revokeToken: (id, at) =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<TokenRow>(`SELECT * FROM ${s}.api_tokens WHERE id = $1 FOR UPDATE`, [
          id,
        ]);
        if (!row) throw errors.tokenNotFound(id);
        if (row.revoked_at !== null) return toToken(row);
        const [updated] = await tx.query<TokenRow>(
          `UPDATE ${s}.api_tokens SET revoked_at = $2 WHERE id = $1 RETURNING *`,
          [id, at],
        );
        tx.emit('token.revoked', { id, name: row.name });
        return toToken(updated!);
      }),

    async touchToken(id, at) {
      await db.read(`UPDATE ${s}.api_tokens SET last_used_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [
        id,
        at,
      ]);
    },
  };
}
