import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';

export interface Notify {
  /** Shows an error until dismissed (the API's message, as it answered it). */
  error(text: string): void;
  /** Shows a short confirmation for a few seconds. */
  success(text: string): void;
}

const NoticeContext = createContext<Notify>({ error: () => undefined, success: () => undefined });

export const useNotify = (): Notify => useContext(NoticeContext);

/** The alert region (`role="alert"`) for errors and a status region for confirmations. */
export function NoticeProvider({ children }: { children: ReactNode }) {
  const [errors, setErrors] = useState<{ id: number; text: string }[]>([]);
  const [status, setStatus] = useState('');
  const nextId = useRef(1);
  const statusTimer = useRef<number | undefined>(undefined);

  const error = useCallback((text: string) => {
    const id = nextId.current++;
    setErrors((list) => [...list.slice(-2), { id, text }]);
  }, []);
  const success = useCallback((text: string) => {
    setStatus(text);
    window.clearTimeout(statusTimer.current);
    statusTimer.current = window.setTimeout(() => setStatus(''), 6000);
  }, []);
  const notify = useMemo(() => ({ error, success }), [error, success]);

  return (
    <NoticeContext.Provider value={notify}>
      {children}
      <div className="notices">
        <div role="alert" className="alerts" data-testid="alerts">
          {errors.map((e) => (
            <div key={e.id} className="notice notice-error">
              <span>{e.text}</span>
              <button
                type="button"
                className="icon-button"
                aria-label="Dismiss this error"
                onClick={() => setErrors((list) => list.filter((x) => x.id !== e.id))}
              >
                ×
              </button>
            </div>
          ))}
        </div>
        <div role="status" className={status ? 'notice notice-ok' : 'visually-hidden'}>
          {status}
        </div>
      </div>
    </NoticeContext.Provider>
  );
}
