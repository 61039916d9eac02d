import { randomUUID } from 'node:crypto';
import {
  DOMAIN_EVENTS_STREAM,
  InMemoryBus,
  NOTIFICATION_CHANNEL,
  RedisBus,
  type DomainEvent,
  type EventBus,
  type NotificationCreatedEvent,
} from '@shelfwise/kit';
import {
  dropTestDatabase,
  freshDatabaseName,
  freshRedisPrefix,
  hasPostgres,
  hasRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { start, type NotificationsHandle } from '../src/server.js';
import { deliver, domainEvent, dueSoonSeries, nextTurn, processed } from './events.js';

const pgOk = await hasPostgres();
const redisOk = pgOk && (await hasRedis());
const describePg = pgOk ? describe : describe.skip;
const describePgRedis = redisOk ? describe : describe.skip;

/** Fifteen patrons' events: every kind, each patron's loan announced due soon three days running. */
function workload(): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let i = 0; i < 15; i += 1) {
    const userId = randomUUID();
    const loanId = randomUUID();
    events.push(
      ...dueSoonSeries(userId, loanId, new Date('2026-12-01T10:00:00.000Z'), 2, 0),
      domainEvent({ id: `OVERDUE:${loanId}`, type: 'OVERDUE', userId, loanId, data: { dueAt: '2026-12-01T10:00:00.000Z' } }),
      domainEvent({ type: 'RESERVATION_READY', userId, reservationId: randomUUID(), bookId: randomUUID() }),
      domainEvent({ type: 'RESERVATION_EXPIRED', userId, reservationId: randomUUID() }),
      domainEvent({ type: 'FINE_ASSESSED', userId, data: { amountCents: 25 * i, currency: 'USD' } }),
    );
  }
  return events;
}

/** What two consumers sharing one database must have stored for `events`: one row per patron and kind. */
async function expectStoredOnce(service: NotificationsHandle, events: DomainEvent[], live: NotificationCreatedEvent[]): Promise<void> {
  const users = [...new Set(events.map((e) => e.userId))];
  const rows = await service.database.prisma.notification.findMany({ where: { userId: { in: users } } });
  // Five kinds per patron, DUE_SOON once although its three events were each seen by both consumers.
  expect(rows).toHaveLength(users.length * 5);
  for (const userId of users) {
    expect(
      rows
        .filter((row) => row.userId === userId)
        .map((row) => row.kind)
        .sort(),
    ).toEqual(['DUE_SOON', 'FINE_ASSESSED', 'OVERDUE', 'RESERVATION_EXPIRED', 'RESERVATION_READY']);
  }
  const ids = [...new Set(events.map((e) => e.id))];
  expect(await service.database.prisma.processedEvent.count({ where: { id: { in: ids } } })).toBe(ids.length);
  // Announced live once per stored notification, by whichever consumer stored it.
  const announced = live.filter((m) => users.includes(m.userId)).map((m) => m.notificationId);
  expect(announced.sort()).toEqual(rows.map((row) => row.id).sort());
}

describePg('two notification consumers on one Postgres database (scale-out)', () => {
  const databaseName = freshDatabaseName('notifications_consumers');
  const bus = new InMemoryBus();
  const live: NotificationCreatedEvent[] = [];
  let a: NotificationsHandle;
  let b: NotificationsHandle;

  beforeAll(async () => {
    // Both on one bus, in one consumer group, as two replicas on one Redis: each stream entry goes to one
    // of them; every event is appended twice, so the copies of one event reach both at about the same time.
    [a, b] = await Promise.all([
      start({ databaseUrl: TEST_DATABASE_URL, databaseName, bus }),
      start({ databaseUrl: TEST_DATABASE_URL, databaseName, bus }),
    ]);
    await bus.subscribe(NOTIFICATION_CHANNEL, (message) => live.push(message as NotificationCreatedEvent));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await bus.dispose();
    await dropTestDatabase(databaseName);
  });

  it('stores each notification exactly once when both consumers receive the same events at once', async () => {
    const events = workload();
    await deliver(bus, [a, b], [...events, ...events]);
    await nextTurn();
    await expectStoredOnce(a, events, live);
  });

  it('stores nothing more when every event is redelivered to both, concurrently', async () => {
    const events = workload();
    await deliver(bus, [a, b], events);
    const stored = await a.database.prisma.notification.count();
    await deliver(bus, [a, b], [...events, ...events]);
    // Straight into both consumers at the same moment, event by event (a stream handing one to each).
    const outcomes = new Set<string>();
    for (const event of events) {
      for (const result of await Promise.all([a.consumer.consume(event), b.consumer.consume(event)])) outcomes.add(result.outcome);
    }
    expect(outcomes).toEqual(new Set(['DUPLICATE']));
    await nextTurn();
    expect(await a.database.prisma.notification.count()).toBe(stored);
    await expectStoredOnce(b, events, live);
  });
});

describePgRedis('two notification consumers, each with its own Redis connection (scale-out)', () => {
  const databaseName = freshDatabaseName('notifications_redis');
  const prefix = freshRedisPrefix('notifications');
  const buses: EventBus[] = [];
  const live: NotificationCreatedEvent[] = [];
  let a: NotificationsHandle;
  let b: NotificationsHandle;
  let emitter: EventBus;

  beforeAll(async () => {
    const busFor = () => {
      const bus = new RedisBus({ url: TEST_REDIS_URL, prefix });
      buses.push(bus);
      return bus;
    };
    [a, b] = await Promise.all([
      start({ databaseUrl: TEST_DATABASE_URL, databaseName, bus: busFor() }),
      start({ databaseUrl: TEST_DATABASE_URL, databaseName, bus: busFor() }),
    ]);
    emitter = busFor();
    await busFor().subscribe(NOTIFICATION_CHANNEL, (message) => live.push(message as NotificationCreatedEvent));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all(buses.map((bus) => bus.dispose()));
    await dropTestDatabase(databaseName);
  });

  it('stores each notification exactly once, with at-least-once redelivery on top', async () => {
    const events = workload();
    // Every event twice (a relay that sent a batch again after a failed commit): at-least-once.
    for (const event of [...events, ...events]) await emitter.append(DOMAIN_EVENTS_STREAM, event);
    await processed(
      a,
      events.map((e) => e.id),
    );
    await Promise.all([a.consumer.settled(), b.consumer.settled()]);
    // Live messages travel through Redis too: wait for as many as there are notifications.
    const expected = await a.database.prisma.notification.count({ where: { userId: { in: events.map((e) => e.userId) } } });
    const deadline = Date.now() + 10_000;
    while (live.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await expectStoredOnce(a, events, live);
    // One group, both instances in it, nothing left unacknowledged.
    const admin = new Redis(TEST_REDIS_URL);
    try {
      const key = `${prefix}:${DOMAIN_EVENTS_STREAM}`;
      const consumers = (await admin.xinfo('CONSUMERS', key, 'notifications')) as unknown[][];
      expect(consumers.map((c) => c[1]).sort()).toEqual([a.consumer.consumerName, b.consumer.consumerName].sort());
      expect(Number(((await admin.xpending(key, 'notifications')) as [number])[0])).toBe(0);
    } finally {
      await admin.quit();
    }
  });
});
