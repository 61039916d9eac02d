import { generateKeyPairSync } from 'node:crypto';
import { createAuthServices, issueAccessToken, ServiceClock, type AuthServices } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';
import { createViewerResolver } from '../src/auth.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return err instanceof GraphQLError ? (err.extensions.code as string) : 'NOT_A_GRAPHQL_ERROR';
  }
  return undefined;
}

describe('the router tells who is calling from the bearer token and the live session', () => {
  let auth: AuthServices;
  let other: AuthServices;
  const clock = new ServiceClock(true);

  beforeAll(async () => {
    auth = await createAuthServices({ clock });
    // Another deployment's key (the process-wide default key would be the same one).
    const { privateKey } = generateKeyPairSync('ed25519');
    other = await createAuthServices({ keys: { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, clock });
  });
  afterAll(async () => {
    await auth.dispose();
    await other.dispose();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('treats a request without Authorization as anonymous, and a signed-in one as its user and session', async () => {
    const resolve = createViewerResolver({ keys: auth.keys, sessions: auth.sessions, clock }, 0);
    const { session } = await auth.sessions.create({ userId: 'alice', role: 'PATRON' }, clock.now());
    const { token } = await issueAccessToken(auth.keys, { userId: 'alice', role: 'PATRON', sessionId: session.id }, clock.now());
    expect(await resolve({})).toBeNull();
    expect(await resolve({ authorization: '  ' })).toBeNull();
    expect(await resolve(bearer(token))).toEqual({ userId: 'alice', role: 'PATRON', sessionId: session.id });
  });

  it('refuses malformed headers, forged, expired and altered tokens with UNAUTHENTICATED', async () => {
    const resolve = createViewerResolver({ keys: auth.keys, sessions: auth.sessions, clock }, 0);
    const { session } = await auth.sessions.create({ userId: 'bob', role: 'PATRON' }, clock.now());
    const { token } = await issueAccessToken(auth.keys, { userId: 'bob', role: 'PATRON', sessionId: session.id }, clock.now());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'ADMIN' })).toString(
      'base64url',
    );
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const { token: foreign } = await issueAccessToken(other.keys, { userId: 'bob', role: 'ADMIN', sessionId: session.id }, clock.now());
    const cases: Record<string, Record<string, string>> = {
      'Basic scheme': { authorization: 'Basic Ym9iOnNlY3JldA==' },
      'no token': { authorization: 'Bearer ' },
      garbage: bearer('not-a-token'),
      'alg none': bearer(none),
      'claims raised to ADMIN': bearer(`${header}.${raised}.${signature}`),
      'signed with another key': bearer(foreign),
    };
    for (const [what, headers] of Object.entries(cases)) {
      expect([what, await codeOf(resolve(headers))]).toEqual([what, 'UNAUTHENTICATED']);
    }
    // Expired: the test clock moves past the 15 minutes.
    const later = new ServiceClock(true);
    later.advance(16 * 60);
    const resolveLater = createViewerResolver({ keys: auth.keys, sessions: auth.sessions, clock: later }, 0);
    expect(await codeOf(resolveLater(bearer(token)))).toBe('UNAUTHENTICATED');
  });

  it('refuses a valid token whose session has ended, once the short session cache lapses', async () => {
    const { session } = await auth.sessions.create({ userId: 'carol', role: 'LIBRARIAN' }, clock.now());
    const { token } = await issueAccessToken(auth.keys, { userId: 'carol', role: 'LIBRARIAN', sessionId: session.id }, clock.now());
    const uncached = createViewerResolver({ keys: auth.keys, sessions: auth.sessions, clock }, 0);
    const cached = createViewerResolver({ keys: auth.keys, sessions: auth.sessions, clock }, 60_000);
    expect((await uncached(bearer(token)))?.userId).toBe('carol');
    expect((await cached(bearer(token)))?.userId).toBe('carol');
    await auth.sessions.revoke(session.id);
    expect(await codeOf(uncached(bearer(token)))).toBe('UNAUTHENTICATED');
    // Within its interval the cache still trusts the session: this bounds how late a revocation bites.
    expect((await cached(bearer(token)))?.userId).toBe('carol');
  });
});
