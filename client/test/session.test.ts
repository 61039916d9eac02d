/**
 * @jest-environment jsdom
 */
import { jest } from '@jest/globals';
import { SessionExpiredError, SessionStore, type StoredSession } from '../src/lib/session';

const KEY = 'shelfwise.session';
const user = { id: 'u1', name: 'Ada', email: 'ada@example.org', role: 'PATRON' as const };

function session(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    accessToken: 'access-1',
    refreshToken: 'refresh-1',
    expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    user,
    ...overrides,
  };
}

const expired = () => session({ expiresAt: new Date(Date.now() - 1000).toISOString() });

type FetchMock = jest.Mock<(input: unknown, init?: { body?: string }) => Promise<{ status: number; json(): Promise<unknown> }>>;

function answer(body: unknown): FetchMock {
  return jest.fn(async () => ({ status: 200, json: async () => body }));
}

let fetchMock: FetchMock;

beforeEach(() => {
  localStorage.clear();
  fetchMock = answer({ data: { refreshSession: session({ accessToken: 'access-2', refreshToken: 'refresh-2' }) } });
  (globalThis as { fetch: unknown }).fetch = fetchMock;
});

describe('SessionStore', () => {
  it('keeps a stored session across page loads (a new store reads it back)', () => {
    new SessionStore().signIn(session());
    const reloaded = new SessionStore();
    expect(reloaded.user).toEqual(user);
    expect(reloaded.needsRefresh()).toBe(false);
  });

  it('refreshes an expiring token once, however many requests ask at the same moment, and stores the rotated pair', async () => {
    localStorage.setItem(KEY, JSON.stringify(expired()));
    const store = new SessionStore();
    expect(store.needsRefresh()).toBe(true);
    const tokens = await Promise.all([store.freshAccessToken(), store.freshAccessToken(), store.freshAccessToken()]);
    expect(tokens).toEqual(['access-2', 'access-2', 'access-2']);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const sent = JSON.parse(fetchMock.mock.calls[0]![1]!.body!) as { variables: { refreshToken: string } };
    expect(sent.variables.refreshToken).toBe('refresh-1');
    expect(JSON.parse(localStorage.getItem(KEY)!)).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
  });

  it('uses the tokens another tab has just stored instead of spending its old refresh token (which would end the session)', async () => {
    localStorage.setItem(KEY, JSON.stringify(expired()));
    const store = new SessionStore();
    // Another tab refreshed first and stored the next pair.
    localStorage.setItem(KEY, JSON.stringify(session({ accessToken: 'from-other-tab', refreshToken: 'refresh-other' })));
    await expect(store.freshAccessToken()).resolves.toBe('from-other-tab');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('ends the session when the refresh is refused: storage cleared, listeners told it expired', async () => {
    fetchMock = answer({ errors: [{ message: 'Your session has ended.', extensions: { code: 'UNAUTHENTICATED' } }] });
    (globalThis as { fetch: unknown }).fetch = fetchMock;
    localStorage.setItem(KEY, JSON.stringify(expired()));
    const store = new SessionStore();
    const heard: (string | undefined)[] = [];
    store.subscribe((next, reason) => heard.push(next ? 'session' : reason));
    await expect(store.refresh()).rejects.toBeInstanceOf(SessionExpiredError);
    expect(store.session).toBeNull();
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(heard).toEqual(['expired']);
    // A request that needs a token now goes without one rather than failing.
    await expect(store.freshAccessToken()).resolves.toBeNull();
  });

  it('keeps the session on a network failure during refresh (the next request tries again)', async () => {
    (globalThis as { fetch: unknown }).fetch = jest.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    localStorage.setItem(KEY, JSON.stringify(expired()));
    const store = new SessionStore();
    await expect(store.refresh()).rejects.toThrow('Failed to fetch');
    expect(store.user).toEqual(user);
    expect(localStorage.getItem(KEY)).not.toBeNull();
  });

  it('signs out: clears storage and tells listeners, and the server is asked to end the session', async () => {
    fetchMock = answer({ data: { logout: true } });
    (globalThis as { fetch: unknown }).fetch = fetchMock;
    const store = new SessionStore();
    store.signIn(session());
    const heard: (string | undefined)[] = [];
    store.subscribe((next, reason) => heard.push(next ? 'session' : reason));
    await store.signOut();
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(heard).toEqual(['signed-out']);
    const init = fetchMock.mock.calls[0]![1] as { body: string; headers: Record<string, string> };
    expect(JSON.parse(init.body)).toMatchObject({ query: expect.stringContaining('logout') });
    expect(init.headers.authorization).toBe('Bearer access-1');
  });
});
