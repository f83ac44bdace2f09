import type { EventCursor } from '../src/index.js';

/** The state several cursor handles share: what core keeps in the metadata store. */
export interface CursorRow {
  position: number;
  owner: string | null;
  leaseUntil: number;
}

export const cursorRow = (): CursorRow => ({ position: 0, owner: null, leaseUntil: 0 });

/** An in-memory {@link EventCursor} over a shared row, with a lease per owner (for tests). */
export function memoryCursor(row: CursorRow, owner: string, leaseMs = 60_000): EventCursor {
  const holds = (): boolean => row.owner === owner && row.leaseUntil > Date.now();
  return {
    name: 'test-relay',
    claim: async () => {
      if (row.owner !== null && row.owner !== owner && row.leaseUntil > Date.now()) return false;
      row.owner = owner;
      row.leaseUntil = Date.now() + leaseMs;
      return true;
    },
    position: async () => row.position,
    advance: async (seq) => {
      if (!holds()) throw new Error(`cursor: ${owner} does not hold the lease`);
      row.position = Math.max(row.position, seq);
    },
    release: async () => {
      if (row.owner === owner) {
        row.owner = null;
        row.leaseUntil = 0;
      }
    },
  };
}
