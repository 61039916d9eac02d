import { randomUUID } from 'node:crypto';
import { appError, conflict, ErrorCode, notFound, publishOutboxBatch, type DomainEvent, type OutboxTable } from '@shelfwise/kit';
import { Prisma, type Handoff, type ReservationEvent, type ReservationStatus } from '../generated/prisma/client.js';
import type { ReservationModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** Any statement runner: the client itself or an interactive transaction. */
type Tx = Prisma.TransactionClient;

/** Short write transactions; many patrons reserving at once may queue for a pooled connection. */
const TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 } as const;

/** A patron may have this many live holds (WAITING or READY) at once. */
export const MAX_LIVE_HOLDS = 10;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Where books says a copy is once it moved it (RoutedCopy). */
export interface MovedCopy {
  id: string;
  status: string;
}

/** What finishing a handoff did: the finished row, and a follow-up handoff when one is needed. */
export interface Finished {
  handoff: Handoff;
  /** A RELEASE started because the hold that got the copy had left the queue meanwhile. */
  next: Handoff | null;
}

export interface PlaceHold {
  userId: string;
  bookId: string;
  bookTitle: string | null;
  now: Date;
}

/** A unique index refused a row: through the query builder (P2002) or in raw SQL (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  return err.code === 'P2010' && JSON.stringify(err.meta ?? {}).includes('23505');
}

/**
 * The hold queue's writes: placing and ending holds, and the handoff saga rows that move a copy to a hold.
 * Every write that chooses a hold from a book's queue runs under that book's transaction-scoped advisory
 * lock, so two returns (or a return and an expiry, or two instances) never pick the same hold; a patron's
 * holds are counted and placed under that patron's lock. The unique indexes of the migration are the
 * last line (one live hold per patron and book, one unfinished handoff per hold).
 */
export class QueueRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Places a WAITING hold at the end of the book's queue. HOLD_NOT_ALLOWED at MAX_LIVE_HOLDS live holds,
   * CONFLICT when the patron already has a live hold on the book (also when two requests race: the
   * partial unique index refuses the second).
   */
  async placeHold(hold: PlaceHold): Promise<ReservationModel> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        await lock(tx, `user:${hold.userId}`);
        await refuseLiveHolds(tx, hold.userId, hold.bookId);
        return tx.reservation.create({
          data: { userId: hold.userId, bookId: hold.bookId, bookTitle: hold.bookTitle, createdAt: hold.now },
        });
      }, TX_OPTIONS);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyHeld(hold.bookId);
      throw err;
    }
  }

  /** The same checks as {@link placeHold}, without the lock: refuses early, before asking other services. */
  async checkCanPlace(userId: string, bookId: string): Promise<void> {
    await refuseLiveHolds(this.prisma, userId, bookId);
  }

  /** The patron's READY hold on the book, or null. */
  async readyHoldFor(userId: string, bookId: string): Promise<ReservationModel | null> {
    return this.prisma.reservation.findFirst({ where: { userId, bookId, status: 'READY' } });
  }

  /**
   * The READY hold's copy was lent on `loanId`: the hold becomes FULFILLED. Repeatable. A hold that expired
   * or was cancelled while its patron was borrowing the copy is fulfilled too (books lent the copy only
   * because it was still on the hold shelf for it). CONFLICT for a WAITING hold or another loan's.
   */
  async fulfill(reservationId: string, loanId: string, now: Date): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ bookId: string }[]>`
        SELECT "bookId"::text AS "bookId" FROM "Reservation" WHERE "id" = ${reservationId}::uuid`;
      if (!row) throw notFound(`There is no reservation with id ${reservationId}.`, { reservationId });
      await lock(tx, `book:${row.bookId}`);
      const hold = await tx.reservation.findUniqueOrThrow({ where: { id: reservationId } });
      if (hold.status === 'FULFILLED') {
        if (hold.loanId === loanId) return true;
        throw conflict(`Reservation ${reservationId} was already fulfilled by another loan.`, { reservationId });
      }
      if (hold.status === 'WAITING') {
        throw conflict(`Reservation ${reservationId} is still waiting; no copy was set aside for it to lend.`, { reservationId });
      }
      await tx.reservation.update({ where: { id: reservationId }, data: { status: 'FULFILLED', loanId, endedAt: hold.endedAt ?? now } });
      return true;
    }, TX_OPTIONS);
  }

  /**
   * Cancels a WAITING hold. CONFLICT while a copy is being handed to it (a handoff in flight: the hold is
   * READY a moment later and can be cancelled then). Returns the hold as it is afterwards.
   */
  async cancelWaiting(reservationId: string, now: Date): Promise<ReservationModel> {
    return this.prisma.$transaction(async (tx) => {
      const hold = await lockedHold(tx, reservationId);
      if (hold.status !== 'WAITING') return hold;
      const inFlight = await tx.handoff.findFirst({ where: { toReservation: reservationId, state: 'PENDING' } });
      if (inFlight) {
        throw conflict('A copy is being set aside for this hold right now. Try again in a moment to cancel it.', { reservationId });
      }
      return tx.reservation.update({ where: { id: reservationId }, data: { status: 'CANCELLED', endedAt: now } });
    }, TX_OPTIONS);
  }

  /**
   * A READY hold ends (CANCELLED by its patron or staff, or EXPIRED past `pickupBy`): its status changes and
   * a RELEASE handoff is recorded that passes its copy to the next WAITING hold (or the shelf when there is
   * none). EXPIRED only when `pickupBy` is before `now` (two scanners never expire a hold twice). Returns
   * null when the hold is not READY (any more).
   */
  async endReady(
    reservationId: string,
    status: 'CANCELLED' | 'EXPIRED',
    now: Date,
    pickupDays: number,
  ): Promise<{ hold: ReservationModel; handoff: Handoff } | null> {
    return this.prisma.$transaction(async (tx) => {
      const hold = await lockedHold(tx, reservationId);
      if (hold.status !== 'READY') return null;
      if (status === 'EXPIRED' && !(hold.pickupBy && hold.pickupBy < now)) return null;
      const ended = await tx.reservation.update({ where: { id: reservationId }, data: { status, endedAt: now } });
      if (status === 'EXPIRED') {
        await recordEvent(tx, {
          id: `RESERVATION_EXPIRED:${hold.id}`,
          type: 'RESERVATION_EXPIRED',
          hold,
          now,
          data: { bookTitle: hold.bookTitle, pickupBy: hold.pickupBy?.toISOString() ?? null },
        });
      }
      const handoff = await startRelease(tx, hold, now, pickupDays);
      return { hold: ended, handoff };
    }, TX_OPTIONS);
  }

  /**
   * Records (or finds) the handoff of a returned loan's copy, keyed by the loan id: the first WAITING hold
   * of the book that no other handoff is bringing a copy to, or none (the copy goes to the shelf).
   */
  async beginReturn(loanId: string, bookId: string, pickupDays: number, now: Date): Promise<Handoff> {
    return this.prisma.$transaction(async (tx) => {
      await lock(tx, `book:${bookId}`);
      const existing = await tx.handoff.findUnique({ where: { key: loanId } });
      if (existing) {
        if (existing.kind !== 'RETURN' || existing.bookId !== bookId) {
          throw appError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            `Loan ${loanId} was already routed for another book; a retry must repeat the same request.`,
            {
              loanId,
            },
          );
        }
        return existing;
      }
      const to = await firstWaiting(tx, bookId);
      return tx.handoff.create({
        data: { key: loanId, kind: 'RETURN', bookId, loanId, toReservation: to, pickupDays, createdAt: now },
      });
    }, TX_OPTIONS);
  }

  /**
   * Records an ALLOCATE handoff for the book's first WAITING hold (a free copy on the shelf goes to it), or
   * answers null when no hold waits or another ALLOCATE of the book is unfinished (it goes on after that one).
   */
  async beginAllocate(bookId: string, pickupDays: number, now: Date): Promise<Handoff | null> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        await lock(tx, `book:${bookId}`);
        const pending = await tx.handoff.findFirst({ where: { bookId, kind: 'ALLOCATE', state: 'PENDING' } });
        if (pending) return null;
        const to = await firstWaiting(tx, bookId);
        if (!to) return null;
        return tx.handoff.create({
          data: { key: `allocate:${randomUUID()}`, kind: 'ALLOCATE', bookId, toReservation: to, pickupDays, createdAt: now },
        });
      }, TX_OPTIONS);
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * Finishes a handoff once books has moved the copy (`copy`; null when it had none to move): the hold that
   * was to get it becomes READY with `pickupBy` = now + pickup days and a RESERVATION_READY event is
   * recorded, when the copy is on the hold shelf; otherwise the hold simply keeps waiting. If the hold left
   * the queue meanwhile, the copy now waits for nobody: a RELEASE of it is started and returned as `next`.
   * Finishing twice is harmless (the second finds the row DONE).
   */
  async finish(key: string, copy: MovedCopy | null, now: Date): Promise<Finished> {
    return this.prisma.$transaction(async (tx) => {
      const head = await tx.handoff.findUniqueOrThrow({ where: { key } });
      await lock(tx, `book:${head.bookId}`);
      const handoff = await tx.handoff.findUniqueOrThrow({ where: { key } });
      if (handoff.state !== 'PENDING') return { handoff, next: null };
      let next: Handoff | null = null;
      if (copy && copy.status === 'ON_HOLD_SHELF' && handoff.toReservation) {
        const hold = await tx.reservation.findUniqueOrThrow({ where: { id: handoff.toReservation } });
        if (hold.status === 'WAITING') {
          const pickupBy = new Date(now.getTime() + handoff.pickupDays * DAY_MS);
          const ready = await tx.reservation.update({
            where: { id: hold.id },
            data: { status: 'READY', copyId: copy.id, readyAt: now, pickupBy },
          });
          await recordEvent(tx, {
            id: `RESERVATION_READY:${hold.id}:${copy.id}`,
            type: 'RESERVATION_READY',
            hold: ready,
            now,
            data: { bookTitle: hold.bookTitle, pickupBy: pickupBy.toISOString() },
          });
        } else if (hold.status !== 'READY' || hold.copyId !== copy.id) {
          // Left the queue while its copy was on the way (should not happen: cancel waits for handoffs).
          await tx.reservation.update({ where: { id: hold.id }, data: { copyId: copy.id } });
          next = await startRelease(tx, { ...hold, copyId: copy.id }, now, handoff.pickupDays);
        }
      }
      const done = await tx.handoff.update({
        where: { key },
        data: { state: 'DONE', copyId: copy?.id ?? null, copyStatus: copy?.status ?? null },
      });
      return { handoff: done, next };
    }, TX_OPTIONS);
  }

  /**
   * Books refused the handoff for good (nothing was moved): the row is removed, so the hold it named is free
   * to be picked again and a repeated request starts afresh.
   */
  async abandon(key: string): Promise<void> {
    await this.prisma.handoff.deleteMany({ where: { key, state: 'PENDING' } });
  }

  /** Unfinished handoffs recorded at or before `before` (service clock), oldest first. */
  async pendingHandoffs(before: Date, limit: number): Promise<Handoff[]> {
    return this.prisma.handoff.findMany({
      where: { state: 'PENDING', createdAt: { lte: before } },
      orderBy: [{ createdAt: 'asc' }, { key: 'asc' }],
      take: limit,
    });
  }

  /** READY holds whose pickup time passed before `now`, oldest deadline first. */
  async overdueReady(now: Date, limit: number): Promise<ReservationModel[]> {
    return this.prisma.reservation.findMany({
      where: { status: 'READY', pickupBy: { lt: now } },
      orderBy: [{ pickupBy: 'asc' }, { id: 'asc' }],
      take: limit,
    });
  }

  /** The hold a handoff hands a copy to (its patron, for ALLOCATE). */
  async hold(id: string): Promise<ReservationModel | null> {
    return this.prisma.reservation.findUnique({ where: { id } });
  }

  /** Whether any hold of the book is WAITING. */
  async hasWaiting(bookId: string): Promise<boolean> {
    return (await this.prisma.reservation.count({ where: { bookId, status: 'WAITING' }, take: 1 })) > 0;
  }

  /**
   * Publishes up to `limit` unpublished events, oldest first, and marks them published, in one transaction
   * holding their row locks (kit publishOutboxBatch: `FOR UPDATE SKIP LOCKED`, so two instances never
   * publish the same row at once). When publishing fails the transaction rolls back and a later pass sends
   * them (consumers dedupe by id).
   */
  async publishPending(limit: number, publish: (event: DomainEvent) => Promise<void>, now: Date): Promise<number> {
    return publishOutboxBatch((work) => this.prisma.$transaction(work, TX_OPTIONS), RESERVATION_OUTBOX, limit, publish, now);
  }
}

/** The ReservationEvent rows as the relay sends them. */
const RESERVATION_OUTBOX: OutboxTable<ReservationEvent, DomainEvent> = {
  table: 'ReservationEvent',
  toEvent: (row) => ({
    id: row.id,
    type: row.type as DomainEvent['type'],
    userId: row.userId,
    occurredAt: row.occurredAt.toISOString(),
    source: 'reservations',
    bookId: row.bookId,
    reservationId: row.reservationId,
    data: row.data as DomainEvent['data'],
  }),
};

/** Takes the transaction-scoped advisory lock of `key` (released at commit or rollback). */
async function lock(tx: Tx, key: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 AS "locked" FROM pg_advisory_xact_lock(hashtextextended(${`reservations:${key}`}, 0))`;
}

/** Reads a hold under its book's lock; NOT_FOUND when there is none. */
async function lockedHold(tx: Tx, reservationId: string): Promise<ReservationModel> {
  const first = await tx.reservation.findUnique({ where: { id: reservationId } });
  if (!first) throw notFound(`There is no reservation with id ${reservationId}.`, { reservationId });
  await lock(tx, `book:${first.bookId}`);
  return tx.reservation.findUniqueOrThrow({ where: { id: reservationId } });
}

/**
 * The first WAITING hold of the book in line order (createdAt, id) that no unfinished handoff is already
 * bringing a copy to; null when none. Called under the book's lock.
 */
async function firstWaiting(tx: Tx, bookId: string): Promise<string | null> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT r."id"::text AS "id" FROM "Reservation" r
    WHERE r."bookId" = ${bookId}::uuid AND r."status" = 'WAITING'
      AND NOT EXISTS (SELECT 1 FROM "Handoff" h WHERE h."toReservation" = r."id" AND h."state" = 'PENDING')
    ORDER BY r."createdAt", r."id"
    LIMIT 1
    FOR UPDATE OF r`;
  return rows[0]?.id ?? null;
}

/** Records the RELEASE of an ended hold's copy to the next WAITING hold (key release:<id>); under the book's lock. */
async function startRelease(tx: Tx, hold: ReservationModel, now: Date, pickupDays: number): Promise<Handoff> {
  const key = `release:${hold.id}`;
  const existing = await tx.handoff.findUnique({ where: { key } });
  if (existing) return existing;
  const to = await firstWaiting(tx, hold.bookId);
  return tx.handoff.create({
    data: { key, kind: 'RELEASE', bookId: hold.bookId, fromReservation: hold.id, toReservation: to, pickupDays, createdAt: now },
  });
}

async function refuseLiveHolds(tx: Tx, userId: string, bookId: string): Promise<void> {
  const live = await tx.reservation.findMany({
    where: { userId, status: { in: ['WAITING', 'READY'] satisfies ReservationStatus[] } },
    select: { bookId: true },
  });
  if (live.some((r) => r.bookId === bookId)) throw alreadyHeld(bookId);
  if (live.length >= MAX_LIVE_HOLDS) {
    throw appError(
      ErrorCode.HOLD_NOT_ALLOWED,
      `You already have ${live.length} holds waiting or ready, and a patron may have ${MAX_LIVE_HOLDS} in all. Collect or cancel one first.`,
      { limit: MAX_LIVE_HOLDS },
    );
  }
}

function alreadyHeld(bookId: string) {
  return conflict('You already have a hold on this book; you cannot place another until it is collected, cancelled or expired.', {
    bookId,
  });
}

async function recordEvent(
  tx: Tx,
  event: {
    id: string;
    type: 'RESERVATION_READY' | 'RESERVATION_EXPIRED';
    hold: ReservationModel;
    now: Date;
    data: Record<string, string | null>;
  },
): Promise<void> {
  await tx.reservationEvent.createMany({
    data: [
      {
        id: event.id,
        type: event.type,
        userId: event.hold.userId,
        bookId: event.hold.bookId,
        reservationId: event.hold.id,
        occurredAt: event.now,
        data: Object.fromEntries(Object.entries(event.data).filter(([, v]) => v !== null)),
      },
    ],
    skipDuplicates: true,
  });
}
