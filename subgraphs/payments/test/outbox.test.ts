import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CALLER_HEADER, InMemoryBus, RedisBus, serviceCredential, ServiceClock, type EventBus } from '@shelfwise/kit';
import { Redis } from 'ioredis';
import { start as startNotifications, type NotificationsHandle } from '@shelfwise/notifications';
import { eventually, freshRedisPrefix, graphql, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { start, type PaymentsHandle, type PaymentsOptions } from '../src/server.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

const RECORD_OVERDUE = `mutation($input: RecordOverdueFineInput!) { recordOverdueFine(input: $input) { id amountCents } }`;

/** Loans reporting a late return: the fine and its FINE_ASSESSED event commit together. */
async function recordOverdueFine(payments: PaymentsHandle, userId: string): Promise<string> {
  const res = await graphql<{ recordOverdueFine: { id: string } }>(
    payments.url,
    RECORD_OVERDUE,
    { input: { loanId: randomUUID(), userId, bookId: randomUUID(), amountCents: 150, daysOverdue: 3 } },
    { [CALLER_HEADER]: serviceCredential('loans') },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.recordOverdueFine.id;
}

const money = { currency: 'EUR', maxFineCents: 100_000 };
const patrons = { exists: () => Promise.resolve(true) };

/** The notification stored for a fine, once notifications has processed its event. */
async function storedFor(notifications: NotificationsHandle, fineId: string, userId: string) {
  await eventually(
    async () => (await notifications.database.prisma.processedEvent.count({ where: { id: `FINE_ASSESSED:${fineId}` } })) === 1,
    10_000,
    'the FINE_ASSESSED event processed by notifications',
  );
  return notifications.database.prisma.notification.findMany({ where: { userId } });
}

/**
 * The outbox: a fine's FINE_ASSESSED event survives the payments process dying right after the fine's
 * commit, before anything was published. The next instance on the same database relays it, and
 * notifications (reading the durable stream) stores the patron's notification.
 */
function crashSuite(name: string, transport: () => { bus: () => EventBus; cleanup: () => Promise<void> }) {
  describe(`payments outbox: the event survives a crash after commit (${name})`, () => {
    let folder: string;
    let env: ReturnType<typeof transport>;
    const buses: EventBus[] = [];
    const running: { stop(): Promise<void> }[] = [];
    const busFor = () => {
      const bus = env.bus();
      buses.push(bus);
      return bus;
    };
    const startPayments = async (options: PaymentsOptions) => {
      const handle = await start({ dataDir: folder, clock: new ServiceClock(true), money, patrons, relayIntervalMs: 0, ...options });
      running.push(handle);
      return handle;
    };

    beforeEach(async () => {
      folder = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-payments-outbox-'));
      env = transport();
    });
    afterEach(async () => {
      for (const handle of running.splice(0).reverse()) await handle.stop().catch(() => undefined);
      await Promise.all([...new Set(buses.splice(0))].map((bus) => bus.dispose()));
      await env.cleanup();
      await rm(folder, { recursive: true, force: true });
    });

    it('is relayed by the next instance and notified once, although the first died before publishing it', async () => {
      const bus = busFor();
      const patron = randomUUID();
      // The first instance commits the fine and its event, then dies before its relay runs.
      const first = await startPayments({ bus, relayAfterCommit: false });
      const fineId = await recordOverdueFine(first, patron);
      expect(await first.fines.unpublishedEvents()).toBe(1);
      await first.stop();
      running.splice(running.indexOf(first), 1);

      // Nothing reached the stream: a notifications consumer started now finds nothing to store.
      const notifications = await startNotifications({ bus: busFor(), consumer: { claimIdleMs: 500 } });
      running.push(notifications);
      await notifications.consumer.settled();
      expect(await notifications.database.prisma.notification.count({ where: { userId: patron } })).toBe(0);

      // A new payments instance on the same database: its relay publishes what the first left behind.
      const second = await startPayments({ bus: busFor() });
      expect(await second.fines.unpublishedEvents()).toBe(0);
      const rows = await storedFor(notifications, fineId, patron);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kind: 'FINE_ASSESSED', userId: patron });
      expect(rows[0]!.message).toContain('€1.50');

      // A third instance relays nothing again, and the patron is not notified twice.
      const third = await startPayments({ bus: busFor() });
      expect(await third.fines.unpublishedEvents()).toBe(0);
      await notifications.consumer.settled();
      expect(await notifications.database.prisma.notification.count({ where: { userId: patron } })).toBe(1);
    });

    it('relays right after the commit, and a failed publish is retried by the relay’s timer without failing the command', async () => {
      const bus = busFor();
      let refusals = 1;
      const flaky: EventBus = Object.assign(Object.create(bus) as EventBus, {
        append: (stream: string, message: unknown) => {
          if (refusals > 0) {
            refusals -= 1;
            return Promise.reject(new Error('redis unreachable'));
          }
          return bus.append(stream, message);
        },
      });
      const notifications = await startNotifications({ bus, consumer: { claimIdleMs: 500 } });
      running.push(notifications);
      const payments = await startPayments({ bus: flaky, relayIntervalMs: 100 });
      const patron = randomUUID();
      const fineId = await recordOverdueFine(payments, patron);
      // The relay after the commit failed (the stream refused the entry); the fine is recorded all the
      // same, and its event waits in the outbox for the timer.
      expect(refusals).toBe(0);
      expect(await payments.database.prisma.fine.count({ where: { id: fineId } })).toBe(1);
      const rows = await storedFor(notifications, fineId, patron);
      expect(rows).toHaveLength(1);
      expect(await payments.fines.unpublishedEvents()).toBe(0);
      // The next fine goes out right after its commit.
      const next = await recordOverdueFine(payments, patron);
      expect(await payments.fines.unpublishedEvents()).toBe(0);
      expect(await storedFor(notifications, next, patron)).toHaveLength(2);
    });
  });
}

crashSuite('PGlite, in-process bus', () => {
  const bus = new InMemoryBus();
  return { bus: () => bus, cleanup: () => bus.dispose() };
});

describeRedis('payments outbox over Redis', () => {
  crashSuite('PGlite, Redis streams', () => {
    const prefix = freshRedisPrefix('outbox');
    return {
      bus: () => new RedisBus({ url: TEST_REDIS_URL, prefix }),
      cleanup: async () => {
        const admin = new Redis(TEST_REDIS_URL);
        const keys = await admin.keys(`${prefix}:*`);
        if (keys.length > 0) await admin.del(...keys);
        await admin.quit();
      },
    };
  });
});
