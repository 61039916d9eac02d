import {
  BOOK_AVAILABILITY_CHANNEL,
  BOOK_AVAILABILITY_STREAM,
  publishOutboxBatch,
  type BookAvailabilityEvent,
  type Clock,
  type EventBus,
  type OutboxTable,
} from '@shelfwise/kit';
import { COUNTED_STATUSES } from './data/BookRepository.js';
import type { PrismaClient } from './data/client.js';
import { TX_OPTIONS, type Tx } from './data/common.js';
import type { BookEvent } from './generated/prisma/client.js';

/** The type of every row of the books outbox (table BookEvent). */
export const BOOK_AVAILABILITY_CHANGED = 'BOOK_AVAILABILITY_CHANGED';

/**
 * What the commands that change a book's copies (lent, returned, put on or taken off the hold shelf,
 * added, withdrawn, lost, the book removed) do about availability: `record` inside their transaction,
 * `afterCommit` once it committed.
 */
export interface AvailabilityEvents {
  /**
   * Writes a BOOK_AVAILABILITY_CHANGED row for each book to the outbox, in the caller's transaction, with
   * the book's counts as this transaction will commit them. Call it last, after every change to the copies.
   */
  record(tx: Tx, bookIds: readonly string[]): Promise<void>;
  /** Relays what was recorded (the quick path; the relay's timer is the fallback). Never throws. */
  afterCommit(): Promise<void>;
}

/** The BookEvent columns as the relay reads them. */
const AVAILABILITY_OUTBOX: OutboxTable<BookEvent, BookAvailabilityEvent> = {
  table: 'BookEvent',
  // The id follows commit order for each book (rows are inserted under the book's availability lock).
  orderBy: ['id'],
  toEvent: (row) => ({
    bookId: row.bookId,
    availableCopies: row.availableCopies,
    totalCopies: row.totalCopies,
    at: row.occurredAt.toISOString(),
  }),
};

/**
 * Books' outbox (table BookEvent). A change records its book's counts in its own transaction, so an event
 * exists exactly when the change committed, even if the process dies the next instant; the relay
 * (`OutboxRelay` in server.ts) appends the rows to {@link BOOK_AVAILABILITY_STREAM}, where reservations
 * offers a free copy to its hold queue, and publishes them on {@link BOOK_AVAILABILITY_CHANNEL}, where the
 * router pushes them to `bookAvailabilityChanged` subscribers.
 */
export class AvailabilityOutbox {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  /** See {@link AvailabilityEvents.record}. */
  async record(tx: Tx, bookIds: readonly string[]): Promise<void> {
    const ids = [...new Set(bookIds)].sort();
    if (ids.length === 0) return;
    // Under READ COMMITTED two changes of one book committing together would each count without the
    // other's copy and both announce a stale figure. The lock (until commit, in id order so that two books
    // never deadlock) makes the second wait for the first to commit; its count, a later statement, then
    // sees both. Taken last, it is held only for the insert and the commit.
    for (const id of ids) {
      await tx.$queryRaw`SELECT 1 AS "locked" FROM pg_advisory_xact_lock(hashtextextended(${`books:availability:${id}`}, 0))`;
    }
    // The counts are those of `totalCopies` / `availableCopies` (BookRepository.countsLoader), read and
    // written in one statement.
    await tx.$executeRaw`
      INSERT INTO "BookEvent" ("type", "bookId", "availableCopies", "totalCopies", "occurredAt")
      SELECT ${BOOK_AVAILABILITY_CHANGED}, b."id",
             (COUNT(c."id") FILTER (WHERE c."status" = 'AVAILABLE'))::int,
             (COUNT(c."id") FILTER (WHERE c."status"::text = ANY(${[...COUNTED_STATUSES]}::text[])))::int,
             (${this.clock.now().toISOString()}::timestamptz AT TIME ZONE 'UTC')
      FROM unnest(${ids}::uuid[]) AS b("id")
      LEFT JOIN "Copy" c ON c."bookId" = b."id"
      GROUP BY b."id"
      ORDER BY b."id"`;
  }

  /**
   * One relay batch ({@link publishOutboxBatch}): up to `limit` unpublished rows, oldest first, sent and
   * marked published in one transaction holding their row locks, so two instances never send one row.
   */
  publishPending(limit: number, publish: (event: BookAvailabilityEvent) => Promise<void>): Promise<number> {
    return publishOutboxBatch((work) => this.prisma.$transaction(work, TX_OPTIONS), AVAILABILITY_OUTBOX, limit, publish, this.clock.now());
  }

  /** Events in the outbox not yet published (tests, inspection). */
  unpublishedEvents(): Promise<number> {
    return this.prisma.bookEvent.count({ where: { publishedAt: null } });
  }

  /** Deletes rows published before `before` (they served their purpose); returns how many. Unpublished rows stay. */
  prune(before: Date): Promise<number> {
    return this.prisma.$executeRaw`DELETE FROM "BookEvent" WHERE "publishedAt" < (${before.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
  }
}

/**
 * How the relay sends one availability event, with exactly the {@link BookAvailabilityEvent} shape the
 * router and reservations read: appended to the durable {@link BOOK_AVAILABILITY_STREAM} (reservations
 * consumes it with a consumer group, so an event sent while it is down or reconnecting still reaches it),
 * then published on {@link BOOK_AVAILABILITY_CHANNEL} (the router's live push). A failure of either throws
 * (naming the book), so the row stays unpublished and a later pass sends it again: the router's push is
 * then late rather than lost, and the stream may hold the event twice, which costs reservations one more
 * idempotent fill.
 */
export async function publishAvailability(bus: EventBus, event: BookAvailabilityEvent): Promise<void> {
  try {
    await bus.append(BOOK_AVAILABILITY_STREAM, event);
    await bus.publish(BOOK_AVAILABILITY_CHANNEL, event);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw Object.assign(
      new Error(`Could not publish the availability of book ${event.bookId} (${reason}); it stays in the outbox for the next relay pass.`, {
        cause: err,
      }),
      { bookId: event.bookId },
    );
  }
}
