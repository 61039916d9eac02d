/**
 * Identity and authorization end to end, through the router, on the whole platform (PGlite): people sign
 * in with real accounts, and patron Alice tries every path to patron Bob's records — root fields, nested
 * fields reached from public catalogue data, and mutations. Each refused case sits next to the allowed one.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { issueAccessToken, loadSigningKeys, ServiceClock } from '@shelfwise/kit';
import { eventually, graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../router/src/platform.js';

const START_TIMEOUT_MS = 240_000;
const ADMIN = { email: 'root@library.example', password: 'a long admin passphrase' };

interface Payload {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string | null; role: string };
}

let platform: Platform;
let url: string;
let alice: Payload;
let bob: Payload;
let admin: Payload;
let bookId: string;

const as = (who: Payload | string | null): Record<string, string> =>
  who === null ? {} : { authorization: `Bearer ${typeof who === 'string' ? who : who.accessToken}` };
const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);

async function signUp(email: string, name: string): Promise<Payload> {
  const res = await graphql<{ register: Payload }>(
    url,
    `
      mutation ($input: RegisterInput!) {
        register(input: $input) {
          accessToken
          refreshToken
          user {
            id
            email
            role
          }
        }
      }
    `,
    { input: { email, name, password: `${name} reads a lot of books` } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.register;
}

beforeAll(async () => {
  platform = await startPlatform({ clock: new ServiceClock(true), subgraphs: { users: { admin: ADMIN } } });
  url = platform.router.url;
  alice = await signUp('alice@example.org', 'Alice');
  bob = await signUp('bob@example.org', 'Bob');
  const login = await graphql<{ login: Payload }>(
    url,
    `
      mutation ($e: String!, $p: String!) {
        login(email: $e, password: $p) {
          accessToken
          refreshToken
          user {
            id
            email
            role
          }
        }
      }
    `,
    {
      e: ADMIN.email,
      p: ADMIN.password,
    },
  );
  expect(login.errors).toBeUndefined();
  admin = login.data!.login;

  // Bob's records in every subgraph, and a public book Alice can reach him through (his review).
  const { books, loans, reservations, payments, notifications, reviews } = platform.subgraphs;
  const book = await books.books.create({ isbn: '9780000009991', title: 'Shared Shelf', authors: ['Someone'], copies: 1 });
  bookId = book.id;
  const copyId = (await books.database.prisma.copy.findFirstOrThrow({ where: { bookId } })).id;
  const now = platform.clock.now();
  const loan = await loans.loans.create({
    userId: bob.user.id,
    bookId,
    copyId,
    borrowedAt: now,
    dueAt: new Date(now.getTime() + 14 * 86_400_000),
  });
  await reservations.reservations.create({ userId: bob.user.id, bookId });
  await payments.fines.createFine({ userId: bob.user.id, loanId: loan.id, amountCents: 125, reason: 'OVERDUE' });
  await notifications.notifications.create({
    userId: bob.user.id,
    kind: 'DUE_SOON',
    message: 'Shared Shelf is due soon.',
    bookId,
    loanId: loan.id,
  });
  await reviews.reviews.create({ bookId, authorId: bob.user.id, rating: 4, body: 'Good.' });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await platform?.stop();
});

const BOB_RECORDS = `id name email
  loans { totalCount } reservations { totalCount } fines { id amountCents } balanceCents payments { id }
  notifications { totalCount } unreadNotificationCount notificationPreferences { dueSoon }`;

describe('signing in through the router', () => {
  it('answers me for the signed-in user and null for anonymous callers', async () => {
    const mine = await graphql<{ me: { id: string; email: string } }>(url, '{ me { id email } }', {}, as(alice));
    expect(mine.data?.me).toEqual({ id: alice.user.id, email: 'alice@example.org' });
    const anonymous = await graphql<{ me: null }>(url, '{ me { id } }');
    expect(anonymous.errors).toBeUndefined();
    expect(anonymous.data?.me).toBeNull();
  });

  it('lets Bob see every one of his own records', async () => {
    const res = await graphql<{ user: Record<string, unknown> }>(
      url,
      `query($id: ID!) { user(id: $id) { ${BOB_RECORDS} } }`,
      { id: bob.user.id },
      as(bob),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.user).toMatchObject({
      email: 'bob@example.org',
      balanceCents: 125,
      loans: { totalCount: 1 },
      reservations: { totalCount: 1 },
    });
  });

  it('lets staff see Bob’s records, except his notifications, which are his alone', async () => {
    const staffView = BOB_RECORDS.replace('notifications { totalCount } unreadNotificationCount notificationPreferences { dueSoon }', '');
    const res = await graphql<{ user: Record<string, unknown> }>(
      url,
      `query($id: ID!) { user(id: $id) { ${staffView} } }`,
      { id: bob.user.id },
      as(admin),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.user).toMatchObject({ balanceCents: 125, loans: { totalCount: 1 } });
    for (const field of ['notifications { totalCount }', 'unreadNotificationCount', 'notificationPreferences { dueSoon }']) {
      const personal = await graphql(url, `query($id: ID!) { user(id: $id) { id ${field} } }`, { id: bob.user.id }, as(admin));
      expect([field, codes(personal)]).toEqual([field, ['FORBIDDEN']]);
    }
  });
});

describe('patron Alice never reads patron Bob’s records', () => {
  it('is refused Bob’s user record at the root', async () => {
    const res = await graphql(
      url,
      `
        query ($id: ID!) {
          user(id: $id) {
            id
            name
          }
        }
      `,
      { id: bob.user.id },
      as(alice),
    );
    expect(codes(res)).toEqual(['FORBIDDEN']);
  });

  it('is refused every personal field of Bob reached through a public review of a public book', async () => {
    for (const field of [
      'loans { totalCount }',
      'reservations { totalCount }',
      'fines { id }',
      'balanceCents',
      'payments { id }',
      'notifications { totalCount }',
      'unreadNotificationCount',
      'notificationPreferences { dueSoon }',
    ]) {
      const res = await graphql<{ book: { reviews: { edges: { node: { author: Record<string, unknown> | null } }[] } } }>(
        url,
        `query($id: ID!) { book(id: $id) { title reviews { edges { node { rating author { name ${field} } } } } } }`,
        { id: bookId },
        as(alice),
      );
      expect([field, codes(res)]).toEqual([field, ['FORBIDDEN']]);
      // Nothing of Bob's leaks (the personal fields are non-null, so the refusal nulls the book, as GraphQL does).
      expect(JSON.stringify(res.data)).not.toContain('125');
      expect(JSON.stringify(res.data)).not.toContain('Shared Shelf is due soon');
    }
  });

  it('sees Bob’s public name on his review, never his email', async () => {
    const res = await graphql<{ book: { reviews: { edges: { node: { author: { name: string; email: string | null } } }[] } } }>(
      url,
      `
        query ($id: ID!) {
          book(id: $id) {
            reviews {
              edges {
                node {
                  author {
                    name
                    email
                  }
                }
              }
            }
          }
        }
      `,
      { id: bookId },
      as(alice),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.book.reviews.edges[0]?.node.author).toEqual({ name: 'Bob', email: null });
  });

  it('is refused the staff-wide lists', async () => {
    expect(
      codes(
        await graphql(
          url,
          `
            {
              users {
                totalCount
              }
            }
          `,
          {},
          as(alice),
        ),
      ),
    ).toEqual(['FORBIDDEN']);
    expect(
      codes(
        await graphql(
          url,
          `
            query ($u: ID!) {
              loans(filter: { userId: $u }) {
                totalCount
              }
            }
          `,
          { u: bob.user.id },
          as(alice),
        ),
      ),
    ).toEqual(['FORBIDDEN']);
  });

  it('cannot change Bob, his role or his sessions', async () => {
    const role = await graphql(
      url,
      `
        mutation ($u: ID!) {
          setUserRole(userId: $u, role: LIBRARIAN) {
            id
          }
        }
      `,
      { u: bob.user.id },
      as(alice),
    );
    expect(codes(role)).toEqual(['FORBIDDEN']);
    // updateProfile and logout only ever act on the caller: Bob is untouched.
    const profile = await graphql<{ updateProfile: { id: string; name: string } }>(
      url,
      `
        mutation {
          updateProfile(input: { name: "Alice R." }) {
            id
            name
          }
        }
      `,
      {},
      as(alice),
    );
    expect(profile.data?.updateProfile).toEqual({ id: alice.user.id, name: 'Alice R.' });
    const bobNow = await graphql<{ me: { name: string } }>(url, '{ me { name } }', {}, as(bob));
    expect(bobNow.data?.me.name).toBe('Bob');
  });

  it('is asked to sign in for every personal path when anonymous', async () => {
    expect(
      codes(
        await graphql(
          url,
          `
            query ($id: ID!) {
              user(id: $id) {
                id
              }
            }
          `,
          { id: bob.user.id },
        ),
      ),
    ).toEqual(['UNAUTHENTICATED']);
    expect(
      codes(
        await graphql(
          url,
          `
            {
              loanPolicies {
                role
              }
            }
          `,
        ),
      ),
    ).toEqual(['UNAUTHENTICATED']);
    const nested = await graphql(
      url,
      `
        query ($id: ID!) {
          book(id: $id) {
            reviews {
              edges {
                node {
                  author {
                    balanceCents
                  }
                }
              }
            }
          }
        }
      `,
      { id: bookId },
    );
    expect(codes(nested)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('tokens the router refuses', () => {
  it('refuses forged, altered, foreign and expired tokens with UNAUTHENTICATED and calls no subgraph', async () => {
    const [header, payload, signature] = alice.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const raised = Buffer.from(JSON.stringify({ ...claims, role: 'ADMIN' })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${raised}.`;
    const foreignKeys = await loadSigningKeys({
      privateKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const foreign = (
      await issueAccessToken(
        foreignKeys,
        { userId: alice.user.id, role: 'ADMIN', sessionId: String(claims.sid ?? randomUUID()) },
        platform.clock.now(),
      )
    ).token;
    platform.router.resetFetchCounts();
    for (const [what, token] of Object.entries({
      'alg none': none,
      'claims raised to ADMIN': `${header}.${raised}.${signature}`,
      'signed with another key': foreign,
      garbage: 'x.y.z',
    })) {
      const res = await graphql(url, '{ me { id } }', {}, as(token));
      expect([what, codes(res)]).toEqual([what, ['UNAUTHENTICATED']]);
    }
    expect([...platform.router.fetchCounts.values()].reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('refuses an access token once its session is logged out (within seconds)', async () => {
    const session = await graphql<{ login: Payload }>(
      url,
      `
        mutation {
          login(email: "bob@example.org", password: "Bob reads a lot of books") {
            accessToken
            refreshToken
            user {
              id
              email
              role
            }
          }
        }
      `,
    );
    const token = session.data!.login.accessToken;
    expect((await graphql<{ me: { id: string } }>(url, '{ me { id } }', {}, as(token))).data?.me.id).toBe(bob.user.id);
    const out = await graphql<{ logout: boolean }>(url, 'mutation { logout }', {}, as(token));
    expect(out.data?.logout).toBe(true);
    await eventually(
      async () => codes(await graphql(url, '{ me { id } }', {}, as(token))).includes('UNAUTHENTICATED'),
      10_000,
      'the logged-out token to be refused',
    );
    // Bob's other session (from sign-up) is untouched.
    expect((await graphql<{ me: { id: string } }>(url, '{ me { id } }', {}, as(bob))).data?.me.id).toBe(bob.user.id);
  });

  it('ends the whole session when a used refresh token comes back', async () => {
    const first = await graphql<{ refreshSession: Payload }>(
      url,
      `
        mutation ($t: String!) {
          refreshSession(refreshToken: $t) {
            accessToken
            refreshToken
            user {
              id
              email
              role
            }
          }
        }
      `,
      { t: alice.refreshToken },
    );
    expect(first.errors).toBeUndefined();
    const replay = await graphql(
      url,
      `
        mutation ($t: String!) {
          refreshSession(refreshToken: $t) {
            accessToken
          }
        }
      `,
      { t: alice.refreshToken },
    );
    expect(codes(replay)).toEqual(['UNAUTHENTICATED']);
    const next = await graphql(
      url,
      `
        mutation ($t: String!) {
          refreshSession(refreshToken: $t) {
            accessToken
          }
        }
      `,
      { t: first.data!.refreshSession.refreshToken },
    );
    expect(codes(next)).toEqual(['UNAUTHENTICATED']);
    await eventually(
      async () => codes(await graphql(url, '{ me { id } }', {}, as(first.data!.refreshSession.accessToken))).includes('UNAUTHENTICATED'),
      10_000,
      'the stolen session to end',
    );
  });

  it('lets only an admin move the test clock, by a sane amount, and every service follows', async () => {
    const before = (await graphql<{ now: string }>(url, '{ now }')).data!.now;
    expect(codes(await graphql(url, 'mutation { advanceClock(seconds: 60) }', {}, as(bob)))).toEqual(['FORBIDDEN']);
    expect(codes(await graphql(url, 'mutation { advanceClock(seconds: 60) }'))).toEqual(['UNAUTHENTICATED']);
    for (const bad of [0, -5, 3650 * 86_400 + 1]) {
      expect(codes(await graphql(url, 'mutation($s: Int!) { advanceClock(seconds: $s) }', { s: bad }, as(admin)))).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    const moved = await graphql<{ advanceClock: string }>(url, 'mutation { advanceClock(seconds: 86400) }', {}, as(admin));
    expect(moved.errors).toBeUndefined();
    expect(Date.parse(moved.data!.advanceClock) - Date.parse(before)).toBeGreaterThanOrEqual(86_400_000);
    expect(platform.clock.now().getTime()).toBeGreaterThanOrEqual(Date.parse(moved.data!.advanceClock));
    // A day later the admin's 15-minute access token has expired, as every other one has.
    expect(codes(await graphql(url, '{ me { id } }', {}, as(admin)))).toEqual(['UNAUTHENTICATED']);
  });

  it('expires access tokens after 15 minutes on the test clock', async () => {
    const fresh = await signUp('carol@example.org', 'Carol');
    expect((await graphql<{ me: { id: string } }>(url, '{ me { id } }', {}, as(fresh))).data?.me.id).toBe(fresh.user.id);
    platform.clock.advance(15 * 60 + 1);
    expect(codes(await graphql(url, '{ me { id } }', {}, as(fresh)))).toEqual(['UNAUTHENTICATED']);
  });
});
