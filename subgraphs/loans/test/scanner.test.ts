/** The due-date scanner on its own interval, driven by the test clock (PGlite). */
import { InMemoryBus, ServiceClock } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import { start, type LoansHandle } from '../src/server.js';
import { collect, DAY, seedLoans } from './scannerKit.js';

describe('the due-date scanner on its interval (PGlite)', () => {
  const clock = new ServiceClock(true);
  const bus = new InMemoryBus();
  const events = collect(bus);
  let handle: LoansHandle;

  beforeAll(async () => {
    handle = await start({ clock, bus, circulation: { scanIntervalMs: 250, reconcileIntervalMs: 0 } });
    // The start-up reconciler pass loads Prisma's query engine; under jest the engine must load from the
    // test's own call chain, not from a timer, so let that pass finish before the first tick.
    await handle.reconciler.runNow();
  });
  afterAll(async () => {
    await handle?.stop();
    await bus.dispose();
  });

  it('announces a loan due soon, then overdue once, as the test clock moves', async () => {
    const [loan] = await seedLoans(handle, clock, [10]);
    await new Promise((r) => setTimeout(r, 600));
    expect(events).toEqual([]);

    clock.advance(4 * DAY); // 6 days left: within the 7-day window
    await eventually(() => events.length === 1, 5000, 'DUE_SOON');
    const dueSoonId = `DUE_SOON:${loan!.id}:${dueStamp(loan!.dueAt)}:6`;
    expect(events[0]).toMatchObject({
      id: dueSoonId,
      type: 'DUE_SOON',
      userId: loan!.userId,
      loanId: loan!.id,
      bookId: loan!.bookId,
      source: 'loans',
      data: { dueAt: loan!.dueAt.toISOString(), daysLeft: 6 },
    });

    clock.advance(6 * DAY + 60); // a minute past due
    await eventually(() => events.some((e) => e.type === 'OVERDUE'), 5000, 'OVERDUE');
    await new Promise((r) => setTimeout(r, 800)); // several more ticks
    expect(events.map((e) => e.id)).toEqual([dueSoonId, `OVERDUE:${loan!.id}`]);
    expect(events[1]?.occurredAt).toBe(new Date(events[1]!.occurredAt).toISOString());
  });
});

/** The due date as the scanner writes it into DUE_SOON ids (UTC, YYYYMMDDTHHMMSS). */
function dueStamp(dueAt: Date): string {
  return dueAt.toISOString().slice(0, 19).replace(/[-:]/g, '');
}
