import { appError, badInput, conflict, ErrorCode, notFound, type Clock, type Logger } from '@shelfwise/kit';
import type { AvailabilityEvents } from '../availability.js';
import { Prisma, type CopyAllocation } from '../generated/prisma/client.js';
import type { BookModel, CopyModel } from '../mappers.js';
import type { PrismaClient } from './client.js';
import { isUniqueViolation, requireUuid, TX_OPTIONS, type Tx } from './common.js';

/** What circulation asks for when it lends a copy (AllocateForLoanInput). */
export interface LoanAllocationRequest {
  loanId: string;
  userId: string;
  bookId?: string | null;
  barcode?: string | null;
  reservationId?: string | null;
}

/** The outcome of one keyed operation: what to answer, and which book's availability changed (if any). */
interface Outcome<T> {
  result: T;
  changedBookId: string | null;
}

/** How often an operation is retried after a unique index refused it (a racing twin got there first). */
const RACE_RETRIES = 3;

/**
 * Allocation of copies to loans and holds: the internal operations circulation calls with a service
 * credential. Every operation is keyed (loan id or reservation id) and idempotent, and safe under
 * concurrency on real PostgreSQL:
 *
 * - Requests with the same key are serialised by a transaction-scoped advisory lock on the key, so the
 *   second of two identical requests finds the first one's allocation row and answers the same copy.
 * - A free copy is taken with one conditional UPDATE whose candidate row is chosen `FOR UPDATE SKIP
 *   LOCKED`: two allocations never take the same copy, and none waits behind another for a copy it would
 *   not get anyway. Fifty requests for a book's last copy: one takes it, the others find nothing free.
 * - Operations on a known copy (cancel, check-in, release) lock that copy's row first.
 * - The unique indexes (allocation key, Copy.loanId, Copy.reservationId) are the last line: a violation
 *   rolls the transaction back and the operation is retried, seeing the winner's rows.
 *
 * The `CopyAllocation` row keyed by the loan or reservation id stays after the copy comes back
 * (`endedAt` set), as history and so a late retry of a finished operation is recognised.
 */
export class InventoryRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly availability: AvailabilityEvents,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Lends a copy for a loan, keyed by the loan id: any free copy of `bookId`, or exactly the copy with
   * `barcode`. With `reservationId` the copy waiting on the hold shelf for that reservation is taken
   * (by book: when there is one, else any free copy; by barcode: that copy may be on the hold shelf for
   * this reservation). BOOK_UNAVAILABLE says why nothing could be lent and what to do.
   */
  async allocateForLoan(request: LoanAllocationRequest): Promise<CopyModel> {
    const loanId = requireUuid(request.loanId, 'loan', 'loanId');
    const userId = requireUuid(request.userId, 'user', 'userId');
    const reservationId = request.reservationId ? requireUuid(request.reservationId, 'reservation', 'reservationId') : null;
    const barcode = request.barcode?.trim() || null;
    const bookId = request.bookId ? requireUuid(request.bookId, 'book', 'bookId') : null;
    if ((bookId === null) === (barcode === null))
      throw badInput('Give either "bookId" (any free copy) or "barcode" (that copy), not both.');

    return this.keyed(loanId, async (tx) => {
      const existing = await tx.copyAllocation.findUnique({ where: { key: loanId } });
      if (existing) return { result: await this.repeatedLoan(tx, existing, bookId, barcode), changedBookId: null };

      let copyId: string;
      let tookHoldOf: string | null = null;
      if (barcode !== null) {
        const copy = await lockCopy(tx, { barcode });
        if (!copy) throw notFound(`No copy has the barcode "${barcode}". Check the label and try again.`, { barcode });
        if (copy.status === 'ON_HOLD_SHELF' && reservationId !== null && copy.reservationId === reservationId) tookHoldOf = reservationId;
        else if (copy.status !== 'AVAILABLE') throw copyNotLendable(copy);
        copyId = copy.id;
        await tx.copy.update({ where: { id: copyId }, data: { status: 'ON_LOAN', loanId, reservationId: null } });
      } else {
        const book = await tx.book.findUnique({ where: { id: bookId! } });
        if (!book) throw notFound(`There is no book with id ${bookId}.`, { bookId });
        if (book.withdrawnAt) throw removedBook(book);
        const held = reservationId ? await lockCopy(tx, { reservationId }) : null;
        if (held && held.bookId === book.id && held.status === 'ON_HOLD_SHELF') {
          copyId = held.id;
          tookHoldOf = reservationId;
          await tx.copy.update({ where: { id: copyId }, data: { status: 'ON_LOAN', loanId, reservationId: null } });
        } else {
          const taken = await takeFreeCopy(tx, book.id, { status: 'ON_LOAN', loanId });
          if (!taken) throw await nothingFree(tx, book);
          copyId = taken;
        }
      }
      if (tookHoldOf !== null) {
        // The hold is fulfilled by this loan; cancelling the loan reopens it (see cancelLoanAllocation).
        await tx.copyAllocation.updateMany({
          where: { key: tookHoldOf, kind: 'HOLD', endedAt: null },
          data: { endedAt: this.clock.now() },
        });
      }
      const copy = await tx.copy.findUniqueOrThrow({ where: { id: copyId } });
      await tx.copyAllocation.create({
        data: { key: loanId, kind: 'LOAN', copyId, bookId: copy.bookId, userId, reservationId: tookHoldOf, createdAt: this.clock.now() },
      });
      return { result: copy, changedBookId: copy.bookId };
    });
  }

  /**
   * Compensation for a loan that could not be recorded: its copy goes back where it came from (the shelf,
   * or the hold shelf for the reservation it was taken from, whose hold is reopened). True when the loan
   * had an allocation (also when it was already cancelled or checked in); false for an unknown loan id.
   * A copy recorded lost meanwhile stays lost.
   */
  async cancelLoanAllocation(rawLoanId: string): Promise<boolean> {
    const loanId = requireUuid(rawLoanId, 'loan', 'loanId');
    return this.keyed(loanId, async (tx) => {
      const allocation = await tx.copyAllocation.findUnique({ where: { key: loanId } });
      if (!allocation || allocation.kind !== 'LOAN') return { result: false, changedBookId: null };
      if (allocation.endedAt) return { result: true, changedBookId: null };
      const copy = await lockCopy(tx, { id: allocation.copyId });
      let changed = false;
      if (copy?.status === 'ON_LOAN' && copy.loanId === loanId) {
        const hold = allocation.reservationId ? await tx.copyAllocation.findUnique({ where: { key: allocation.reservationId } }) : null;
        const backToHold = hold !== null && hold.kind === 'HOLD' && hold.copyId === copy.id;
        await tx.copy.update({
          where: { id: copy.id },
          data: backToHold
            ? { status: 'ON_HOLD_SHELF', loanId: null, reservationId: hold.key }
            : { status: 'AVAILABLE', loanId: null, reservationId: null },
        });
        if (backToHold) await tx.copyAllocation.update({ where: { key: hold.key }, data: { endedAt: null } });
        changed = true;
      }
      await tx.copyAllocation.update({ where: { key: loanId }, data: { endedAt: this.clock.now() } });
      return { result: true, changedBookId: changed ? allocation.bookId : null };
    });
  }

  /**
   * The copy of a loan comes back: onto the shelf, or onto the hold shelf for `handToReservationId`
   * (which gets a hold allocation keyed by its id). A copy recorded lost that turns up is found again the
   * same way; a withdrawn one stays withdrawn. Repeating it returns the same copy and changes nothing.
   */
  async checkInLoanCopy(rawLoanId: string, rawHandTo?: string | null): Promise<CopyModel> {
    const loanId = requireUuid(rawLoanId, 'loan', 'loanId');
    const handTo = rawHandTo ? requireUuid(rawHandTo, 'reservation', 'handToReservationId') : null;
    return this.keyed(loanId, async (tx) => {
      const allocation = await tx.copyAllocation.findUnique({ where: { key: loanId } });
      if (!allocation || allocation.kind !== 'LOAN') {
        throw notFound(`No copy was lent for loan ${loanId}; there is nothing to check in.`, { loanId });
      }
      if (allocation.endedAt) return { result: await tx.copy.findUniqueOrThrow({ where: { id: allocation.copyId } }), changedBookId: null };
      const copy = await lockCopy(tx, { id: allocation.copyId });
      let changed = false;
      if (copy && ((copy.status === 'ON_LOAN' && copy.loanId === loanId) || copy.status === 'LOST')) {
        await this.putBack(tx, copy, handTo);
        changed = true;
      } else if (copy?.status !== 'WITHDRAWN') {
        this.logger.warn({ loanId, copyId: allocation.copyId, status: copy?.status }, 'check-in of a copy that is not out on this loan');
      }
      await tx.copyAllocation.update({ where: { key: loanId }, data: { endedAt: this.clock.now() } });
      return {
        result: await tx.copy.findUniqueOrThrow({ where: { id: allocation.copyId } }),
        changedBookId: changed ? allocation.bookId : null,
      };
    });
  }

  /**
   * Puts a free copy of `bookId` on the hold shelf for a reservation, keyed by the reservation id; null
   * when no copy is free (the reservation keeps waiting). The same reservation id again answers the same
   * copy while it is held.
   */
  async allocateForHold(rawReservationId: string, rawBookId: string, rawUserId?: string | null): Promise<CopyModel | null> {
    const reservationId = requireUuid(rawReservationId, 'reservation', 'reservationId');
    const bookId = requireUuid(rawBookId, 'book', 'bookId');
    const userId = rawUserId ? requireUuid(rawUserId, 'user', 'userId') : null;
    return this.keyed(reservationId, async (tx) => {
      const existing = await tx.copyAllocation.findUnique({ where: { key: reservationId } });
      if (existing) {
        if (existing.kind !== 'HOLD') throw keyOfOtherKind(reservationId, 'a loan');
        if (existing.bookId !== bookId) throw keyReused(reservationId, 'another book');
        if (existing.endedAt) {
          throw conflict(`The hold of reservation ${reservationId} already ended (collected, expired or cancelled); it gets no new copy.`, {
            reservationId,
          });
        }
        return { result: await tx.copy.findUniqueOrThrow({ where: { id: existing.copyId } }), changedBookId: null };
      }
      const book = await tx.book.findUnique({ where: { id: bookId } });
      if (!book) throw notFound(`There is no book with id ${bookId}.`, { bookId });
      if (book.withdrawnAt) throw removedBook(book);
      const copyId = await takeFreeCopy(tx, bookId, { status: 'ON_HOLD_SHELF', reservationId });
      if (!copyId) return { result: null, changedBookId: null };
      await tx.copyAllocation.create({ data: { key: reservationId, kind: 'HOLD', copyId, bookId, userId, createdAt: this.clock.now() } });
      return { result: await tx.copy.findUniqueOrThrow({ where: { id: copyId } }), changedBookId: bookId };
    });
  }

  /**
   * A READY hold ended (expired or cancelled): its copy goes to `handToReservationId`'s hold when given,
   * otherwise back on the shelf. Null when the reservation held no copy; repeating it returns the same
   * copy and changes nothing.
   */
  async releaseHoldCopy(rawReservationId: string, rawHandTo?: string | null): Promise<CopyModel | null> {
    const reservationId = requireUuid(rawReservationId, 'reservation', 'reservationId');
    const handTo = rawHandTo ? requireUuid(rawHandTo, 'reservation', 'handToReservationId') : null;
    if (handTo === reservationId) throw badInput('A hold cannot hand its copy to itself; give the next reservation in line.');
    return this.keyed(reservationId, async (tx) => {
      const allocation = await tx.copyAllocation.findUnique({ where: { key: reservationId } });
      if (!allocation) return { result: null, changedBookId: null };
      if (allocation.kind !== 'HOLD') throw keyOfOtherKind(reservationId, 'a loan');
      if (allocation.endedAt) return { result: await tx.copy.findUniqueOrThrow({ where: { id: allocation.copyId } }), changedBookId: null };
      const copy = await lockCopy(tx, { id: allocation.copyId });
      let changed = false;
      if (copy?.status === 'ON_HOLD_SHELF' && copy.reservationId === reservationId) {
        await this.putBack(tx, copy, handTo);
        changed = true;
      }
      await tx.copyAllocation.update({ where: { key: reservationId }, data: { endedAt: this.clock.now() } });
      return {
        result: await tx.copy.findUniqueOrThrow({ where: { id: allocation.copyId } }),
        changedBookId: changed ? allocation.bookId : null,
      };
    });
  }

  /**
   * Writes the book's availability event with its current counts, though its copies did not change
   * (internal, reservations): something else the event's subscribers read changed, such as the hold
   * queue's length after a hold was placed or cancelled, and the relay's event is what tells them. The
   * event goes through the outbox like any other, after the changes committed before it. False when there
   * is no such book (nothing is written).
   */
  async announceAvailability(rawBookId: string): Promise<boolean> {
    const bookId = requireUuid(rawBookId, 'book', 'bookId');
    const recorded = await this.prisma.$transaction(async (tx) => {
      const book = await tx.book.findUnique({ where: { id: bookId }, select: { id: true } });
      if (!book) return false;
      await this.availability.record(tx, [bookId]);
      return true;
    }, TX_OPTIONS);
    if (recorded) await this.availability.afterCommit();
    return recorded;
  }

  /**
   * A copy coming back into circulation: onto the hold shelf for `handTo` (with a HOLD allocation keyed by
   * it), or onto the shelf. A reservation that already has (or had) a hold allocation cannot get a second
   * one; the copy then goes on the shelf and the anomaly is logged, because a returned copy must always
   * land somewhere.
   */
  private async putBack(tx: Tx, copy: LockedCopy, handTo: string | null): Promise<void> {
    if (handTo !== null) {
      const taken = await tx.copyAllocation.findUnique({ where: { key: handTo } });
      if (!taken) {
        await tx.copy.update({ where: { id: copy.id }, data: { status: 'ON_HOLD_SHELF', loanId: null, reservationId: handTo } });
        await tx.copyAllocation.create({
          data: { key: handTo, kind: 'HOLD', copyId: copy.id, bookId: copy.bookId, createdAt: this.clock.now() },
        });
        return;
      }
      this.logger.warn({ handTo, copyId: copy.id }, 'reservation already has a hold allocation; the copy goes back on the shelf');
    }
    await tx.copy.update({ where: { id: copy.id }, data: { status: 'AVAILABLE', loanId: null, reservationId: null } });
  }

  /** The answer to a loan allocation asked for again with the same loan id. */
  private async repeatedLoan(tx: Tx, existing: CopyAllocation, bookId: string | null, barcode: string | null): Promise<CopyModel> {
    if (existing.kind !== 'LOAN') throw keyOfOtherKind(existing.key, 'a reservation');
    const copy = await tx.copy.findUniqueOrThrow({ where: { id: existing.copyId } });
    if ((bookId !== null && existing.bookId !== bookId) || (barcode !== null && copy.barcode !== barcode)) {
      throw keyReused(existing.key, bookId !== null ? 'another book' : 'another copy');
    }
    if (existing.endedAt) {
      throw conflict(
        `Loan ${existing.key} is over: its copy ${copy.barcode} was checked in or the allocation was cancelled. A new loan needs a new id.`,
        { loanId: existing.key },
      );
    }
    return copy;
  }

  /**
   * Runs `work` in a transaction holding the advisory lock of `key`; when it changed a book's copies, the
   * book's availability event is written to the outbox in the same transaction and relayed after the
   * commit. Retried when a unique index refused a row: a concurrent request won a race the locks do not
   * cover, and the retry sees what it committed.
   */
  private async keyed<T>(key: string, work: (tx: Tx) => Promise<Outcome<T>>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.prisma.$transaction(async (tx) => {
          await tx.$queryRaw`SELECT 1 AS "locked" FROM pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
          const done = await work(tx);
          if (done.changedBookId) await this.availability.record(tx, [done.changedBookId]);
          return done;
        }, TX_OPTIONS);
        if (outcome.changedBookId) await this.availability.afterCommit();
        return outcome.result;
      } catch (err) {
        if (attempt < RACE_RETRIES && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }
}

/** The columns of a copy row read under its row lock. */
interface LockedCopy {
  id: string;
  bookId: string;
  barcode: string;
  status: CopyModel['status'];
  loanId: string | null;
  reservationId: string | null;
}

/** Reads and row-locks one copy (by id, barcode or the reservation it waits for); null when there is none. */
async function lockCopy(tx: Tx, by: { id: string } | { barcode: string } | { reservationId: string }): Promise<LockedCopy | null> {
  const rows = await tx.$queryRaw<LockedCopy[]>`
    SELECT "id"::text AS "id", "bookId"::text AS "bookId", "barcode", "status"::text AS "status",
           "loanId"::text AS "loanId", "reservationId"::text AS "reservationId"
    FROM "Copy"
    WHERE ${'id' in by ? sqlEq('id', by.id) : 'barcode' in by ? sqlEq('barcode', by.barcode) : sqlEq('reservationId', by.reservationId)}
    FOR UPDATE`;
  return rows[0] ?? null;
}

function sqlEq(column: 'id' | 'barcode' | 'reservationId', value: string): Prisma.Sql {
  switch (column) {
    case 'id':
      return Prisma.sql`"id" = ${value}::uuid`;
    case 'reservationId':
      return Prisma.sql`"reservationId" = ${value}::uuid`;
    case 'barcode':
      return Prisma.sql`"barcode" = ${value}`;
  }
}

/**
 * Takes the first free copy of a book (barcode order) in one conditional UPDATE: the candidate is chosen
 * `FOR UPDATE SKIP LOCKED`, so concurrent takers each get a different copy or none, never the same one.
 * Returns the copy id, or null when no copy is free.
 */
async function takeFreeCopy(
  tx: Tx,
  bookId: string,
  to: { status: 'ON_LOAN'; loanId: string } | { status: 'ON_HOLD_SHELF'; reservationId: string },
): Promise<string | null> {
  const set =
    to.status === 'ON_LOAN'
      ? Prisma.sql`"status" = 'ON_LOAN', "loanId" = ${to.loanId}::uuid, "reservationId" = NULL`
      : Prisma.sql`"status" = 'ON_HOLD_SHELF', "reservationId" = ${to.reservationId}::uuid, "loanId" = NULL`;
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Copy" SET ${set}, "updatedAt" = CURRENT_TIMESTAMP
    WHERE "id" = (
      SELECT "id" FROM "Copy"
      WHERE "bookId" = ${bookId}::uuid AND "status" = 'AVAILABLE'
      ORDER BY "barcode"
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    ) AND "status" = 'AVAILABLE'
    RETURNING "id"::text AS "id"`;
  return rows[0]?.id ?? null;
}

/** BOOK_UNAVAILABLE for a book with no free copy, saying where its copies are and that a hold can be placed. */
async function nothingFree(tx: Tx, book: BookModel) {
  const groups = await tx.copy.groupBy({ by: ['status'], where: { bookId: book.id }, _count: { _all: true } });
  const count = (status: CopyModel['status']) => groups.find((g) => g.status === status)?._count._all ?? 0;
  const onLoan = count('ON_LOAN');
  const onHoldShelf = count('ON_HOLD_SHELF');
  const inCirculation = onLoan + onHoldShelf + count('AVAILABLE');
  const extra = { bookId: book.id, onLoan, onHoldShelf };
  if (inCirculation === 0) {
    return appError(
      ErrorCode.BOOK_UNAVAILABLE,
      `The library has no copy of "${book.title}" in circulation. Place a hold to get the first copy that arrives.`,
      extra,
    );
  }
  const where = [
    onLoan > 0 ? `${onLoan} on loan` : '',
    onHoldShelf > 0 ? `${onHoldShelf} waiting on the hold shelf for other patrons' reservations` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return appError(
    ErrorCode.BOOK_UNAVAILABLE,
    `No copy of "${book.title}" is free right now (${where}). Place a hold to be next in line.`,
    extra,
  );
}

/** BOOK_UNAVAILABLE for a specific copy that cannot be lent, saying why. */
function copyNotLendable(copy: LockedCopy) {
  const reason: Record<string, string> = {
    ON_LOAN: `Copy ${copy.barcode} is already on loan. Check it in before lending it again.`,
    ON_HOLD_SHELF: `Copy ${copy.barcode} is waiting on the hold shelf for another patron's reservation. Lend a different copy, or the one on hold to its patron.`,
    LOST: `Copy ${copy.barcode} is recorded as lost. A lost copy that turns up is checked in for its loan before it can be lent.`,
    WITHDRAWN: `Copy ${copy.barcode} was withdrawn from circulation and cannot be lent.`,
  };
  return appError(ErrorCode.BOOK_UNAVAILABLE, reason[copy.status] ?? `Copy ${copy.barcode} cannot be lent.`, {
    bookId: copy.bookId,
    barcode: copy.barcode,
    status: copy.status,
  });
}

function removedBook(book: BookModel) {
  return appError(ErrorCode.BOOK_UNAVAILABLE, `"${book.title}" was removed from the catalogue; it can no longer be borrowed or reserved.`, {
    bookId: book.id,
  });
}

function keyOfOtherKind(key: string, owner: string) {
  return conflict(`The id ${key} is already used by ${owner}'s allocation; each loan and reservation has its own id.`, { key });
}

function keyReused(key: string, what: string) {
  return appError(
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    `The id ${key} was already used to allocate ${what === 'another book' ? 'a copy of another book' : 'another copy'}; a retry must repeat the same request.`,
    { key },
  );
}
