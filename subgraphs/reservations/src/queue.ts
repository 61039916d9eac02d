import { appError, ErrorCode, notFound, relayOutbox, type Clock, type EventBus, type Logger } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';
import type { ActiveLoans, BooksClient, CopyInfo } from './clients.js';
import type { QueueRepository } from './data/QueueRepository.js';
import type { Handoff } from './generated/prisma/client.js';
import type { ReservationModel } from './mappers.js';

/** Where a returned copy went (GraphQL RoutedCopy). */
export interface RoutedCopy {
  copyId: string;
  status: string;
  reservationId: string | null;
}

/** Test seam between the steps of a handoff; never set in production. */
export interface HandoffHooks {
  /** Runs after the intent row is committed, before books is asked to move the copy. */
  beforeBooks?(handoff: Handoff): Promise<void>;
  /** Runs after books moved the copy, before the hold becomes READY. */
  afterBooks?(handoff: Handoff, copy: CopyInfo | null): Promise<void>;
}

/** What one reconciler pass did. */
export interface ReconcileReport {
  /** Unfinished handoffs driven to their end. */
  finished: number;
  /** Unfinished handoffs that could not be finished this time (books down…). */
  failed: number;
  /** Events published (left unpublished by an earlier failure). */
  published: number;
}

/** What one expiry scan did. */
export interface ExpiryReport {
  expired: number;
}

export interface HoldQueueDeps {
  queue: QueueRepository;
  books: BooksClient;
  loans: ActiveLoans;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** Pickup days for copies handed on by this service (new copies, expiry, cancellation). */
  pickupDays: number;
  /** A handoff younger than this (service clock) is left to the request still running it. */
  staleMs: number;
  hooks?: HandoffHooks;
}

/** How many holds/handoffs one pass takes at a time. */
const BATCH = 100;
/** How many copies one fill hands out before yielding (a book does not get more copies than this at once). */
const MAX_FILL = 1000;

/** Domain refusals from books: nothing was moved, and asking again will not change that. */
const REFUSALS = new Set<string>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.BOOK_UNAVAILABLE,
  ErrorCode.IDEMPOTENCY_KEY_REUSED,
]);
const isRefusal = (err: unknown) => err instanceof GraphQLError && REFUSALS.has(String(err.extensions.code));

/**
 * The hold queue: who gets a copy when one comes back, is added, or is left behind by an ended hold.
 *
 * Every move of a copy to a hold is a keyed saga (a `Handoff` row): (1) the intent is recorded under the
 * book's lock, naming the first WAITING hold that no other handoff is serving; (2) books moves the copy,
 * keyed by the loan or reservation id, so repeating the call is harmless; (3) one transaction makes the
 * hold READY (with its RESERVATION_READY event in the outbox) and marks the handoff DONE. A crash between
 * the steps leaves a PENDING row that the reconciler drives to its end, so no copy stays on the hold shelf
 * without a READY hold and no hold is READY without its copy.
 */
export class HoldQueue {
  constructor(private readonly deps: HoldQueueDeps) {}

  /** Places a hold for `userId` on a book none of whose copies is free (see reserveBook in the SDL). */
  async reserve(userId: string, bookId: string): Promise<ReservationModel> {
    const { queue, books, loans, clock } = this.deps;
    // The cheap local refusals first, then the other services.
    await queue.checkCanPlace(userId, bookId);
    const book = await books.book(bookId);
    if (!book) throw notFound(`There is no book with id ${bookId} in the catalogue (it may have been removed).`, { bookId });
    if (book.availableCopies > 0) {
      throw appError(ErrorCode.HOLD_NOT_ALLOWED, `A copy of "${book.title}" is on the shelf — borrow it instead of placing a hold.`, {
        bookId,
        availableCopies: book.availableCopies,
      });
    }
    if (await loans.hasActiveLoan(userId, bookId)) {
      throw appError(ErrorCode.CONFLICT, `You already have "${book.title}" on loan; return it before placing a hold on it.`, { bookId });
    }
    const hold = await queue.placeHold({ userId, bookId, bookTitle: book.title, now: clock.now() });
    // A copy may have come back between the availability check and the insert (its availability event
    // found no hold waiting yet): offer the queue any free copy now. Failures are left to the next event.
    // The queue is one longer (or, when a copy was found, fill already announced the book).
    if ((await this.fillQuietly(bookId)) === 0) await this.announce(bookId);
    return (await queue.hold(hold.id)) ?? hold;
  }

  /**
   * Cancels a hold. WAITING: it leaves the queue. READY: it ends and its copy passes to the next WAITING
   * hold or back on the shelf (the hand-over finishes in the background if books does not answer now).
   */
  async cancel(hold: ReservationModel): Promise<ReservationModel> {
    const { queue, clock } = this.deps;
    if (hold.status === 'WAITING') {
      const after = await queue.cancelWaiting(hold.id, clock.now());
      if (after.status !== 'READY') {
        if (after.status === 'CANCELLED') await this.announce(after.bookId);
        return after;
      }
      hold = after;
    }
    if (hold.status === 'READY') {
      const ended = await queue.endReady(hold.id, 'CANCELLED', clock.now(), this.deps.pickupDays);
      if (!ended) return (await queue.hold(hold.id)) ?? hold;
      await this.runQuietly(ended.handoff);
      // The copy may have gone to the next WAITING hold: the queue is one shorter though books' counts are not.
      await this.announce(ended.hold.bookId);
      return ended.hold;
    }
    if (hold.status === 'CANCELLED') return hold;
    throw appError(ErrorCode.CONFLICT, `This hold is already ${hold.status.toLowerCase()}; there is nothing to cancel.`, {
      reservationId: hold.id,
      status: hold.status,
    });
  }

  /**
   * A loan's copy came back (called by loans): it goes to the first WAITING hold or the shelf. Keyed by the
   * loan id; a repeated call answers the same copy and hold.
   */
  async routeReturnedCopy(loanId: string, bookId: string, pickupDays: number): Promise<RoutedCopy> {
    const handoff = await this.deps.queue.beginReturn(loanId, bookId, pickupDays, this.deps.clock.now());
    const done = handoff.state === 'PENDING' ? await this.run(handoff) : handoff;
    if (!done.copyId || !done.copyStatus) {
      // Only a handoff that books refused has no copy, and a refused one is never DONE.
      throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'The books service did not confirm the return. Please try again in a moment.');
    }
    // A copy that went to a hold shortened the queue after books announced the check-in.
    if (handoff.state === 'PENDING' && done.copyStatus === 'ON_HOLD_SHELF') await this.announce(bookId);
    return {
      copyId: done.copyId,
      status: done.copyStatus,
      reservationId: done.copyStatus === 'ON_HOLD_SHELF' ? done.toReservation : null,
    };
  }

  /**
   * Offers the book's free copies to its queue, first WAITING hold first, while both remain (bus
   * BOOK_AVAILABILITY_CHANNEL, and after a hold is placed). Safe with two instances: one ALLOCATE per book
   * at a time. Returns how many holds became READY.
   */
  async fill(bookId: string): Promise<number> {
    let readied = 0;
    try {
      for (let i = 0; i < MAX_FILL; i += 1) {
        const handoff = await this.deps.queue.beginAllocate(bookId, this.deps.pickupDays, this.deps.clock.now());
        if (!handoff) break;
        const done = await this.run(handoff);
        if (done.copyStatus !== 'ON_HOLD_SHELF') break;
        readied += 1;
      }
    } finally {
      // Books announced each allocation before the hold became READY here, so its subscribers may have
      // read the longer queue: once more now that it is shorter (also when a later step failed).
      if (readied > 0) await this.announce(bookId);
    }
    return readied;
  }

  /**
   * A READY hold's copy was lent on `loanId` (called by loans): the hold becomes FULFILLED (see
   * QueueRepository.fulfill), and the book is announced (the event books sent for the loan came before).
   */
  async fulfill(reservationId: string, loanId: string): Promise<boolean> {
    const fulfilled = await this.deps.queue.fulfill(reservationId, loanId, this.deps.clock.now());
    const hold = await this.deps.queue.hold(reservationId);
    if (hold) await this.announce(hold.bookId);
    return fulfilled;
  }

  /**
   * Asks books to publish the book's availability with its current counts, so `bookAvailabilityChanged`
   * subscribers read the new `Book.holdQueueLength` (books announces changes to copies; the queue is ours).
   * Called after this service's transaction committed. Best effort: a failure is logged and never fails
   * the command that changed the queue (the book's next availability event carries the length too).
   */
  async announce(bookId: string): Promise<void> {
    try {
      await this.deps.books.announceAvailability(bookId);
    } catch (err) {
      this.deps.logger.warn(
        { err, bookId },
        'could not ask books to announce the hold queue change; subscribers see it with the next change',
      );
    }
  }

  /** {@link fill}, its failure logged (the next availability event, or a redelivery, tries again). */
  private async fillQuietly(bookId: string): Promise<number> {
    return this.fill(bookId).catch((err: unknown) => {
      this.deps.logger.warn({ err, bookId }, 'filling the queue after a hold failed');
      return 0;
    });
  }

  /**
   * Expires READY holds past their pickup time (RESERVATION_EXPIRED) and passes each copy on to the next
   * WAITING hold or the shelf. Two scanners never expire one hold twice.
   */
  async expireOnce(): Promise<ExpiryReport> {
    let expired = 0;
    const books = new Set<string>();
    for (;;) {
      const now = this.deps.clock.now();
      const due = await this.deps.queue.overdueReady(now, BATCH);
      for (const hold of due) {
        const ended = await this.deps.queue.endReady(hold.id, 'EXPIRED', now, this.deps.pickupDays);
        if (!ended) continue;
        expired += 1;
        books.add(ended.hold.bookId);
        await this.runQuietly(ended.handoff);
      }
      if (due.length < BATCH) break;
    }
    // An expired hold's copy may have gone to the next WAITING hold: the queue is shorter. Once per book.
    for (const bookId of books) await this.announce(bookId);
    await this.publish();
    if (expired > 0) this.deps.logger.info({ expired }, 'hold expiry scan');
    return { expired };
  }

  /**
   * Finishes handoffs a crash (or an unreachable books) left PENDING for longer than the stale threshold,
   * then publishes any event left unpublished. Books' operations are keyed, so asking again is safe.
   */
  async reconcile(): Promise<ReconcileReport> {
    const before = new Date(this.deps.clock.now().getTime() - this.deps.staleMs);
    const pending = await this.deps.queue.pendingHandoffs(before, BATCH);
    let finished = 0;
    let failed = 0;
    const books = new Set<string>();
    for (const handoff of pending) {
      try {
        await this.run(handoff);
        finished += 1;
        books.add(handoff.bookId);
      } catch (err) {
        failed += 1;
        this.deps.logger.warn({ err, key: handoff.key }, 'reconciler could not finish a handoff; it tries again next pass');
      }
    }
    // A finished (or abandoned) ALLOCATE may leave free copies for the holds behind it.
    // Each finished one may also have made a hold READY after books announced the copy's move.
    for (const bookId of books) {
      await this.fill(bookId).catch(() => undefined);
      await this.announce(bookId);
    }
    const published = await this.publish();
    if (pending.length > 0) this.deps.logger.info({ finished, failed, published }, 'handoff reconciler');
    return { finished, failed, published };
  }

  /** Relays the outbox (events of committed hold changes) to the domain events stream and channel. Returns how many went out. */
  async publish(): Promise<number> {
    return relayOutbox({
      bus: this.deps.bus,
      limit: BATCH,
      batch: (limit, publish) => this.deps.queue.publishPending(limit, publish, this.deps.clock.now()),
      logger: this.deps.logger,
    });
  }

  /** Steps 2 and 3 of a handoff (and of any follow-up it starts); returns the finished row. */
  private async run(handoff: Handoff): Promise<Handoff> {
    await this.deps.hooks?.beforeBooks?.(handoff);
    let copy: CopyInfo | null;
    try {
      copy = await this.moveCopy(handoff);
    } catch (err) {
      if (isRefusal(err)) {
        this.deps.logger.warn({ err, key: handoff.key }, 'books refused a handoff; nothing was moved');
        await this.deps.queue.abandon(handoff.key);
      }
      throw err;
    }
    await this.deps.hooks?.afterBooks?.(handoff, copy);
    const { handoff: done, next } = await this.deps.queue.finish(handoff.key, copy, this.deps.clock.now());
    if (next) await this.runQuietly(next);
    await this.publish().catch((err: unknown) => this.deps.logger.warn({ err }, 'publishing hold events failed; the reconciler retries'));
    return done;
  }

  /** Runs a handoff whose failure is not the caller's problem: the reconciler finishes it later. */
  private async runQuietly(handoff: Handoff): Promise<void> {
    await this.run(handoff).catch((err: unknown) => {
      this.deps.logger.warn({ err, key: handoff.key }, 'handoff left for the reconciler');
    });
  }

  private async moveCopy(handoff: Handoff): Promise<CopyInfo | null> {
    const { books } = this.deps;
    switch (handoff.kind) {
      case 'RETURN':
        return books.checkInLoanCopy(handoff.loanId!, handoff.toReservation);
      case 'RELEASE':
        return books.releaseHoldCopy(handoff.fromReservation!, handoff.toReservation);
      case 'ALLOCATE': {
        const hold = await this.deps.queue.hold(handoff.toReservation!);
        return books.allocateCopyForHold(handoff.toReservation!, handoff.bookId, hold?.userId ?? null);
      }
    }
  }
}
