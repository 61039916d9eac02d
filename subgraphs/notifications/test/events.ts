import { randomUUID } from 'node:crypto';
import { DOMAIN_EVENTS_STREAM, type DomainEvent, type EventBus } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import type { NotificationsHandle } from '../src/server.js';

export const DAY_MS = 86_400_000;

/** A domain event as an emitter would publish it (defaults: a fresh UUID id, now, from "test"). */
export function domainEvent(fields: Partial<DomainEvent> & Pick<DomainEvent, 'type' | 'userId'>): DomainEvent {
  return { id: randomUUID(), occurredAt: new Date().toISOString(), source: 'test', ...fields };
}

/**
 * The DUE_SOON events loans' scanner emits for one loan as the due date approaches (events.ts): one per
 * whole day left, from `fromDays` down to `toDays`, id `DUE_SOON:<loanId>:<daysLeft>`.
 */
export function dueSoonSeries(
  userId: string,
  loanId: string,
  dueAt: Date,
  fromDays: number,
  toDays = 0,
  extra: Partial<DomainEvent> = {},
): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let daysLeft = fromDays; daysLeft >= toDays; daysLeft -= 1) {
    events.push(
      domainEvent({
        id: `DUE_SOON:${loanId}:${daysLeft}`,
        type: 'DUE_SOON',
        userId,
        loanId,
        occurredAt: new Date(dueAt.getTime() - daysLeft * DAY_MS).toISOString(),
        source: 'loans',
        data: { dueAt: dueAt.toISOString(), daysLeft },
        ...extra,
      }),
    );
  }
  return events;
}

/** A FINE_ASSESSED event as payments emits it: 3.00 USD for a loan 3 days late (id `FINE_ASSESSED:<fineId>`). */
export function fineAssessedEvent(userId: string, fineId = randomUUID()): DomainEvent {
  return domainEvent({
    id: `FINE_ASSESSED:${fineId}`,
    type: 'FINE_ASSESSED',
    userId,
    fineId,
    loanId: randomUUID(),
    bookId: randomUUID(),
    source: 'payments',
    data: { amountCents: 300, currency: 'USD', reason: 'OVERDUE', daysOverdue: 3 },
  });
}

/** The next turn of the event loop, when the in-process bus has handed out what was published before. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Appends `messages` to the domain events stream of an in-process bus and waits until each consumer
 * given has caught up with them.
 */
export async function deliver(bus: EventBus, services: NotificationsHandle | NotificationsHandle[], messages: unknown[]): Promise<void> {
  for (const message of messages) await bus.append(DOMAIN_EVENTS_STREAM, message);
  await nextTurn();
  for (const service of [services].flat()) await service.consumer.settled();
}

/** Waits until every event in `ids` has been recorded as processed (any transport, e.g. Redis). */
export async function processed(service: NotificationsHandle, ids: string[]): Promise<void> {
  const unique = [...new Set(ids)];
  await eventually(
    async () => (await service.database.prisma.processedEvent.count({ where: { id: { in: unique } } })) === unique.length,
    10_000,
    `${unique.length} events to be processed`,
  );
}
