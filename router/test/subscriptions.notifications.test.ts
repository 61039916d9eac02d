/**
 * `notificationReceived` through the router (#9) on the whole platform (PGlite, in-memory bus): a
 * librarian's fine for a patron is stored by notifications and pushed to that patron's sockets only,
 * resolved as the subscriber through `Query.notification(id:)` once per (selection, variables, user).
 */
import { NOTIFICATION_CHANNEL, ServiceClock, type NotificationCreatedEvent } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import { startPlatform, type Platform } from '../src/platform.js';
import { Circulation, type Person } from './circulationKit.js';
import { connect, CountingBus, refusal, subscribe, type Connection, type Subscription } from './subscriptions.helpers.js';

const START_TIMEOUT_MS = 240_000;

let platform: Platform;
let bus: CountingBus;
let c: Circulation;
let librarian: Person;
let pat: Person;
let quinn: Person;
const open: Connection[] = [];

const RECEIVED = 'subscription { notificationReceived { id kind message } }';

interface Received {
  notificationReceived: { id: string; kind: string; message: string };
}

const stats = () => platform.router.subscriptionStats();

function track(connection: Connection): Connection {
  open.push(connection);
  return connection;
}

/** A graphql-ws connection signed in as `who`. */
async function connectAs(who: Person): Promise<Connection> {
  const { authorization } = await c.as(who);
  return track(connect(c.url, authorization!.replace(/^Bearer /, '')));
}

async function assessFine(patron: Person, amountCents: number): Promise<string> {
  const res = await c.call<{ assessFine: { id: string } }>(
    librarian,
    'mutation($input: AssessFineInput!) { assessFine(input: $input) { id } }',
    { input: { userId: patron.id, amountCents, reason: 'DAMAGED', note: 'Water damage.' } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.assessFine.id;
}

interface Inbox {
  totalCount: number;
  edges: { node: { id: string; kind: string; message: string } }[];
}

async function inbox(who: Person): Promise<Inbox> {
  const res = await c.call<{ me: { notifications: Inbox } }>(
    who,
    '{ me { notifications(first: 100) { totalCount edges { node { id kind message } } } } }',
  );
  expect(res.errors).toBeUndefined();
  return res.data!.me.notifications;
}

/** Announces a notification again on the bus, as the notifications service does after storing it. */
const announce = (userId: string, notificationId: string) =>
  bus.publish(NOTIFICATION_CHANNEL, {
    userId,
    notificationId,
    kind: 'FINE_ASSESSED',
    at: platform.clock.now().toISOString(),
  } satisfies NotificationCreatedEvent);

beforeAll(async () => {
  bus = new CountingBus();
  platform = await startPlatform({ bus, clock: new ServiceClock(true) });
  c = new Circulation(platform);
  [librarian, pat, quinn] = await Promise.all([c.person('LIBRARIAN'), c.person(), c.person()]);
}, START_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.dispose()));
  await eventually(() => stats().connections === 0 && stats().subscribers === 0, 5000, 'every socket to close');
});

afterAll(async () => {
  await platform?.stop();
  await bus?.dispose();
});

describe('notificationReceived', () => {
  it('refuses an anonymous subscribe with UNAUTHENTICATED and keeps the socket open', async () => {
    const anonymous = track(connect(c.url));
    // A public subscription holds the (lazy) connection open, so any close would be the server's.
    const book = await c.book(1);
    const watch = subscribe(anonymous, 'subscription ($ids: [ID!]!) { bookAvailabilityChanged(bookIds: $ids) { bookId } }', {
      ids: [book.id],
    });
    await eventually(() => stats().subscribers === 1);
    platform.router.resetFetchCounts();
    const [error, ...rest] = await refusal(subscribe(anonymous, RECEIVED));
    expect(rest).toEqual([]);
    expect(error?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error?.message).toMatch(/^Sign in to receive your notifications/);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({});
    expect(stats()).toMatchObject({ connections: 1, subscribers: 1, busSubscriptions: 1 });
    expect(watch.error).toBeUndefined();
    expect(anonymous.closes).toEqual([]);
  });

  it('pushes a librarian’s fine to its patron only, and the notification is in their inbox', async () => {
    const patSocket = await connectAs(pat);
    const quinnSocket = await connectAs(quinn);
    const patWatch = subscribe<Received>(patSocket, RECEIVED);
    const quinnWatch = subscribe<Received>(quinnSocket, RECEIVED);
    await eventually(() => stats().subscribers === 2);

    const before = stats();
    await assessFine(pat, 350);
    await eventually(() => patWatch.results.length === 1, 10_000, 'Pat to receive the fine notification');
    // One frame written in all (to Pat), one resolution (Pat's group): nothing was ever meant for Quinn.
    expect(stats().framesSent - before.framesSent).toBe(1);
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(1);
    const pushed = patWatch.results[0]!.data!.notificationReceived;
    expect(patWatch.results[0]!.errors).toBeUndefined();
    expect(pushed.kind).toBe('FINE_ASSESSED');
    expect(pushed.message.length).toBeGreaterThan(10);

    const patInbox = await inbox(pat);
    expect(patInbox.edges.map((e) => e.node)).toContainEqual(pushed);

    // Quinn's own fine reaches Quinn alone.
    await assessFine(quinn, 200);
    await eventually(() => quinnWatch.results.length === 1, 10_000, 'Quinn to receive his fine notification');
    expect(stats().framesSent - before.framesSent).toBe(2);
    const quinnPushed = quinnWatch.results[0]!.data!.notificationReceived;
    expect(quinnPushed.id).not.toBe(pushed.id);
    expect((await inbox(quinn)).edges.map((e) => e.node.id)).toEqual([quinnPushed.id]);
    expect(patWatch.results).toHaveLength(1);
    expect(JSON.stringify(quinnWatch.results)).not.toContain(pushed.id);
  });

  it('resolves each event as the subscriber: an event naming someone else’s notification sends nothing', async () => {
    const quinnsId = (await inbox(quinn)).edges[0]!.node.id;
    const patsId = (await inbox(pat)).edges[0]!.node.id;
    const patSocket = await connectAs(pat);
    const patWatch = subscribe<Received>(patSocket, RECEIVED);
    await eventually(() => stats().subscribers === 1);

    const before = stats();
    platform.router.resetFetchCounts();
    // A message on the bus claiming Quinn's notification is for Pat: the gateway, asked as Pat, says null.
    await announce(pat.id, quinnsId);
    // Then one of Pat's own: a group renders its events in order, so once this arrives the first is done.
    await announce(pat.id, patsId);
    await eventually(() => patWatch.results.length === 1);
    expect(patWatch.results).toEqual([{ data: { notificationReceived: expect.objectContaining({ id: patsId }) } }]);
    expect(JSON.stringify(patWatch.results)).not.toContain(quinnsId);
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(2);
    expect(stats().framesSent - before.framesSent).toBe(1);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({ notifications: 2 });
    expect(patSocket.closes).toEqual([]);
  });

  it('resolves one event once per (selection, variables, user) group, and only the recipient’s groups', async () => {
    const patsId = (await inbox(pat)).edges[0]!.node.id;
    const [pat1, pat2, quinnSocket] = await Promise.all([connectAs(pat), connectAs(pat), connectAs(quinn)]);
    const shared: Subscription<Received>[] = [
      subscribe<Received>(pat1, RECEIVED),
      subscribe<Received>(pat1, RECEIVED),
      subscribe<Received>(pat2, RECEIVED),
    ];
    const quinnWatch = subscribe<Received>(quinnSocket, RECEIVED);
    // Another selection of Pat's, with an alias, a fragment, __typename and a variable: a second group.
    const other = subscribe<Record<string, unknown>>(
      pat2,
      `subscription ($withMessage: Boolean!) { n: notificationReceived { __typename ...F } }
       fragment F on Notification { id message @include(if: $withMessage) readAt }`,
      { withMessage: false },
    );
    await eventually(() => stats().subscribers === 5);
    expect(stats().groups).toBe(3);
    expect(stats().busSubscriptions).toBe(1);

    const before = stats();
    platform.router.resetFetchCounts();
    await announce(pat.id, patsId);
    await eventually(() => shared.every((s) => s.results.length === 1) && other.results.length === 1);
    expect(stats().gatewayExecutions - before.gatewayExecutions).toBe(2);
    expect(stats().framesSent - before.framesSent).toBe(4);
    expect(Object.fromEntries(platform.router.fetchCounts)).toEqual({ notifications: 2 });
    expect(new Set(shared.map((s) => JSON.stringify(s.results[0]))).size).toBe(1);
    expect(shared[0]!.results[0]!.data!.notificationReceived.id).toBe(patsId);
    expect(other.results[0]).toEqual({ data: { n: { __typename: 'Notification', id: patsId, readAt: null } } });
    // Quinn's group was not resolved (2 executions, both Pat's) and got no frame (4 frames, all Pat's).
    expect(quinnWatch.results).toEqual([]);
  });

  it('gets back to zero subscriptions, groups and bus subscriptions after unsubscribes and disconnects', async () => {
    const baseline = bus.handlers(NOTIFICATION_CHANNEL);
    const [a, b] = await Promise.all([connectAs(pat), connectAs(quinn)]);
    const subscriptions = [subscribe(a, RECEIVED), subscribe(a, 'subscription { notificationReceived { id } }'), subscribe(b, RECEIVED)];
    await eventually(() => stats().subscribers === 3);
    expect(stats()).toMatchObject({ connections: 2, groups: 3, busSubscriptions: 1 });
    expect(bus.handlers(NOTIFICATION_CHANNEL)).toBe(baseline + 1);

    subscriptions[1]!.unsubscribe();
    await eventually(() => stats().subscribers === 2);
    expect(stats()).toMatchObject({ groups: 2, busSubscriptions: 1 });
    await Promise.all(open.splice(0).map((connection) => connection.dispose()));

    await eventually(() => stats().subscribers === 0 && stats().busSubscriptions === 0);
    expect(stats()).toMatchObject({ connections: 0, subscribers: 0, groups: 0, busSubscriptions: 0 });
    expect(bus.handlers(NOTIFICATION_CHANNEL)).toBe(baseline);
  });
});
