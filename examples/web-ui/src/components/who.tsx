import { createContext, useContext } from 'react';
import type { Whoami } from './session.js';

/** Who the UI acts as; the pages ask it which actions to offer (the server checks them again). */
export const WhoContext = createContext<Whoami | null>(null);

const rank = { reader: 0, predictor: 1, editor: 2, admin: 3 } as const;

/**
 * Whether the signed-in principal may change things (editor or admin), and for `model`, whether its
 * model grants allow that model. Open servers (no tokens) allow everything.
 */
export function useCanEdit(): (model?: string) => boolean {
  const who = useContext(WhoContext);
  return (model) => {
    if (!who || who.auth === 'open') return true;
    if (rank[who.role] < rank.editor) return false;
    return model === undefined || who.models === null || who.models.includes(model);
  };
}
