import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetches again; the current data stays on screen until the answer arrives. */
  reload: () => void;
}

/**
 * GETs `path` (none when `null`), again when it or `refresh` changes or on `reload()`; stale answers
 * are dropped.
 */
export function useApi<T>(path: string | null, refresh = 0): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  const lastPath = useRef(path);

  useEffect(() => {
    if (path === null) return;
    let live = true;
    const samePath = lastPath.current === path;
    lastPath.current = path;
    setState((s) => ({ data: samePath ? s.data : undefined, error: undefined, loading: true }));
    api.get<T>(path).then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        live && setState((s) => ({ data: samePath ? s.data : undefined, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [path, tick, refresh]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Calls `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number): void {
  const saved = useRef(fn);
  useEffect(() => {
    saved.current = fn;
  }, [fn]);
  useEffect(() => {
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

/** Sets the document title for the page shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · modelreg`;
  }, [title]);
}
