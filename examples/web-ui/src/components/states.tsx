import type { ReactNode } from 'react';
import { messageOf } from '../api.js';
import type { Loaded } from '../hooks.js';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function ErrorState({ error, retry, what }: { error: unknown; retry?: () => void; what: string }) {
  return (
    <div className="state state-error" role="alert">
      <p>
        Could not load {what}: {messageOf(error)}
      </p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Error, loading, empty or the content of one `useApi` answer. */
export function Async<T>({
  state,
  what,
  isEmpty,
  empty,
  children,
}: {
  state: Loaded<T>;
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { data, error, reload } = state;
  if (data === undefined) {
    if (error) return <ErrorState error={error} retry={reload} what={what} />;
    return <Loading what={what} />;
  }
  return (
    <>
      {error ? <ErrorState error={error} retry={reload} what={what} /> : null}
      {isEmpty?.(data) ? <Empty>{empty}</Empty> : children(data)}
    </>
  );
}
