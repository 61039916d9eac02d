/**
 * The signed-in session: tokens kept in localStorage so a reload (or a second tab) stays signed in, and
 * refreshed before they expire. Refresh tokens rotate — each one works once and a reused one ends the
 * session on the server (theft detection) — so every tab refreshes under one Web Lock and reads the
 * stored session again once it holds the lock: a tab that lost the race uses what the winner stored.
 */

/** The viewer as the app needs them to pick screens; the rest comes from `me`. */
export interface SessionUser {
  id: string;
  name: string;
  email: string | null;
  role: 'PATRON' | 'LIBRARIAN' | 'ADMIN';
}

/** What `login`, `register` and `refreshSession` answer. */
export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ISO-8601). */
  expiresAt: string;
  user: SessionUser;
}

/** Why a session ended, so the sign-in page can say so. */
export type EndReason = 'signed-out' | 'expired';

type Listener = (session: StoredSession | null, reason?: EndReason) => void;

const STORAGE_KEY = 'shelfwise.session';
/** Refresh this long before the access token expires, so a request never leaves with a dying token. */
const REFRESH_MARGIN_MS = 30_000;

const REFRESH_MUTATION = `mutation RefreshSession($refreshToken: String!) {
  refreshSession(refreshToken: $refreshToken) { accessToken refreshToken expiresAt user { id name email role } }
}`;
const LOGOUT_MUTATION = `mutation Logout { logout }`;

/** The refresh was refused: the session is over and the person has to sign in again. */
export class SessionExpiredError extends Error {
  constructor(message = 'Your session has ended. Please sign in again.') {
    super(message);
    this.name = 'SessionExpiredError';
  }
}

function readStored(): StoredSession | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof parsed.accessToken !== 'string' || typeof parsed.refreshToken !== 'string' || !parsed.user) return null;
    return parsed as StoredSession;
  } catch {
    return null;
  }
}

async function postGraphQL<T>(endpoint: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // Apollo Server's CSRF prevention accepts requests that carry this header.
      'apollo-require-preflight': 'true',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json().catch(() => null)) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  } | null;
  const first = body?.errors?.[0];
  if (first) {
    const code = first.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') throw new SessionExpiredError();
    throw new Error(first.message);
  }
  if (!body?.data) throw new Error(`The server answered ${response.status} without data.`);
  return body.data;
}

/** One per page: the app's view of who is signed in, shared with the urql and WebSocket clients. */
export class SessionStore {
  private current: StoredSession | null = readStored();
  private readonly listeners = new Set<Listener>();
  private refreshing: Promise<StoredSession> | null = null;

  constructor(private readonly endpoint = '/graphql') {
    // Another tab signed in, refreshed or signed out.
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return;
      const next = readStored();
      const userChanged = next?.user.id !== this.current?.user.id;
      this.current = next;
      if (userChanged) this.emit(next, next ? undefined : 'signed-out');
    });
  }

  /** The session, or null when signed out. */
  get session(): StoredSession | null {
    return this.current;
  }

  get user(): SessionUser | null {
    return this.current?.user ?? null;
  }

  /** Called with the new session whenever the signed-in user changes (not on a token refresh). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores what login or register answered. */
  signIn(session: StoredSession): void {
    this.store(session);
    this.emit(session);
  }

  /** Updates the cached user (after a profile edit) without touching the tokens. */
  updateUser(user: Partial<SessionUser>): void {
    if (!this.current) return;
    this.store({ ...this.current, user: { ...this.current.user, ...user } });
    this.emit(this.current);
  }

  /** Ends the session on the server (best effort) and here. */
  async signOut(): Promise<void> {
    const token = this.current?.accessToken;
    this.clear('signed-out');
    if (token) await postGraphQL(this.endpoint, LOGOUT_MUTATION, {}, token).catch(() => undefined);
  }

  /** The session ended on the server (refresh refused, socket closed with 4403). */
  expire(): void {
    if (this.current) this.clear('expired');
  }

  /** True when the access token is missing or about to expire. */
  needsRefresh(now = Date.now()): boolean {
    if (!this.current) return false;
    return Date.parse(this.current.expiresAt) - REFRESH_MARGIN_MS <= now;
  }

  /** An access token good for at least the refresh margin, refreshing first when needed; null when signed out. */
  async freshAccessToken(): Promise<string | null> {
    if (!this.current) return null;
    if (!this.needsRefresh()) return this.current.accessToken;
    try {
      return (await this.refresh()).accessToken;
    } catch (error) {
      if (error instanceof SessionExpiredError) return null;
      throw error;
    }
  }

  /**
   * Rotates the refresh token. One refresh at a time in this tab, and across tabs under a Web Lock;
   * a refused refresh ends the session (listeners hear 'expired') and rejects with SessionExpiredError.
   */
  refresh(): Promise<StoredSession> {
    if (!this.refreshing) {
      this.refreshing = this.withLock(() => this.refreshHoldingLock()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async refreshHoldingLock(): Promise<StoredSession> {
    const stored = readStored();
    if (!stored) {
      this.expire();
      throw new SessionExpiredError();
    }
    // Another tab refreshed while this one waited for the lock: use its tokens.
    if (stored.accessToken !== this.current?.accessToken && Date.parse(stored.expiresAt) - REFRESH_MARGIN_MS > Date.now()) {
      this.current = stored;
      return stored;
    }
    try {
      const data = await postGraphQL<{ refreshSession: StoredSession }>(this.endpoint, REFRESH_MUTATION, {
        refreshToken: stored.refreshToken,
      });
      this.store(data.refreshSession);
      return data.refreshSession;
    } catch (error) {
      if (error instanceof SessionExpiredError) this.expire();
      throw error;
    }
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) return work();
    return locks.request('shelfwise.session.refresh', work);
  }

  private store(session: StoredSession): void {
    this.current = session;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    } catch {
      // Private mode or a full quota: the session still works in this tab.
    }
  }

  private clear(reason: EndReason): void {
    this.current = null;
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored to remove.
    }
    this.emit(null, reason);
  }

  private emit(session: StoredSession | null, reason?: EndReason): void {
    for (const listener of this.listeners) listener(session, reason);
  }
}
