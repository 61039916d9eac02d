/** Helpers of the scanner tests (scanner.test.ts, scanner.postgres.test.ts). */
import { randomUUID } from 'node:crypto';
import { DOMAIN_EVENTS_CHANNEL, isDomainEvent, type DomainEvent, type InMemoryBus, type ServiceClock } from '@shelfwise/kit';
import type { LoansHandle } from '../src/server.js';

export const DAY = 86_400;

/** Every domain event published on `bus` from now on. */
export function collect(bus: InMemoryBus): DomainEvent[] {
  const events: DomainEvent[] = [];
  void bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
    if (isDomainEvent(message)) events.push(message);
  });
  return events;
}

/** Active loans borrowed a day ago, due in each of `dueInDays` days (negative: overdue). */
export async function seedLoans(handle: LoansHandle, clock: ServiceClock, dueInDays: number[]) {
  const now = clock.now().getTime();
  return Promise.all(
    dueInDays.map((days) =>
      handle.loans.create({
        userId: randomUUID(),
        bookId: randomUUID(),
        copyId: randomUUID(),
        borrowedAt: new Date(now - DAY * 1000),
        dueAt: new Date(now + days * DAY * 1000),
      }),
    ),
  );
}
