import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  CALLER_HEADER,
  callerCredential,
  DOMAIN_EVENTS_STREAM,
  InMemoryBus,
  isNotificationCreatedEvent,
  NOTIFICATION_CHANNEL,
  ServiceClock,
  type DomainEvent,
  type NotificationCreatedEvent,
} from '@shelfwise/kit';
import { eventually, graphql } from '@shelfwise/testkit';
import { DEFAULT_PREFERENCES } from '../src/data/NotificationRepository.js';
import { formatAmount, planNotification } from '../src/messages.js';
import { start, type NotificationsHandle } from '../src/server.js';
import { deliver, domainEvent, dueSoonSeries, fineAssessedEvent, nextTurn } from './events.js';

/** A test clock that stands still until moved. */
class FrozenClock extends ServiceClock {
  private at = Date.parse('2026-11-29T10:00:00.000Z');

  constructor() {
    super(true);
  }

  override now(): Date {
    return new Date(this.at);
  }
}

const DUE_AT = '2026-12-01T10:00:00.000Z';
const PICKUP_BY = '2026-12-05T18:00:00.000Z';

describe('notifications consumer (PGlite, in-process bus)', () => {
  const bus = new InMemoryBus();
  const clock = new FrozenClock();
  let service: NotificationsHandle;
  /** Every live message, with whether its notification was already stored when it arrived. */
  const live: { message: NotificationCreatedEvent; storedWhenReceived: boolean }[] = [];
  let stopListening: () => Promise<void>;

  const rowsOf = (userId: string) =>
    service.database.prisma.notification.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const outcomeOf = async (eventId: string) =>
    (await service.database.prisma.processedEvent.findUnique({ where: { id: eventId } }))?.outcome;
  const liveFor = (userId: string) => live.filter((l) => l.message.userId === userId);

  beforeAll(async () => {
    service = await start({ bus, clock });
    stopListening = await bus.subscribe(NOTIFICATION_CHANNEL, async (message) => {
      if (!isNotificationCreatedEvent(message)) throw new Error(`not a NotificationCreatedEvent: ${JSON.stringify(message)}`);
      const entry = { message, storedWhenReceived: false };
      live.push(entry);
      entry.storedWhenReceived =
        (await service.database.prisma.notification.findUnique({ where: { id: message.notificationId } })) !== null;
    });
  });
  afterAll(async () => {
    await stopListening?.();
    await service?.stop();
    await bus.dispose();
  });

  describe('each kind of event', () => {
    const patron = randomUUID();
    const book = randomUUID();
    const loan = randomUUID();
    const reservation = randomUUID();
    const fine = randomUUID();
    const cases: {
      event: DomainEvent;
      message: string;
      refs: { bookId: string | null; loanId: string | null; reservationId: string | null };
    }[] = [
      {
        event: domainEvent({
          id: `DUE_SOON:${loan}:2`,
          type: 'DUE_SOON',
          userId: patron,
          bookId: book,
          loanId: loan,
          source: 'loans',
          data: { dueAt: DUE_AT, daysLeft: 2, bookTitle: 'Dune' },
        }),
        message: '“Dune” is due back in 2 days (1 Dec 2026). Return or renew it in time to avoid a fine.',
        refs: { bookId: book, loanId: loan, reservationId: null },
      },
      {
        event: domainEvent({
          id: `OVERDUE:${loan}`,
          type: 'OVERDUE',
          userId: patron,
          bookId: book,
          loanId: loan,
          source: 'loans',
          data: { dueAt: DUE_AT, bookTitle: 'Dune' },
        }),
        message: '“Dune” was due back on 1 Dec 2026 and is now overdue. Please return it as soon as you can; overdue fines may apply.',
        refs: { bookId: book, loanId: loan, reservationId: null },
      },
      {
        event: domainEvent({
          type: 'RESERVATION_READY',
          userId: patron,
          bookId: book,
          reservationId: reservation,
          source: 'reservations',
          data: { pickupBy: PICKUP_BY, bookTitle: 'Emma' },
        }),
        message: '“Emma” is ready for pickup at the library desk. Collect it by 5 Dec 2026.',
        refs: { bookId: book, loanId: null, reservationId: reservation },
      },
      {
        event: domainEvent({
          type: 'RESERVATION_EXPIRED',
          userId: patron,
          bookId: book,
          reservationId: reservation,
          source: 'reservations',
          data: { pickupBy: PICKUP_BY, title: 'Emma' },
        }),
        message: 'Your hold on “Emma” expired because it was not picked up by 5 Dec 2026.',
        refs: { bookId: book, loanId: null, reservationId: reservation },
      },
      {
        event: domainEvent({
          type: 'FINE_ASSESSED',
          userId: patron,
          loanId: loan,
          fineId: fine,
          source: 'payments',
          data: { amountCents: 150, currency: 'USD', reason: 'OVERDUE', bookTitle: 'Dune' },
        }),
        message: 'A fine of $1.50 was added to your account for an overdue loan (“Dune”).',
        refs: { bookId: null, loanId: loan, reservationId: null },
      },
    ];

    it('stores one inbox entry per event, with its message and references, and publishes it live once stored', async () => {
      for (const { event, message, refs } of cases) {
        await deliver(bus, service, [event]);
        expect(await outcomeOf(event.id)).toBe('STORED');
        const rows = (await rowsOf(patron)).filter((row) => row.kind === event.type);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ userId: patron, kind: event.type, message, ...refs, readAt: null, createdAt: clock.now() });
      }
      const rows = await rowsOf(patron);
      expect(rows).toHaveLength(cases.length);
      await eventually(
        () => liveFor(patron).filter((l) => l.storedWhenReceived).length === cases.length,
        5000,
        'a live message per notification',
      );
      const byId = (a: { notificationId: string }, b: { notificationId: string }) => a.notificationId.localeCompare(b.notificationId);
      expect(
        liveFor(patron)
          .map((l) => l.message)
          .sort(byId),
      ).toEqual(rows.map((row) => ({ userId: patron, notificationId: row.id, kind: row.kind, at: '2026-11-29T10:00:00.000Z' })).sort(byId));
    });

    it('shows them in the patron’s inbox through GraphQL, references included', async () => {
      const res = await graphql<{
        _entities: {
          unreadNotificationCount: number;
          notifications: { edges: { node: { kind: string; message: string; book: { id: string } | null } }[] };
        }[];
      }>(
        service.url,
        `
          query ($reps: [_Any!]!) {
            _entities(representations: $reps) {
              ... on User {
                unreadNotificationCount
                notifications {
                  edges {
                    node {
                      kind
                      message
                      book {
                        id
                      }
                    }
                  }
                }
              }
            }
          }
        `,
        { reps: [{ __typename: 'User', id: patron }] },
        { [CALLER_HEADER]: callerCredential({ userId: patron, role: 'PATRON' }) },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?._entities[0]?.unreadNotificationCount).toBe(cases.length);
      expect(res.data?._entities[0]?.notifications.edges.map((e) => e.node.message).sort()).toEqual(cases.map((c) => c.message).sort());
    });

    it('stores nothing more, and publishes nothing more, when the same events are delivered again', async () => {
      const before = await rowsOf(patron);
      const liveBefore = liveFor(patron).length;
      // Redelivered one after the other, and all at once (as two stream consumers or a retry would).
      await deliver(
        bus,
        service,
        cases.map((c) => c.event),
      );
      await Promise.all(cases.flatMap((c) => [bus.append(DOMAIN_EVENTS_STREAM, c.event), bus.append(DOMAIN_EVENTS_STREAM, c.event)]));
      const results = await Promise.all(cases.map((c) => service.consumer.consume(c.event)));
      expect(results.map((r) => r.outcome)).toEqual(cases.map(() => 'DUPLICATE'));
      await nextTurn();
      await service.consumer.settled();
      await nextTurn();
      expect(await rowsOf(patron)).toEqual(before);
      expect(liveFor(patron)).toHaveLength(liveBefore);
      for (const { event } of cases) expect(await outcomeOf(event.id)).toBe('STORED');
    });
  });

  describe('fines (FINE_ASSESSED domain events from payments)', () => {
    const fineEvent = fineAssessedEvent;

    it('notifies once per fine, also when the same fine is announced again', async () => {
      const patron = randomUUID();
      const event = fineEvent(patron);
      await deliver(bus, service, [event, event]);
      await deliver(bus, service, [event]);
      const rows = await rowsOf(patron);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        kind: 'FINE_ASSESSED',
        message: 'A fine of $3.00 was added to your account for an overdue loan (3 days late).',
        loanId: event.loanId,
        bookId: event.bookId,
      });
      expect(await outcomeOf(event.id)).toBe('STORED');
      await nextTurn();
      expect(liveFor(patron)).toHaveLength(1);
    });

    it('drops a malformed fine event', async () => {
      const patron = randomUUID();
      await deliver(bus, service, [
        { ...fineEvent(patron), userId: 'nobody' },
        { ...fineEvent(patron), fineId: 'fine-1' },
      ]);
      expect(await rowsOf(patron)).toEqual([]);
    });
  });

  describe('preferences', () => {
    it('stores nothing for a kind the patron switched off, and nothing later when that event comes again', async () => {
      const patron = randomUUID();
      await service.notifications.savePreferences(patron, {
        dueSoon: false,
        overdue: false,
        reservationReady: false,
        reservationExpired: false,
        fineAssessed: false,
      });
      const loan = randomUUID();
      const events = [
        domainEvent({ id: `DUE_SOON:${loan}:1`, type: 'DUE_SOON', userId: patron, loanId: loan, data: { dueAt: DUE_AT, daysLeft: 1 } }),
        domainEvent({ id: `OVERDUE:${loan}`, type: 'OVERDUE', userId: patron, loanId: loan, data: { dueAt: DUE_AT } }),
        domainEvent({ type: 'RESERVATION_READY', userId: patron, reservationId: randomUUID() }),
        domainEvent({ type: 'RESERVATION_EXPIRED', userId: patron, reservationId: randomUUID() }),
        domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: { amountCents: 100 } }),
      ];
      await deliver(bus, service, events);
      for (const event of events) expect(await outcomeOf(event.id)).toBe('NOT_WANTED');
      expect(await rowsOf(patron)).toEqual([]);
      // Switching a kind back on applies to events from then on, not to those already decided.
      await service.notifications.savePreferences(patron, { overdue: true, fineAssessed: true });
      expect((await service.consumer.consume(events[1]!)).outcome).toBe('DUPLICATE');
      const fine = domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: { amountCents: 100 } });
      await deliver(bus, service, [fine]);
      expect((await rowsOf(patron)).map((row) => row.kind)).toEqual(['FINE_ASSESSED']);
      await nextTurn();
      expect(liveFor(patron)).toHaveLength(1);
    });

    it.each([
      [undefined, 2],
      [1, 1],
      [2, 2],
      [5, 5],
      [7, 7],
    ])('keeps one DUE_SOON per loan, the first within a lead time of %p days (reminded at %p days left)', async (lead, expected) => {
      const patron = randomUUID();
      if (lead !== undefined) await service.notifications.savePreferences(patron, { dueSoonDaysBefore: lead });
      const loan = randomUUID();
      const series = dueSoonSeries(patron, loan, new Date(DUE_AT), 7, 0).map((e) => ({ ...e, data: { ...e.data, bookTitle: 'Dune' } }));
      // One a day, as loans' scanner sends them.
      for (const event of series) await deliver(bus, service, [event]);
      const rows = await rowsOf(patron);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kind: 'DUE_SOON', loanId: loan });
      expect(rows[0]!.message).toContain(expected === 1 ? 'due back within a day' : `due back in ${expected} days`);
      const outcomes = await Promise.all(series.map((event) => outcomeOf(event.id)));
      expect(outcomes).toEqual(
        series.map((_, i) => (7 - i > expected ? 'NOT_WANTED' : 7 - i === expected ? 'STORED' : 'ALREADY_NOTIFIED')),
      );
    });

    it('works out the days left from dueAt when the event does not say', async () => {
      const patron = randomUUID();
      const loan = randomUUID();
      const series = dueSoonSeries(patron, loan, new Date(DUE_AT), 4, 1);
      for (const event of series) delete event.data?.daysLeft;
      for (const event of series) await deliver(bus, service, [event]);
      const rows = await rowsOf(patron);
      expect(rows.map((row) => row.message)).toEqual([
        'A book you borrowed is due back in 2 days (1 Dec 2026). Return or renew it in time to avoid a fine.',
      ]);
    });

    it('reminds the patron of each loan separately', async () => {
      const patron = randomUUID();
      const loans = [randomUUID(), randomUUID(), randomUUID()];
      await deliver(
        bus,
        service,
        loans.flatMap((loan) => dueSoonSeries(patron, loan, new Date(DUE_AT), 2, 1)),
      );
      const rows = await rowsOf(patron);
      expect(rows.map((row) => row.loanId).sort()).toEqual([...loans].sort());
    });
  });

  describe('invalid messages', () => {
    const patron = randomUUID();
    const invalid: unknown[] = [
      null,
      'DUE_SOON',
      { id: 'x', type: 'DUE_SOON', userId: patron, occurredAt: new Date().toISOString() },
      domainEvent({ type: 'UNKNOWN' as DomainEvent['type'], userId: patron }),
      domainEvent({ type: 'FINE_ASSESSED', userId: 'not-a-uuid' }),
      domainEvent({ type: 'FINE_ASSESSED', userId: patron, id: '' }),
      domainEvent({ type: 'FINE_ASSESSED', userId: patron, id: 'x'.repeat(201) }),
      domainEvent({ type: 'FINE_ASSESSED', userId: patron, occurredAt: 'yesterday' }),
      domainEvent({ type: 'RESERVATION_READY', userId: patron, reservationId: 'r-1' }),
      domainEvent({ type: 'DUE_SOON', userId: patron, data: { daysLeft: 1 } }),
      domainEvent({ type: 'OVERDUE', userId: patron }),
      domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: [] as unknown as DomainEvent['data'] }),
      domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: { amountCents: { value: 1 } } as unknown as DomainEvent['data'] }),
    ];

    it('drops each without storing or publishing anything', async () => {
      for (const message of invalid) expect((await service.consumer.consume(message)).outcome).toBe('INVALID');
      // The same through the stream (each acknowledged and dropped), then a valid event: only that one is stored.
      for (const message of invalid) await bus.append(DOMAIN_EVENTS_STREAM, message);
      const valid = domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: { amountCents: 100 } });
      await deliver(bus, service, [valid]);
      expect(bus.pendingCount(DOMAIN_EVENTS_STREAM, 'notifications')).toBe(0);
      expect((await rowsOf(patron)).map((row) => row.kind)).toEqual(['FINE_ASSESSED']);
      expect(await service.database.prisma.processedEvent.count({ where: { userId: patron } })).toBe(1);
      await nextTurn();
      expect(liveFor(patron)).toHaveLength(1);
    });
  });

  describe('messages', () => {
    const base = { userId: randomUUID(), occurredAt: '2026-11-29T10:00:00.000Z', source: 'test' };
    const text = (event: Omit<DomainEvent, 'userId' | 'occurredAt' | 'source'>) => {
      const plan = planNotification({ ...base, ...event }, { ...DEFAULT_PREFERENCES, dueSoonDaysBefore: 7 });
      if (!plan.wanted) throw new Error('expected a notification');
      return plan.notification.message;
    };

    it('words the reminder by days left, and without a title or a date when the event has none', () => {
      const loanId = randomUUID();
      expect(text({ id: 'a', type: 'DUE_SOON', loanId, data: { daysLeft: 1, dueAt: DUE_AT, bookTitle: 'Dune' } })).toBe(
        '“Dune” is due back within a day (1 Dec 2026). Return or renew it in time to avoid a fine.',
      );
      expect(text({ id: 'b', type: 'DUE_SOON', loanId, data: { daysLeft: 0 } })).toBe(
        'A book you borrowed is due back today. Return or renew it in time to avoid a fine.',
      );
      expect(text({ id: 'c', type: 'DUE_SOON', loanId })).toBe(
        'A book you borrowed is due back soon. Return or renew it in time to avoid a fine.',
      );
      expect(text({ id: 'd', type: 'OVERDUE', loanId })).toBe(
        'A book you borrowed is now overdue. Please return it as soon as you can; overdue fines may apply.',
      );
      expect(text({ id: 'e', type: 'RESERVATION_READY' })).toBe('A book you reserved is ready for pickup at the library desk.');
      expect(text({ id: 'f', type: 'RESERVATION_EXPIRED' })).toBe('Your hold on a book expired because it was not picked up in time.');
    });

    it('formats fines in the currency given, or as a plain amount, and says why', () => {
      expect(text({ id: 'a', type: 'FINE_ASSESSED', data: { amountCents: 1250, currency: 'eur', reason: 'LOST' } })).toBe(
        'A fine of €12.50 was added to your account for a lost item.',
      );
      expect(text({ id: 'b', type: 'FINE_ASSESSED', data: { amountCents: 75, reason: 'DAMAGED' } })).toBe(
        'A fine of 0.75 was added to your account for a damaged item.',
      );
      expect(text({ id: 'c', type: 'FINE_ASSESSED', data: { reason: 'OTHER' } })).toBe('A fine was added to your account.');
      expect(
        text({
          id: 'd',
          type: 'FINE_ASSESSED',
          data: { amountCents: 20, currency: 'USD', reason: 'OVERDUE', daysOverdue: 1, title: 'Emma' },
        }),
      ).toBe('A fine of $0.20 was added to your account for an overdue loan (“Emma”, 1 day late).');
      expect(formatAmount(100_000, 'GBP')).toBe('£1,000.00');
      expect(formatAmount(-5, 'USD')).toBeNull();
      expect(formatAmount(1.5, 'USD')).toBeNull();
      expect(formatAmount(100, 'dollars')).toBe('1.00');
    });

    it('cuts a very long title and keeps the message within the inbox limit', () => {
      const message = text({ id: 'a', type: 'RESERVATION_READY', data: { bookTitle: `  ${'Long '.repeat(500)}  ` } });
      expect(message.length).toBeLessThan(1000);
      expect(message).toMatch(/^“Long Long .*…” is ready for pickup/);
    });
  });

  describe('database failures', () => {
    it('retries an event whose transaction failed, and stores it once', async () => {
      const patron = randomUUID();
      const event = domainEvent({ type: 'FINE_ASSESSED', userId: patron, data: { amountCents: 100 } });
      const spy = jest.spyOn(service.notifications, 'applyEvent').mockRejectedValueOnce(new Error('connection reset'));
      try {
        await deliver(bus, service, [event]);
        expect(spy).toHaveBeenCalledTimes(2);
      } finally {
        spy.mockRestore();
      }
      expect(await outcomeOf(event.id)).toBe('STORED');
      expect(await rowsOf(patron)).toHaveLength(1);
    });

    it('records nothing when the transaction fails after claiming the event, so the retry stores it', async () => {
      const patron = randomUUID();
      const event = domainEvent({ type: 'RESERVATION_READY', userId: patron, reservationId: randomUUID() });
      // A message the database refuses (a NUL byte in text) fails the notification insert, after the claim.
      const failing = await service.notifications
        .applyEvent({
          eventId: event.id,
          kind: 'RESERVATION_READY',
          userId: patron,
          notification: { userId: patron, kind: 'RESERVATION_READY', message: 'bad \u0000 text', onceKey: null },
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failing).toBeInstanceOf(Error);
      expect(await outcomeOf(event.id)).toBeUndefined();
      await deliver(bus, service, [event]);
      expect(await outcomeOf(event.id)).toBe('STORED');
      expect(await rowsOf(patron)).toHaveLength(1);
    });
  });

  describe('stop', () => {
    it('finishes the events being processed before the database closes, and leaves no consumer behind', async () => {
      const own = new InMemoryBus();
      const other = await start({ bus: own, clock });
      expect(own.activeConsumers).toBe(1);
      const announced: unknown[] = [];
      const unsubscribe = await own.subscribe(NOTIFICATION_CHANNEL, (message) => announced.push(message));
      const events = Array.from({ length: 5 }, () =>
        domainEvent({ type: 'FINE_ASSESSED', userId: randomUUID(), data: { amountCents: 100 } }),
      );
      for (const event of events) await own.append(DOMAIN_EVENTS_STREAM, event);
      await nextTurn();
      await nextTurn(); // read by the consumer, which is now waiting on the database
      await other.stop();
      // What was read was stored and announced before the database closed (announcing is the last step),
      // and acknowledged; what was not read yet stays in the stream for the group.
      await nextTurn();
      expect(announced.length).toBeGreaterThan(0);
      expect(own.pendingCount(DOMAIN_EVENTS_STREAM, 'notifications')).toBe(0);
      expect(own.activeConsumers).toBe(0);
      await unsubscribe();
      expect(own.activeChannels).toBe(0);
      await own.dispose();
    });

    it('leaves an event it could not store unacknowledged, and stores it when it is delivered again', async () => {
      const own = new InMemoryBus();
      const first = await start({ bus: own, clock, consumer: { attempts: 1, claimIdleMs: 200 } });
      const event = domainEvent({ type: 'FINE_ASSESSED', userId: randomUUID(), data: { amountCents: 100 } });
      const spy = jest.spyOn(first.notifications, 'applyEvent').mockRejectedValue(new Error('database down'));
      try {
        await own.append(DOMAIN_EVENTS_STREAM, event);
        await eventually(() => spy.mock.calls.length >= 1, 5000, 'the failed attempt');
        await first.consumer.settled();
        expect(own.pendingCount(DOMAIN_EVENTS_STREAM, 'notifications')).toBe(1);
      } finally {
        spy.mockRestore();
      }
      // The database is back: the idle entry is claimed again and stored, once.
      await eventually(
        async () => (await first.database.prisma.processedEvent.count({ where: { id: event.id } })) === 1,
        5000,
        'the redelivery stored',
      );
      await eventually(() => own.pendingCount(DOMAIN_EVENTS_STREAM, 'notifications') === 0, 5000, 'acknowledged');
      await first.stop();
      await own.dispose();
    });
  });
});
