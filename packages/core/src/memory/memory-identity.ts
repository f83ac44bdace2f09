import type { ApiToken } from '../domain/identity.js';
import type { IdentityMethods } from '../stores/metadata-store.js';
import { compareText } from '../stores/rules.js';
import type { Journal } from './memory-state.js';
import { errors } from './memory-state.js';

type StoredToken = ApiToken & { secretHash: string };

const publicToken = ({ secretHash: _hash, ...token }: StoredToken): ApiToken => structuredClone(token);

/** The memory store's API tokens. */
export function memoryIdentityMethods(journal: Journal): IdentityMethods {
  const tokens = new Map<string, StoredToken>();
  const byHash = new Map<string, string>();
  return {
    async createToken(input) {
      if (tokens.has(input.id) || byHash.has(input.secretHash)) throw errors.tokenExists(input.id);
      const stored: StoredToken = { ...structuredClone(input), lastUsedAt: null, revokedAt: null };
      tokens.set(input.id, stored);
      byHash.set(input.secretHash, input.id);
      journal.emit({ type: 'token.created', payload: { id: input.id, name: input.name, role: input.role } });
      return publicToken(stored);
    },
    async getToken(id) {
      const found = tokens.get(id);
      return found ? publicToken(found) : null;
    },
    async findTokenByHash(secretHash) {
      const id = byHash.get(secretHash);
      const found = id === undefined ? undefined : tokens.get(id);
      return found ? structuredClone(found) : null;
    },
    async listTokens() {
      return [...tokens.values()]
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
        .map(publicToken);
    },
    async revokeToken(id, time) {
      const found = tokens.get(id);
      if (!found) throw errors.tokenNotFound(id);
      if (found.revokedAt === null) {
        found.revokedAt = time;
        journal.emit({ type: 'token.revoked', payload: { id, name: found.name } });
      }
      return publicToken(found);
    },
    async touchToken(id, time) {
      const found = tokens.get(id);
      if (found && found.revokedAt === null) found.lastUsedAt = time;
    },
  };
}
