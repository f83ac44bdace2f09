import type { FormEvent, ReactNode } from 'react';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, messageOf, onUnauthenticated } from '../api.js';

/** Who the UI acts as (`GET /auth/whoami`). `auth: 'open'`: the server runs without tokens. */
export interface Whoami {
  name: string;
  role: 'reader' | 'predictor' | 'editor' | 'admin';
  models: string[] | null;
  auth: 'open' | 'token';
}

type SessionState =
  { kind: 'loading' } | { kind: 'signed-out'; reason?: string } | { kind: 'in'; who: Whoami };

/**
 * Signs the UI in with an API token: `POST /auth/session` sets an HttpOnly, SameSite=Strict cookie
 * (page scripts never see the token again), so every later call is authenticated by the browser.
 * Renders the sign-in form while signed out, the app once signed in; any 401 signs out.
 */
export function Session({ children }: { children: (who: Whoami, signOut: () => void) => ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });

  const load = useCallback(() => {
    api
      .get<Whoami>('auth/whoami')
      .then((who) => setState({ kind: 'in', who }))
      .catch((e: unknown) =>
        setState(
          e instanceof ApiError && e.status === 401
            ? { kind: 'signed-out' }
            : { kind: 'signed-out', reason: messageOf(e) },
        ),
      );
  }, []);
  useEffect(load, [load]);
  useEffect(
    () =>
      onUnauthenticated(() =>
        setState({ kind: 'signed-out', reason: 'Your session ended (the token was revoked or expired).' }),
      ),
    [],
  );

  const signOut = useCallback(() => {
    void api
      .delete('auth/session')
      .catch(() => undefined)
      .then(() => setState({ kind: 'signed-out' }));
  }, []);

  if (state.kind === 'loading') return null;
  if (state.kind === 'in') return <>{children(state.who, signOut)}</>;
  return <SignIn reason={state.reason} onSignedIn={(who) => setState({ kind: 'in', who })} />;
}

function SignIn({ reason, onSignedIn }: { reason?: string | undefined; onSignedIn: (who: Whoami) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    api
      .post<Whoami>('auth/session', { token: token.trim() })
      .then(onSignedIn)
      .catch((err: unknown) =>
        setError(
          err instanceof ApiError && err.status === 401
            ? 'That token is not valid (unknown, revoked or mistyped).'
            : messageOf(err),
        ),
      )
      .finally(() => setBusy(false));
  };

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to modelreg</h1>
      <p>
        Paste an API token (it starts with <code>mr_</code>). An admin creates one with POST /auth/tokens.
      </p>
      {reason ? <p role="status">{reason}</p> : null}
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error ? (
        <p className="state state-error" role="alert">
          {error}
        </p>
      ) : null}
    </main>
  );
}
