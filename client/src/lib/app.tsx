/**
 * App-wide state: the session (who is signed in), the urql client built for them, and the WebSocket
 * reconnect counter screens use to refetch. Nothing renders until a stored session has been checked, so
 * a signed-in person never sees the signed-out page flash by on a reload.
 */
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { setLibraryCurrency } from '../components/ui';
import { createAppClient } from './client';
import { navigate } from './router';
import { SessionStore, type EndReason, type SessionUser, type StoredSession } from './session';

interface SessionContextValue {
  user: SessionUser | null;
  store: SessionStore;
  /** Why the last session ended, for the sign-in page ("Your session has ended…"). */
  endReason: EndReason | null;
}

const SessionContext = createContext<SessionContextValue | null>(null);
const ReconnectContext = createContext(0);

/** The signed-in user (or null), and the store to sign in and out with. */
export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession is used outside <AppProviders>');
  return value;
}

/** Runs `refetch` each time the live connection comes back after a drop (events may have been missed). */
export function useRefetchOnReconnect(refetch: () => void): void {
  const reconnects = useContext(ReconnectContext);
  const latest = useRef(refetch);
  latest.current = refetch;
  useEffect(() => {
    if (reconnects > 0) latest.current();
  }, [reconnects]);
}

/** Asks the graph which currency amounts are in; the default stays when it cannot be reached. */
async function loadCurrency(): Promise<void> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: 'query AppCurrency { currency }' }),
    });
    const body = (await response.json()) as { data?: { currency?: string } };
    if (body.data?.currency) setLibraryCurrency(body.data.currency);
  } catch {
    // Offline or the router is down: amounts show in the default currency; the screens show the error.
  }
}

/** The path to come back to after signing in. */
function here(): string {
  return `${window.location.pathname}${window.location.search}`;
}

export function AppProviders({ children, store: given }: { children: ReactNode; store?: SessionStore }) {
  const store = useMemo(() => given ?? new SessionStore(), [given]);
  const [user, setUser] = useState<SessionUser | null>(store.user);
  const [endReason, setEndReason] = useState<EndReason | null>(null);
  const [reconnects, setReconnects] = useState(0);
  // Before the first render: the library's currency, and a stored session whose access token has expired
  // is refreshed (so nothing signed-out flashes by).
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const session = store.needsRefresh() ? store.refresh().catch(() => undefined) : Promise.resolve();
    void Promise.all([session, loadCurrency()]).finally(() => {
      if (!cancelled) setReady(true);
    });
    return () => {
      cancelled = true;
    };
  }, [store]);

  useEffect(
    () =>
      store.subscribe((session: StoredSession | null, reason?: EndReason) => {
        setUser(session?.user ?? null);
        if (session) {
          setEndReason(null);
          return;
        }
        setEndReason(reason ?? null);
        // An expired session sends them to sign in, and back here afterwards.
        if (reason === 'expired' && !window.location.pathname.startsWith('/signin')) {
          navigate(`/signin?next=${encodeURIComponent(here())}`);
        }
      }),
    [store],
  );

  const userId = user?.id ?? null;
  const app = useMemo(
    () => createAppClient({ session: store, onReconnect: () => setReconnects((n) => n + 1) }),
    // One client per signed-in user: a new person gets an empty cache and a new socket.
    [store, userId],
  );
  useEffect(() => () => app.dispose(), [app]);

  const value = useMemo(() => ({ user, store, endReason }), [user, store, endReason]);
  if (!ready) {
    return (
      <p className="boot" role="status">
        Loading Shelfwise…
      </p>
    );
  }
  return (
    <SessionContext.Provider value={value}>
      <ReconnectContext.Provider value={reconnects}>
        <Provider value={app.client}>{children}</Provider>
      </ReconnectContext.Provider>
    </SessionContext.Provider>
  );
}
