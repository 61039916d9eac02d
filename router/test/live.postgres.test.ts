/**
 * Live updates scaled out, on real Postgres (a database per subgraph) and Redis (needs both): two routers
 * and two notifications instances (one consumer group) on one Redis and one notifications database, as
 * replicas behind a load balancer. A mutation sent to router A reaches a subscriber on router B; a fine
 * is stored once by one of the two consumers and pushed once. Then the outboxes of loans (due-date
 * events) and reservations (hold ready) survive their process dying right after the commit: the next
 * instance on the same database relays the event, and it is notified once.
 */
import { jest } from '@jest/globals';
import { RedisBus, ServiceClock, SUBGRAPH_NAMES, type EventBus, type SubgraphDirectory, type SubgraphName } from '@shelfwise/kit';
import { start as startLoans, type LoansOptions } from '@shelfwise/loans';
import { start as startNotifications, type NotificationsHandle } from '@shelfwise/notifications';
import { start as startReservations, type ReservationsOptions } from '@shelfwise/reservations';
import {
  dropTestDatabase,
  eventually,
  freshDatabaseName,
  freshRedisPrefix,
  hasPostgres,
  hasRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { startPlatform, type Platform } from '../src/platform.js';
import type { RouterHandle } from '../src/server.js';
import type { Person } from './circulationKit.js';
import { DAY, frames, Live, received, startAnotherRouter } from './liveKit.js';

const pgOk = await hasPostgres();
const servicesOk = pgOk && (await hasRedis());
const describePgRedis = servicesOk ? describe : describe.skip;

const START_TIMEOUT_MS = 240_000;

describePgRedis('live updates with two routers and two notification consumers (Postgres, Redis)', () => {
  const prefix = freshRedisPrefix('live_scale');
  const databaseNames = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, freshDatabaseName(`live_${name}`)])) as Record<
    SubgraphName,
    string
  >;
  const dbOptions = (name: SubgraphName) => ({ databaseUrl: TEST_DATABASE_URL, databaseName: databaseNames[name] });
  const circulation = { reconcileIntervalMs: 0, scanIntervalMs: 0, sagaStaleMs: 60_000 };
  const holds = { scanIntervalMs: 0, reconcileIntervalMs: 0 };

  /** Each RedisBus stands for one process's connections. */
  const buses: RedisBus[] = [];
  const newBus = () => {
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix });
    buses.push(bus);
    return bus;
  };
  let platform: Platform;
  let routerB: RouterHandle;
  let notificationsB: NotificationsHandle;
  let live: Live;
  let admin: Person;
  let librarian: Person;
  const directory: SubgraphDirectory = { url: (name) => platform.subgraphs[name].url };

  /** The notifications stored for `userId` (one database, both instances). */
  const storedFor = (userId: string) => platform.subgraphs.notifications.database.prisma.notification.findMany({ where: { userId } });

  beforeAll(async () => {
    const loans: LoansOptions = { ...dbOptions('loans'), circulation };
    const reservations: ReservationsOptions = { ...dbOptions('reservations'), holds };
    platform = await startPlatform({
      bus: newBus(),
      clock: new ServiceClock(true),
      subgraphs: { ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, dbOptions(name)])), loans, reservations },
      router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
    });
    // The second replica of each: a router and a notifications instance, each with its own connections.
    routerB = await startAnotherRouter(platform, newBus());
    notificationsB = await startNotifications({
      ...dbOptions('notifications'),
      port: 0,
      bus: newBus(),
      clock: platform.clock,
      services: directory,
    });
    live = new Live(platform);
    [admin, librarian] = await Promise.all([live.person('ADMIN'), live.person('LIBRARIAN')]);
  }, START_TIMEOUT_MS);

  afterEach(async () => {
    await live.closeSockets();
    jest.restoreAllMocks();
    const open = () => platform.router.subscriptionStats().connections + routerB.subscriptionStats().connections;
    await eventually(() => open() === 0, 5000, 'every socket to close');
  });

  afterAll(async () => {
    await routerB?.stop();
    await notificationsB?.stop();
    await platform?.stop();
    await Promise.all(buses.map((bus) => bus.dispose()));
    await Promise.all(Object.values(databaseNames).map((name) => dropTestDatabase(name)));
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('pushes a borrow sent to router A to a watcher on router B (and on A), once each', async () => {
    const alice = await live.person();
    const book = await live.book(2);
    const onB = await live.watchAvailability(null, [book.id], routerB.url);
    const onA = await live.watchAvailability(null, [book.id]);
    await eventually(() => routerB.subscriptionStats().subscribers === 1 && platform.router.subscriptionStats().subscribers === 1);
    const beforeB = routerB.subscriptionStats();

    // Borrowed through router A, returned through router B.
    const lent = await live.borrow(alice, book.id);
    expect(lent.errors).toBeUndefined();
    await frames(onB, 1, 'router B’s watcher to receive the borrow');
    await frames(onA, 1, 'router A’s watcher to receive the borrow');
    const back = await live.callAt<{ returnLoan: { status: string } }>(
      routerB.url,
      alice,
      'mutation($id: ID!) { returnLoan(loanId: $id) { status } }',
      { id: lent.data!.borrowBook.id },
    );
    expect(back.data?.returnLoan.status).toBe('RETURNED');
    await frames(onB, 2, 'router B’s watcher to receive the return');
    await frames(onA, 2, 'router A’s watcher to receive the return');

    for (const watch of [onA, onB]) {
      expect(watch.results.map((r) => r.data?.bookAvailabilityChanged)).toEqual([
        expect.objectContaining({ bookId: book.id, availableCopies: 1, totalCopies: 2, book: expect.objectContaining({ reviewCount: 0 }) }),
        expect.objectContaining({ bookId: book.id, availableCopies: 2, totalCopies: 2 }),
      ]);
    }
    // Router B heard each event once on its one Redis subscription, and resolved it once.
    expect(routerB.subscriptionStats().gatewayExecutions - beforeB.gatewayExecutions).toBe(2);
    expect(routerB.subscriptionStats().framesSent - beforeB.framesSent).toBe(2);
    expect(routerB.subscriptionStats().busSubscriptions).toBe(1);
  });

  it('stores each fine once with two consumers in the group, and pushes it once to the patron on router B', async () => {
    const [pat, quinn, rose] = await Promise.all([live.person(), live.person(), live.person()]);
    const consumers = { A: platform.subgraphs.notifications.consumer, B: notificationsB.consumer };
    const spies = { A: jest.spyOn(consumers.A, 'consume'), B: jest.spyOn(consumers.B, 'consume') };
    const patOnB = await live.watchNotifications(pat, routerB.url);
    const patOnA = await live.watchNotifications(pat);
    await eventually(() => routerB.subscriptionStats().subscribers === 1 && platform.router.subscriptionStats().subscribers === 1);

    // Nine fines through router A: three for Pat, six for others, so both consumers have work.
    const fines: { fineId: string; userId: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      for (const who of [pat, quinn, rose]) fines.push({ fineId: await live.assessFine(librarian, who, 50 + i), userId: who.id });
    }
    await frames(patOnB, 3, 'Pat’s three fines on router B');
    await frames(patOnA, 3, 'Pat’s three fines on router A');
    await Promise.all([consumers.A.settled(), consumers.B.settled()]);

    // Each event handled by exactly one of the two consumers, once.
    const handled = [...spies.A.mock.calls, ...spies.B.mock.calls].map(([message]) => (message as { id: string }).id);
    const fineEvents = fines.map((f) => `FINE_ASSESSED:${f.fineId}`);
    expect(handled.filter((id) => fineEvents.includes(id)).sort()).toEqual([...fineEvents].sort());
    // And both took a share: Redis hands each new entry to the reader blocked longest, so while one
    // consumer stores an event the other is first in line for the next.
    expect(spies.A.mock.calls.length).toBeGreaterThan(0);
    expect(spies.B.mock.calls.length).toBeGreaterThan(0);
    const prisma = platform.subgraphs.notifications.database.prisma;
    expect(await prisma.processedEvent.count({ where: { id: { in: fineEvents }, outcome: 'STORED' } })).toBe(9);
    for (const who of [pat, quinn, rose]) expect(await storedFor(who.id)).toHaveLength(3);

    // Pat's three pushed once each on each router, and nothing of anyone else's.
    const patsIds = (await storedFor(pat.id)).map((n) => n.id).sort();
    for (const watch of [patOnB, patOnA]) {
      expect(watch.results).toHaveLength(3);
      expect(
        received(watch)
          .map((n) => n.id)
          .sort(),
      ).toEqual(patsIds);
    }
    expect((await live.inbox(pat)).unreadNotificationCount).toBe(3);
    // Both instances are in the one group (XINFO CONSUMERS), each under its own name.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const info = (await redis.xinfo('CONSUMERS', `${prefix}:events.domain.stream`, 'notifications')) as unknown[][];
      const names = info.map((fields) => fields[fields.indexOf('name') + 1]);
      expect(names).toEqual(expect.arrayContaining([consumers.A.consumerName, consumers.B.consumerName]));
    } finally {
      await redis.quit();
    }
  });

  // The last two move the clock and replace the platform's loans and reservations processes.
  it('relays a due-date event the loans process committed but died before sending: notified once, live on router B', async () => {
    const dana = await live.person();
    const book = await live.book(1);
    const loan = (await live.borrow(dana, book.id)).data!.borrowBook;
    const watch = await live.watchNotifications(dana, routerB.url);
    await eventually(() => routerB.subscriptionStats().subscribers === 1);

    // The loans process is replaced by one whose events never reach Redis: its scan commits the
    // DUE_SOON row to the outbox, then fails to relay it, and the process is stopped (it "died").
    const original = platform.subgraphs.loans;
    await original.stop();
    const shared = platform.bus;
    const refusing: EventBus = Object.assign(Object.create(shared) as EventBus, {
      append: () => Promise.reject(new Error('Redis is unreachable (test)')),
    });
    const doomed = await startLoans({
      ...dbOptions('loans'),
      port: original.port,
      bus: refusing,
      clock: platform.clock,
      services: directory,
      circulation,
    });
    platform.subgraphs.loans = doomed;
    await live.advanceClock(admin, 12 * DAY + 12 * 3600);
    expect(await doomed.scanner.runNow()).toBeUndefined(); // the relay failed, the rows were committed
    const outbox = () => doomed.database.prisma.loanEvent.findMany({ where: { loanId: loan.id } });
    expect((await outbox()).map((e) => [e.type, e.publishedAt])).toEqual([['DUE_SOON', null]]);
    await doomed.stop();
    await Promise.all([platform.subgraphs.notifications.consumer.settled(), notificationsB.consumer.settled()]);
    expect(await storedFor(dana.id)).toHaveLength(0);

    // A new loans process on the same database relays what the first left behind (recording nothing new).
    const next = await startLoans({
      ...dbOptions('loans'),
      port: original.port,
      bus: shared,
      clock: platform.clock,
      services: directory,
      circulation,
    });
    platform.subgraphs.loans = next;
    const report = await next.scanner.runNow();
    expect(report).toMatchObject({ recorded: 0 });
    expect(report!.published).toBeGreaterThanOrEqual(1);
    expect((await next.database.prisma.loanEvent.findMany({ where: { loanId: loan.id, publishedAt: null } })).length).toBe(0);
    await frames(watch, 1, 'Dana’s due-soon reminder on router B');
    expect(received(watch)).toEqual([expect.objectContaining({ kind: 'DUE_SOON', loan: { id: loan.id } })]);

    // Scanning again sends nothing more; Dana was notified exactly once.
    expect(await next.scanner.runNow()).toEqual({ recorded: 0, published: 0 });
    await Promise.all([platform.subgraphs.notifications.consumer.settled(), notificationsB.consumer.settled()]);
    expect(await storedFor(dana.id)).toHaveLength(1);
    expect(watch.results).toHaveLength(1);
  });

  it('relays a hold-ready event the reservations process committed but died before sending: notified once', async () => {
    const [alex, hana] = await Promise.all([live.person(), live.person()]);
    const book = await live.book(1);
    const lent = await live.borrow(alex, book.id);
    expect(lent.errors).toBeUndefined();
    const hold = (await live.reserve(hana, book.id)).data!.reserveBook;
    const watch = await live.watchNotifications(hana, routerB.url);
    await eventually(() => routerB.subscriptionStats().subscribers === 1);

    // Reservations is replaced by a process whose events never reach Redis: the return makes Hana's
    // hold READY and commits its RESERVATION_READY row, whose relay then fails; the process stops.
    const original = platform.subgraphs.reservations;
    await original.stop();
    const shared = platform.bus;
    const refusing: EventBus = Object.assign(Object.create(shared) as EventBus, {
      append: () => Promise.reject(new Error('Redis is unreachable (test)')),
    });
    const options = { ...dbOptions('reservations'), port: original.port, clock: platform.clock, services: directory, holds };
    const doomed = await startReservations({ ...options, bus: refusing });
    platform.subgraphs.reservations = doomed;
    expect((await live.returnLoan(alex, lent.data!.borrowBook.id)).data?.returnLoan.copy.status).toBe('ON_HOLD_SHELF');
    expect((await live.mine(hana))[0]).toMatchObject({ id: hold.id, status: 'READY' });
    const outbox = () => doomed.database.prisma.reservationEvent.findMany({ where: { reservationId: hold.id } });
    expect((await outbox()).map((e) => [e.type, e.publishedAt])).toEqual([['RESERVATION_READY', null]]);
    await doomed.stop();
    await Promise.all([platform.subgraphs.notifications.consumer.settled(), notificationsB.consumer.settled()]);
    expect(await storedFor(hana.id)).toHaveLength(0);

    // The next reservations process relays it as it starts (its reconciler's first pass).
    const next = await startReservations({ ...options, bus: shared });
    platform.subgraphs.reservations = next;
    await frames(watch, 1, 'Hana to be told her hold is ready, on router B');
    expect(received(watch)).toEqual([
      expect.objectContaining({ kind: 'RESERVATION_READY', reservation: { id: hold.id, status: 'READY' } }),
    ]);
    // A pass now (after the one that started with the process, which it may join) sends nothing more.
    await next.reconcileOnce();
    expect(await next.reconcileOnce()).toMatchObject({ published: 0 });
    await Promise.all([platform.subgraphs.notifications.consumer.settled(), notificationsB.consumer.settled()]);
    expect(await storedFor(hana.id)).toHaveLength(1);
    expect(watch.results).toHaveLength(1);
  });
});
