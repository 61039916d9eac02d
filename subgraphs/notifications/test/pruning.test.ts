import { randomUUID } from 'node:crypto';
import { InMemoryBus } from '@shelfwise/kit';
import { FrozenClock } from '@shelfwise/testkit';
import { start, type NotificationsHandle } from '../src/server.js';
import { DAY_MS, deliver, fineAssessedEvent as fineEvent } from './events.js';

const HOUR_MS = 3_600_000;

describe('processed-event pruning (PGlite)', () => {
  const bus = new InMemoryBus();
  const clock = new FrozenClock();
  const move = (ms: number) => clock.advance(ms / 1000);
  let service: NotificationsHandle;

  const recorded = async (ids: string[]) =>
    (await service.database.prisma.processedEvent.findMany({ where: { id: { in: ids } }, select: { id: true } }))
      .map((row) => row.id)
      .sort();

  beforeAll(async () => {
    service = await start({ bus, clock, processedRetentionMs: DAY_MS });
  });
  afterAll(async () => {
    await service?.stop();
    await bus.dispose();
  });

  it('forgets events processed longer ago than the retention, keeps the newer ones and every notification', async () => {
    const patron = randomUUID();
    const old = fineEvent(patron);
    await deliver(bus, service, [old]);
    move(12 * HOUR_MS);
    const recent = fineEvent(patron);
    await deliver(bus, service, [recent]);
    move(13 * HOUR_MS); // old: 25 h, recent: 13 h

    expect(await service.pruning.runNow()).toBe(1);
    expect(await recorded([old.id, recent.id])).toEqual([recent.id]);
    // The inbox is untouched: both notifications are still there.
    expect(await service.database.prisma.notification.count({ where: { userId: patron } })).toBe(2);
    // Within the retention, a redelivery is still recognised.
    expect((await service.consumer.consume(recent)).outcome).toBe('DUPLICATE');
    expect(await service.database.prisma.notification.count({ where: { userId: patron } })).toBe(2);
    // Nothing left to prune until the clock moves on.
    expect(await service.pruning.runNow()).toBe(0);
  });

  it('deletes a backlog in batches until none is older than the cut-off', async () => {
    const patron = randomUUID();
    const events = Array.from({ length: 7 }, () => fineEvent(patron));
    await deliver(bus, service, events);
    const later = fineEvent(patron);
    move(HOUR_MS);
    await deliver(bus, service, [later]);
    const cutOff = new Date(clock.now().getTime() - HOUR_MS / 2);
    const older = () => service.database.prisma.processedEvent.count({ where: { processedAt: { lt: cutOff } } });
    const backlog = await older(); // these seven, and what the test before left within the day
    expect(backlog).toBeGreaterThanOrEqual(7);

    expect(await service.notifications.pruneProcessedEvents(cutOff, 3)).toBe(backlog);
    expect(await older()).toBe(0);
    expect(await recorded([...events.map((e) => e.id), later.id])).toEqual([later.id]);
  });

  it('keeps every record when the retention is 0', async () => {
    const keeping = new InMemoryBus();
    const keeper = await start({ bus: keeping, clock, processedRetentionMs: 0 });
    try {
      const event = fineEvent(randomUUID());
      await deliver(keeping, keeper, [event]);
      move(400 * DAY_MS);
      expect(await keeper.pruning.runNow()).toBe(0);
      expect(await keeper.database.prisma.processedEvent.count({ where: { id: event.id } })).toBe(1);
    } finally {
      await keeper.stop();
      await keeping.dispose();
    }
  });
});
