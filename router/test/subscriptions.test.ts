/**
 * Subscriptions through the router (#9): graphql-ws at ws://…/graphql on the whole platform (PGlite,
 * in-memory bus). Events are published on the platform's bus as books publishes them; each is pushed to
 * the subscriptions watching its book, with the selection resolved across subgraphs once per group.
 */
import {
  BOOK_AVAILABILITY_CHANNEL,
  issueAccessToken,
  NOTIFICATION_CHANNEL,
  ServiceClock,
  type BookAvailabilityEvent,
} from '@shelfwise/kit';
import { eventually, graphql } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import {
  closeOf,
  connect,
  CountingBus,
  rawSocket,
  refusal,
  subscribe,
  type Connection,
  type Subscription,
} from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;
const INIT_TIMEOUT_MS = 400;
const SESSION_CHECK_MS = 100;

let platform: Platform;
let url: string;
let bus: CountingBus;
const books: { id: string; title: string }[] = [];
let patron: { token: string; userId: string };
const open: Connection[] = [];

const AVAILABILITY = `
  subscription Watch($ids: [ID!]!) {
    bookAvailabilityChanged(bookIds: $ids) {
      __typename
      bookId
      copies: availableCopies
      totalCopies
      book { title averageRating }
    }
  }
`;

interface Availability {
  bookAvailabilityChanged: {
    __typename: string;
    bookId: string;
    copies: number;
    totalCopies: number;
    book: { title: string; averageRating: number | null } | null;
  };
}

function event(bookId: string, availableCopies: number, totalCopies = 2): BookAvailabilityEvent {
  return { bookId, availableCopies, totalCopies, at: platform.clock.now().toISOString() };
}

const publish = (e: BookAvailabilityEvent) => bus.publish(BOOK_AVAILABILITY_CHANNEL, e);
const stats = () => platform.router.subscriptionStats();

function track(connection: Connection): Connection {
  open.push(connection);
  return connection;
}

async function signUp(email: string, name: string): Promise<{ token: string; userId: string }> {
  const res = await graphql<{ register: { accessToken: string; user: { id: string } } }>(
    url,
    `
      mutation ($input: RegisterInput!) {
        register(input: $input) {
          accessToken
          user {
            id
          }
        }
      }
    `,
    { input: { email, name, password: `${name} reads a lot of books` } },
  );
  expect(res.errors).toBeUndefined();
  return { token: res.data!.register.accessToken, userId: res.data!.register.user.id };
}

beforeAll(async () => {
  bus = new CountingBus();
  platform = await startPlatform({
    bus,
    clock: new ServiceClock(true),
    router: {
      subscriptions: { connectionInitWaitTimeoutMs: INIT_TIMEOUT_MS, sessionCheckIntervalMs: SESSION_CHECK_MS },
      limits: { maxDepth: 4, maxAliases: 3 },
    },
  });
  url = platform.router.url;
  for (const [i, title] of ['Middlemarch', 'Persuasion', 'Bleak House'].entries()) {
    const book = await platform.subgraphs.books.books.create({ isbn: `978000000200${i}`, title, authors: ['Someone'], copies: 2 });
    books.push({ id: book.id, title });
  }
  patron = await signUp('patron@example.org', 'Patricia');
  const reviewer = await signUp('reviewer@example.org', 'Rachel');
  await platform.subgraphs.reviews.reviews.create({ bookId: books[0]!.id, authorId: reviewer.userId, rating: 4, body: 'Good.' });
}, START_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.dispose()));
  await eventually(() => stats().connections === 0, 5000, 'every socket to close');
});

afterAll(async () => {
  await platform?.stop();
  await bus?.dispose();
});

describe('bookAvailabilityChanged over WebSocket', () => {
  it('pushes the events of the watched books only, with fields from books and reviews', async () => {
    const anonymous = track(connect(url));
    const watch = subscribe<Availability>(anonymous, AVAILABILITY, { ids: [books[0]!.id, books[1]!.id] });
    await eventually(() => stats().subscribers === 1);

    await publish(event(books[2]!.id, 0)); // not watched
    await publish(event(books[0]!.id, 1));
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]).toEqual({
      data: {
        bookAvailabilityChanged: {
          __typename: 'BookAvailability',
          bookId: books[0]!.id,
          copies: 1,
          totalCopies: 2,
          book: { title: 'Middlemarch', averageRating: 4 },
        },
      },
    });

    await publish(event(books[1]!.id, 0));
    await eventually(() => watch.results.length === 2);
    expect(watch.results[1]?.data?.bookAvailabilityChanged).toMatchObject({
      bookId: books[1]!.id,
      copies: 0,
      book: { title: 'Persuasion' },
    });
    expect(watch.results.map((r) => r.data?.bookAvailabilityChanged.bookId)).not.toContain(books[2]!.id);
    expect(watch.error).toBeUndefined();
  });

  it('accepts a patron’s token, and resolves nested fields as that patron', async () => {
    const signedIn = track(connect(url, patron.token));
    const watch = subscribe<Availability>(signedIn, AVAILABILITY, { ids: [books[0]!.id] });
    await eventually(() => stats().subscribers === 1);
    await publish(event(books[0]!.id, 2));
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]?.data?.bookAvailabilityChanged.book).toEqual({ title: 'Middlemarch', averageRating: 4 });
    expect(signedIn.closes).toEqual([]);
  });

  it('resolves one event once per group: N subscribers sharing a selection cost one gateway query', async () => {
    const N = 6;
    const watches: Subscription<Availability>[] = [];
    for (let i = 0; i < N; i += 1) {
      const connection = track(connect(url));
      // Different book lists, same selection: one group.
      watches.push(subscribe<Availability>(connection, AVAILABILITY, { ids: i % 2 === 0 ? [books[0]!.id] : [books[0]!.id, books[1]!.id] }));
    }
    await eventually(() => stats().subscribers === N);
    expect(stats().groups).toBe(1);

    const before = stats();
    platform.router.resetFetchCounts();
    await publish(event(books[0]!.id, 0));
    await eventually(() => watches.every((w) => w.results.length === 1));
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(1);
    expect(stats().framesSent - before.framesSent).toBe(N);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({ books: 1, reviews: 1 });
    const frames = new Set(watches.map((w) => JSON.stringify(w.results[0])));
    expect(frames.size).toBe(1);

    // A signed-in subscriber with the same selection is resolved in their own scope: a second group.
    const signedIn = track(connect(url, patron.token));
    const own = subscribe<Availability>(signedIn, AVAILABILITY, { ids: [books[0]!.id] });
    await eventually(() => stats().subscribers === N + 1);
    expect(stats().groups).toBe(2);
    const middle = stats();
    await publish(event(books[0]!.id, 1));
    await eventually(() => own.results.length === 1 && watches.every((w) => w.results.length === 2));
    expect(stats().gatewayExecutions - middle.gatewayExecutions).toBe(2);
  });

  it('asks no subgraph when the selection is all carried by the event', async () => {
    const connection = track(connect(url));
    const watch = subscribe<{ bookAvailabilityChanged: { availableCopies: number } }>(
      connection,
      'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { availableCopies } }',
      { ids: [books[2]!.id] },
    );
    await eventually(() => stats().subscribers === 1);
    const before = stats().gatewayExecutions;
    platform.router.resetFetchCounts();
    await publish(event(books[2]!.id, 1));
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]).toEqual({ data: { bookAvailabilityChanged: { availableCopies: 1 } } });
    expect(stats().gatewayExecutions).toBe(before);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({});
  });

  it('resolves fragments, aliases and @include in the nested selection', async () => {
    const connection = track(connect(url));
    const watch = subscribe<Record<string, unknown>>(
      connection,
      `
        subscription ($ids: [ID!]!, $withRating: Boolean!) {
          changed: bookAvailabilityChanged(bookIds: $ids) { ...Avail }
        }
        fragment Avail on BookAvailability { bookId b: book { name: title averageRating @include(if: $withRating) } }
      `,
      { ids: [books[0]!.id], withRating: false },
    );
    await eventually(() => stats().subscribers === 1);
    await publish(event(books[0]!.id, 2));
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]).toEqual({ data: { changed: { bookId: books[0]!.id, b: { name: 'Middlemarch' } } } });
  });

  it('answers null for a book that is not in the catalogue', async () => {
    const connection = track(connect(url));
    const missing = '00000000-0000-4000-8000-000000000000';
    const watch = subscribe<Availability>(connection, AVAILABILITY, { ids: [missing] });
    await eventually(() => stats().subscribers === 1);
    await publish(event(missing, 0, 0));
    await eventually(() => watch.results.length === 1);
    expect(watch.results[0]?.data?.bookAvailabilityChanged).toMatchObject({ bookId: missing, book: null });
  });
});

describe('connection_init', () => {
  it('closes with 4403 for a bad token: garbage, forged, expired, or of an ended session', async () => {
    const expired = await issueAccessToken(
      platform.auth.keys,
      { userId: patron.userId, role: 'PATRON', sessionId: 'no-such-session' },
      new Date(platform.clock.now().getTime() - 3600_000),
    );
    const ended = await signUp('leaver@example.org', 'Leonard');
    const logout = await graphql(url, 'mutation { logout }', {}, { authorization: `Bearer ${ended.token}` });
    expect(logout.errors).toBeUndefined();

    for (const token of ['not-a-token', `${patron.token.slice(0, -4)}AAAA`, expired.token, ended.token]) {
      const connection = track(connect(url, token));
      const watch = subscribe(connection, AVAILABILITY, { ids: [books[0]!.id] });
      expect(await closeOf(connection)).toMatchObject({ code: 4403 });
      expect(watch.results).toEqual([]);
    }
    expect(stats().subscribers).toBe(0);
  });

  it('closes a signed-in socket with 4403 once its session ends', async () => {
    const leaving = await signUp('later@example.org', 'Laura');
    const connection = track(connect(url, leaving.token));
    subscribe(connection, AVAILABILITY, { ids: [books[0]!.id] });
    await eventually(() => stats().subscribers === 1);
    await graphql(url, 'mutation { logout }', {}, { authorization: `Bearer ${leaving.token}` });
    expect(await closeOf(connection)).toEqual({ code: 4403, reason: 'Your session has ended. Sign in again.' });
    await eventually(() => stats().subscribers === 0);
  });

  it('closes with 4408 when no connection_init arrives in time', async () => {
    const started = Date.now();
    const { closed } = rawSocket(url);
    expect(await closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const socket = new (await import('ws')).WebSocket(url.replace(/^http/, 'ws').replace('/graphql', '/elsewhere'), 'graphql-transport-ws');
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

describe('refused subscribe messages (nothing reaches a subgraph)', () => {
  // Every row has all five entries: jest takes a missing last argument for a `done` callback.
  const cases: [string, string, Record<string, unknown>, string, Record<string, unknown>][] = [
    [
      'too deep',
      'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { book { copies { book { copies { id } } } } } }',
      {},
      'BAD_USER_INPUT',
      { limit: 'maxDepth', value: 6, maximum: 4 },
    ],
    [
      'too many aliases',
      'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { a: bookId b: bookId c: bookId d: bookId } }',
      {},
      'BAD_USER_INPUT',
      { limit: 'maxAliases' },
    ],
    ['a query', '{ book(id: "00000000-0000-4000-8000-000000000000") { title } }', {}, 'BAD_USER_INPUT', {}],
    ['a mutation', 'mutation { logout }', {}, 'BAD_USER_INPUT', {}],
    ['no book ids', 'subscription { bookAvailabilityChanged(bookIds: []) { bookId } }', {}, 'BAD_USER_INPUT', { field: 'bookIds' }],
    [
      '101 book ids',
      'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }',
      { many: true },
      'BAD_USER_INPUT',
      { field: 'bookIds' },
    ],
    [
      'a book id that is not one',
      'subscription { bookAvailabilityChanged(bookIds: ["42"]) { bookId } }',
      {},
      'BAD_USER_INPUT',
      { field: 'bookIds' },
    ],
    [
      'a missing variable',
      'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }',
      { none: true },
      'BAD_USER_INPUT',
      {},
    ],
    ['an unknown field', 'subscription { bookAvailabilityChanged(bookIds: ["x"]) { nope } }', {}, 'GRAPHQL_VALIDATION_FAILED', {}],
    ['a syntax error', 'subscription { bookAvailabilityChanged(', {}, 'GRAPHQL_PARSE_FAILED', {}],
  ];

  it.each(cases)('refuses %s with an error message, leaving the socket open', async (_name, query, flags, code, extensions) => {
    const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const variables = flags.many ? { ids: many } : flags.none ? {} : { ids: [books[0]!.id] };
    const connection = track(connect(url));
    platform.router.resetFetchCounts();
    const errors = await refusal(subscribe(connection, query, variables));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.extensions).toMatchObject({ code, ...extensions });
    expect(errors[0]?.extensions).not.toHaveProperty('http');
    expect(errors[0]?.message.length).toBeGreaterThan(10);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({});
    // The only close is the client's own (graphql-ws closes an idle lazy connection with 1000).
    expect(connection.closes.filter((c) => c.code !== 1000)).toEqual([]);
    expect(stats().subscribers).toBe(0);
  });

  it('names the limit and tells queries to go over HTTP', async () => {
    const connection = track(connect(url));
    const [query] = await refusal(subscribe(connection, '{ __typename }'));
    expect(query?.message).toBe('Only subscriptions are served over WebSocket; send queries as HTTP POST to /graphql.');
    const [ids] = await refusal(subscribe(connection, 'subscription { bookAvailabilityChanged(bookIds: []) { bookId } }'));
    expect(ids?.message).toBe('bookIds is empty; give the ids of 1 to 100 books to watch.');
  });
});

describe('leaving nothing behind', () => {
  it('gets back to zero subscriptions, groups and bus subscriptions after unsubscribes and disconnects', async () => {
    // Handlers on each channel (reservations also listens for availability events): the router adds one each.
    const held = () => [bus.handlers(BOOK_AVAILABILITY_CHANNEL), bus.handlers(NOTIFICATION_CHANNEL)];
    const [availability, notifications] = held();
    const connections = [track(connect(url)), track(connect(url)), track(connect(url, patron.token))];
    const subscriptions = connections.flatMap((connection, i) => [
      subscribe(connection, AVAILABILITY, { ids: [books[i]!.id] }),
      subscribe(connection, 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }', { ids: [books[0]!.id] }),
    ]);
    // The patron also listens for their notifications: a second channel.
    subscriptions.push(subscribe(connections[2]!, 'subscription { notificationReceived { id kind } }'));
    await eventually(() => stats().subscribers === 7);
    expect(stats()).toMatchObject({ connections: 3, busSubscriptions: 2 });
    expect(held()).toEqual([availability! + 1, notifications! + 1]);

    // Unsubscribe some (graphql-ws `complete`), then drop the sockets with the rest still live.
    subscriptions[0]!.unsubscribe();
    subscriptions[3]!.unsubscribe();
    subscriptions[6]!.unsubscribe();
    await eventually(() => stats().subscribers === 4);
    // The last notification subscriber left: that channel's bus subscription is released at once.
    await eventually(() => stats().busSubscriptions === 1);
    expect(held()).toEqual([availability! + 1, notifications]);
    subscriptions.push(subscribe(connections[2]!, 'subscription { notificationReceived { id } }'));
    await eventually(() => stats().subscribers === 5 && stats().busSubscriptions === 2);
    await Promise.all(open.splice(0).map((c) => c.dispose()));

    await eventually(() => stats().subscribers === 0);
    expect(stats()).toMatchObject({ connections: 0, subscribers: 0, groups: 0 });
    // Both channels released, the notifications one with a subscriber still live when its socket dropped.
    await eventually(() => stats().busSubscriptions === 0);
    expect(held()).toEqual([availability, notifications]);

    // And it all comes back for the next subscriber.
    const again = track(connect(url));
    const watch = subscribe<Availability>(again, AVAILABILITY, { ids: [books[1]!.id] });
    await eventually(() => stats().busSubscriptions === 1);
    await publish(event(books[1]!.id, 2));
    await eventually(() => watch.results.length === 1);
  });

  it('ends every subscription when the socket is closed mid-subscribe', async () => {
    for (let i = 0; i < 5; i += 1) {
      const connection = connect(url);
      subscribe(connection, AVAILABILITY, { ids: [books[0]!.id] });
      // Dispose at once: the subscribe may still be in flight on the server.
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      await connection.dispose();
    }
    await eventually(() => stats().connections === 0 && stats().subscribers === 0 && stats().busSubscriptions === 0);
  });
});
