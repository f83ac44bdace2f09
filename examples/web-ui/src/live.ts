import { useEffect, useState } from 'react';

// Live updates: one EventSource on `GET /events?types=...` for the whole page (SSE; each message has
// `id: <seq>`, `event: <type>` and the registry event as JSON). The browser resumes after a cut with
// Last-Event-ID by itself. A server without the route (404) leaves the page as it was: no retries.

export interface LiveEvent {
  seq: number;
  type: string;
  time: number;
  payload: Record<string, string | number | boolean | null>;
}

type Listener = (e: LiveEvent) => void;

export const LIVE_TYPES = [
  'model.created',
  'model.updated',
  'version.created',
  'version.updated',
  'version.stage_changed',
  'version.deleted',
  'alias.set',
  'alias.deleted',
  'run.created',
  'run.updated',
  'dataset.created',
  'deployment.updated',
  'deployment.deleted',
] as const;

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let state: 'idle' | 'open' | 'unavailable' = 'idle';

function connect(): void {
  if (source || state === 'unavailable' || typeof EventSource === 'undefined') return;
  const s = new EventSource(`events?types=${LIVE_TYPES.join(',')}`);
  source = s;
  s.onopen = () => {
    state = 'open';
    document.documentElement.dataset['live'] = 'on';
  };
  const deliver = (m: MessageEvent<string>) => {
    let event: LiveEvent;
    try {
      event = JSON.parse(m.data) as LiveEvent;
    } catch {
      return;
    }
    for (const l of listeners) l(event);
  };
  for (const type of LIVE_TYPES) s.addEventListener(type, deliver as EventListener);
  s.onmessage = deliver;
  s.onerror = () => {
    // Never opened: the server has no /events (404) or refuses it; stay quiet, do not retry.
    if (state !== 'open') {
      s.close();
      source = null;
      state = 'unavailable';
      document.documentElement.dataset['live'] = 'off';
    }
  };
}

/** Calls `listener` with each live registry event; returns the unsubscribe. */
export function onLiveEvent(listener: Listener): () => void {
  listeners.add(listener);
  connect();
  return () => listeners.delete(listener);
}

/**
 * A counter that goes up when an event of one of `types` arrives (for `model` when given): use it as
 * a dependency to fetch again.
 */
export function useLiveEvents(types: readonly string[], model?: string): number {
  const [tick, setTick] = useState(0);
  const key = types.join(',');
  useEffect(() => {
    const wanted = new Set(key.split(','));
    let timer: number | undefined;
    const off = onLiveEvent((e) => {
      if (!wanted.has(e.type)) return;
      if (model !== undefined && e.payload['name'] !== model && e.payload['model'] !== model) return;
      // A burst (a move that archives others) is fetched once.
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setTick((t) => t + 1), 100);
    });
    return () => {
      off();
      window.clearTimeout(timer);
    };
  }, [key, model]);
  return tick;
}
