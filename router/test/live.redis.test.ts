/**
 * `notificationReceived` across a Redis restart (needs Redis at TEST_REDIS_URL), on the whole platform
 * (PGlite databases, one RedisBus): Redis drops every connection of the deployment — the router's and
 * services' pub/sub connections, the publisher, the notifications and reservations consumers' stream
 * readers — while a patron's socket is subscribed. The socket stays open, ioredis reconnects and resubscribes, a fine
 * assessed during the outage still reaches the inbox (outbox and stream are durable), and one assessed
 * after the reconnect reaches the socket too.
 */
import { NOTIFICATION_CHANNEL, RedisBus, ServiceClock } from '@shelfwise/kit';
import type { PaymentsOptions } from '@shelfwise/payments';
import { eventually, freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { startPlatform, type Platform } from '../src/platform.js';
import type { Person } from './circulationKit.js';
import { frames, Live, received } from './liveKit.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

const START_TIMEOUT_MS = 240_000;

describeRedis('notificationReceived across a Redis restart', () => {
  const prefix = freshRedisPrefix('live');
  let bus: RedisBus;
  let admin: Redis;
  let platform: Platform;
  let live: Live;
  let librarian: Person;
  let pat: Person;

  /** Connections whose name starts with the bus prefix (CLIENT SETNAME by RedisBus): id and name. */
  const ours = async () =>
    ((await admin.client('LIST')) as string)
      .split('\n')
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
      .filter((c): c is { id: string; name: string } => c.id !== undefined && c.name.startsWith(`${prefix}:`));
  const routerListens = async () => ((await admin.pubsub('NUMSUB', `${prefix}:${NOTIFICATION_CHANNEL}`)) as [string, number])[1] === 1;

  /** The notification notifications stored for a fine (its FINE_ASSESSED event), once it has. */
  const notificationOf = async (fineId: string) => {
    let id: string | null = null;
    await eventually(
      async () => {
        const row = await platform.subgraphs.notifications.database.prisma.processedEvent.findUnique({
          where: { id: `FINE_ASSESSED:${fineId}` },
        });
        id = row?.notificationId ?? null;
        return id !== null;
      },
      15_000,
      `the notification of fine ${fineId}`,
    );
    return id!;
  };

  beforeAll(async () => {
    bus = new RedisBus({ url: TEST_REDIS_URL, prefix });
    admin = new Redis(TEST_REDIS_URL);
    // A fine whose relay fails while Redis is away is sent again by the relay's timer.
    const payments: PaymentsOptions = { relayIntervalMs: 200 };
    platform = await startPlatform({
      bus,
      clock: new ServiceClock(true),
      subgraphs: { payments },
      router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
    });
    live = new Live(platform);
    [librarian, pat] = await Promise.all([live.person('LIBRARIAN'), live.person()]);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await live?.closeSockets();
    await platform?.stop();
    await bus?.dispose();
    if (admin) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });

  it('keeps the socket open while Redis drops every connection, and pushes a notification created after the reconnect', async () => {
    const watch = await live.watchNotifications(pat);
    const stats = () => platform.router.subscriptionStats();
    await eventually(() => stats().subscribers === 1);
    await eventually(routerListens, 5000, 'the router to subscribe to new notifications on Redis');

    // Positive control: the whole path (outbox, stream, consumer, pub/sub, router) works over Redis.
    const beforeFine = await live.assessFine(librarian, pat, 100);
    await frames(watch, 1, 'the first fine’s notification');
    expect(received(watch).map((n) => n.id)).toEqual([await notificationOf(beforeFine)]);

    // As a Redis restart would: every connection of this deployment is dropped at once.
    const connections = await ours();
    const names = connections.map((c) => c.name.slice(prefix.length + 1)).sort();
    expect(names).toEqual(['pub', expect.stringMatching(/^stream:notifications-/), expect.stringMatching(/^stream:reservations-/), 'sub']);
    for (const { id } of connections) await admin.client('KILL', 'ID', id);

    // Assessed while the connections are down: committed with its event, which reaches the stream once
    // the publisher is back (or on the relay's next tick), and the inbox. Its live push may be lost
    // (pub/sub is at-most-once), which is why clients refetch the inbox after reconnecting.
    const duringOutage = await live.assessFine(librarian, pat, 200);

    // ioredis reconnects each connection and resubscribes the router's channel.
    await eventually(
      async () => {
        const back = (await ours()).map((c) => c.name.slice(prefix.length + 1));
        return back.includes('pub') && back.includes('sub') && back.some((n) => n.startsWith('stream:')) && (await routerListens());
      },
      15_000,
      'every connection to come back and the router to listen again',
    );
    const outageNotification = await notificationOf(duringOutage);

    const afterReconnect = await live.assessFine(librarian, pat, 300);
    const afterNotification = await notificationOf(afterReconnect);
    await eventually(
      () => received(watch).some((n) => n.id === afterNotification),
      15_000,
      'the fine assessed after the reconnect to reach the socket',
    );

    // The socket never closed, and got each notification at most once, all of them Pat's.
    const pushed = received(watch).map((n) => n.id);
    expect(new Set(pushed).size).toBe(pushed.length);
    expect([...pushed].sort()).toEqual(
      pushed.includes(outageNotification)
        ? [await notificationOf(beforeFine), outageNotification, afterNotification].sort()
        : [await notificationOf(beforeFine), afterNotification].sort(),
    );
    expect(received(watch).every((n) => n.kind === 'FINE_ASSESSED')).toBe(true);
    expect(live.sockets[0]!.closes).toEqual([]);
    expect(watch.error).toBeUndefined();
    expect(stats()).toMatchObject({ connections: 1, subscribers: 1, busSubscriptions: 1 });

    // Every fine notified exactly once: three in the inbox, stored once each.
    const inbox = await live.inbox(pat);
    expect(inbox.unreadNotificationCount).toBe(3);
    expect(inbox.notifications.edges.map((e) => e.node.id).sort()).toEqual(
      [await notificationOf(beforeFine), outageNotification, afterNotification].sort(),
    );
    expect(await platform.subgraphs.notifications.database.prisma.notification.count({ where: { userId: pat.id } })).toBe(3);
    expect(await platform.subgraphs.payments.fines.unpublishedEvents()).toBe(0);
  });
});
