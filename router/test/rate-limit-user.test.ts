/**
 * The per-user rate limit through the whole router (#3): a signed-in user's bucket is charged per
 * operation over HTTP and per subscribe message over WebSocket; over it, HTTP answers 429 with
 * Retry-After and WebSocket an error message with the same code, and other users are not affected.
 */
import type { ServiceClock } from '@shelfwise/kit';
import { eventually, FrozenClock, graphql } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import { connect, refusal, subscribe, type Connection } from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;
/** 3 operations a minute per user: one token back every 20 s. */
const PER_MINUTE = 3;

let platform: Platform;
let url: string;
let clock: ServiceClock;
const open: Connection[] = [];

async function signUp(email: string, name: string): Promise<string> {
  const res = await graphql<{ register: { accessToken: string } }>(
    url,
    `
      mutation ($input: RegisterInput!) {
        register(input: $input) {
          accessToken
        }
      }
    `,
    { input: { email, name, password: `${name} reads a lot of books` } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.register.accessToken;
}

/** POSTs `{ me { name } }` as `token`: status, Retry-After and body. */
async function me(token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { name } }' }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as unknown };
}

beforeAll(async () => {
  clock = new FrozenClock();
  platform = await startPlatform({
    clock,
    // The address limit off, so only the user's bucket is in play (every test request comes from 127.0.0.1).
    router: { rateLimit: { userPerMinute: PER_MINUTE, ipPerMinute: 0, clock } },
  });
  url = platform.router.url;
}, START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await platform?.stop();
});

describe('the per-user rate limit through the router', () => {
  it('answers 429 with Retry-After once a signed-in user spent their bucket, asking no subgraph; others go on', async () => {
    const ann = await signUp('ann@example.org', 'Ann');
    const ben = await signUp('ben@example.org', 'Ben');

    for (let i = 0; i < PER_MINUTE; i += 1) {
      expect(await me(ann)).toMatchObject({ status: 200, body: { data: { me: { name: 'Ann' } } } });
    }
    platform.router.resetFetchCounts();
    expect(await me(ann)).toEqual({
      status: 429,
      retryAfter: '20',
      body: {
        errors: [
          {
            message: 'Too many requests from this account; try again in 20 seconds.',
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 20 },
          },
        ],
      },
    });
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({});

    // Ben has his own bucket; anonymous callers are limited by address only (off here).
    expect((await me(ben)).status).toBe(200);
    expect((await graphql(url, '{ now }')).errors).toBeUndefined();

    // Over WebSocket the same bucket refuses a subscribe, with the same code.
    const connection = connect(url, ann);
    open.push(connection);
    const [error] = await refusal(
      subscribe(connection, 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }', {
        ids: ['00000000-0000-4000-8000-000000000000'],
      }),
    );
    expect(error).toEqual({
      message: 'Too many requests from this account; try again in 20 seconds.',
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 20 },
    });

    // Twenty seconds later one token is back: one request passes, the next is refused again.
    clock.advance(20);
    expect((await me(ann)).status).toBe(200);
    expect(await me(ann)).toMatchObject({ status: 429, retryAfter: '20' });
  });

  it('charges each subscribe message, and lets one through while there are tokens', async () => {
    const cy = await signUp('cy@example.org', 'Cy');
    const connection = connect(url, cy);
    open.push(connection);
    const query = 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }';
    const variables = { ids: ['00000000-0000-4000-8000-000000000001'] };
    const live = [
      subscribe(connection, query, variables),
      subscribe(connection, query, variables),
      subscribe(connection, query, variables),
    ];
    await eventually(() => platform.router.subscriptionStats().subscribers === 3);
    const [error] = await refusal(subscribe(connection, query, variables));
    expect(error?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 20 });
    expect(live.every((s) => s.error === undefined)).toBe(true);
    expect(connection.closes).toEqual([]);
  });
});
