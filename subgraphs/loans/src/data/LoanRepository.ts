import DataLoader from 'dataloader';
import { type Connection, decodeCursor, encodeCursor, isTimeIdKey, isUuid, type TimeIdKey, toConnection } from '@shelfwise/kit';
import { Prisma, type LoanStatus, type Role } from '../generated/prisma/client.js';
import type { LoanModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** What a list of loans may be narrowed by; every given condition must hold. */
export interface LoanListQuery {
  userId?: string | null;
  bookId?: string | null;
  status?: LoanStatus | null;
  /** true: active and past due at `now`; false: anything else. */
  overdue?: boolean | null;
  /** The time `overdue` is judged at: the service clock, never the wall clock. */
  now: Date;
  first: number;
  after?: string | null;
}

/** A loan recorded directly (seeding and tests): active, or returned when `returnedAt` is given. */
export interface NewLoan {
  userId: string;
  bookId: string;
  copyId: string;
  copyBarcode?: string | null;
  borrowedAt: Date;
  dueAt: Date;
  policyRole?: Role;
}

/** The intent of a borrow, recorded (PENDING) before books is asked for a copy. */
export interface BorrowIntent {
  id: string;
  userId: string;
  bookId: string;
  policyRole: Role;
  requestedBarcode: string | null;
  reservationId: string | null;
  now: Date;
  dueAt: Date;
}

/** A patron's open loans (PENDING or ACTIVE), as the borrow checks see them under the patron's lock. */
export type OpenLoan = Pick<LoanModel, 'id' | 'bookId' | 'dueAt' | 'status'>;

/** Arguments of `User.loans` that one batched query can serve for many users at once. */
export interface UserLoansKey {
  userId: string;
  status: LoanStatus | null;
  first: number;
  after: string | null;
}

/** Statuses the API shows: PENDING and CANCELLED rows are the borrow saga's bookkeeping, never loans. */
export const VISIBLE: LoanStatus[] = ['ACTIVE', 'RETURNED'];
/** Statuses that hold one of the patron's loan slots and their one open loan per book. */
const OPEN: LoanStatus[] = ['PENDING', 'ACTIVE'];
/** The most pairs `borrowings` answers in one call. */
export const MAX_BORROWING_PAIRS = 500;

/** Loans are listed newest first: (borrowedAt desc, id desc), so ties on the time still page stably. */
const CURSOR_KIND = 'loans';
const ORDER: Prisma.LoanOrderByWithRelationInput[] = [{ borrowedAt: 'desc' }, { id: 'desc' }];
/** A (borrowedAt, id) key whose id could exist: a forged id must not reach Postgres as a uuid. */
const isLoanKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);
const cursorOf = (l: LoanModel) => encodeCursor(CURSOR_KIND, [l.borrowedAt.toISOString(), l.id] satisfies TimeIdKey);

/** Short write transactions may wait for a pooled connection when many borrows arrive at once. */
const TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 } as const;

/** The unique (userId, openBookId) index refused a second open loan of one book for one patron. */
export class UniqueOpenLoanError extends Error {}

/** A unique index refused a row: through the query builder (P2002) or in raw SQL (SQLSTATE 23505). */
function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  return err.code === 'P2010' && JSON.stringify(err.meta ?? {}).includes('23505');
}

/**
 * The only code that touches the loans table. Loaders are per request (created in the context), so N
 * references to loans in one request cost one query. Every state change of a saga is one conditional
 * UPDATE (`WHERE status = <expected>`): whoever moves a loan first wins, and the loser sees null.
 */
export class LoanRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Batches loan lookups by id; ids that cannot exist (or saga rows) resolve to null without a query. */
  loanLoader(): DataLoader<string, LoanModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length > 0 ? await this.prisma.loan.findMany({ where: { id: { in: valid }, status: { in: VISIBLE } } }) : [];
      const byId = new Map(rows.map((l) => [l.id, l]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /**
   * `User.loans` for many users in one request (`_entities` with 100 users): users asking for a first
   * page with the same status and size share 2 statements (a windowed id query and a grouped count) plus
   * one to load the rows; a later page (`after`) is one user's own query.
   */
  userLoansLoader(now: Date): DataLoader<UserLoansKey, Connection<LoanModel>, string> {
    return new DataLoader(
      async (keys) => {
        const results = new Map<string, Connection<LoanModel>>();
        const firstPages = new Map<string, UserLoansKey[]>();
        for (const key of keys) {
          if (key.after === null && isUuid(key.userId)) {
            const group = `${key.status ?? ''}:${key.first}`;
            firstPages.set(group, [...(firstPages.get(group) ?? []), key]);
          }
        }
        await Promise.all(
          [...firstPages.values()].map(async (group) => {
            const { status, first } = group[0]!;
            const pages = await this.firstPages(
              group.map((k) => k.userId),
              status,
              first,
            );
            for (const key of group) results.set(userLoansCacheKey(key), pages.get(key.userId)!);
          }),
        );
        return Promise.all(
          keys.map(
            (key) =>
              results.get(userLoansCacheKey(key)) ??
              // A bad cursor fails only its own key, not the whole batch.
              this.page({ userId: key.userId, status: key.status, now, first: key.first, after: key.after }).catch((err: unknown) =>
                err instanceof Error ? err : new Error(String(err)),
              ),
          ),
        );
      },
      { cacheKeyFn: userLoansCacheKey },
    );
  }

  /** The first page of loans of each user, newest first, with each user's total. */
  private async firstPages(userIds: string[], status: LoanStatus | null, first: number): Promise<Map<string, Connection<LoanModel>>> {
    const statuses = status ? [status] : VISIBLE;
    const [ranked, counts] = await Promise.all([
      this.prisma.$queryRaw<{ id: string }[]>`
        SELECT "id" FROM (
          SELECT "id", row_number() OVER (PARTITION BY "userId" ORDER BY "borrowedAt" DESC, "id" DESC) AS "rank"
          FROM "Loan"
          WHERE "userId" = ANY(${userIds}::uuid[]) AND "status"::text = ANY(${statuses}::text[])
        ) AS "ranked"
        WHERE "rank" <= ${first + 1}`,
      this.prisma.loan.groupBy({ by: ['userId'], where: { userId: { in: userIds }, status: { in: statuses } }, _count: { _all: true } }),
    ]);
    const rows =
      ranked.length > 0 ? await this.prisma.loan.findMany({ where: { id: { in: ranked.map((r) => r.id) } }, orderBy: ORDER }) : [];
    const totals = new Map(counts.map((c) => [c.userId, c._count._all]));
    const byUser = new Map<string, LoanModel[]>(userIds.map((id) => [id, []]));
    for (const row of rows) byUser.get(row.userId)?.push(row);
    return new Map(userIds.map((id) => [id, toConnection(byUser.get(id) ?? [], first, totals.get(id) ?? 0, cursorOf)]));
  }

  /** One page of the loans matching `query`, newest first, with the total count of matches. */
  async page(query: LoanListQuery): Promise<Connection<LoanModel>> {
    const key = decodeCursor(CURSOR_KIND, query.after, isLoanKey);
    // An id that is not a UUID matches no loan; answering empty keeps Postgres from rejecting the query.
    if ((query.userId != null && !isUuid(query.userId)) || (query.bookId != null && !isUuid(query.bookId))) {
      return toConnection([], query.first, 0, () => '');
    }
    const where = listWhere(query);
    const pageWhere: Prisma.LoanWhereInput = key ? { AND: [where, afterKey(key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.loan.findMany({ where: pageWhere, orderBy: ORDER, take: query.first + 1 }),
      this.prisma.loan.count({ where }),
    ]);
    return toConnection(rows, query.first, totalCount, cursorOf);
  }

  /** A loan the API shows (ACTIVE or RETURNED), or null. */
  async find(id: string): Promise<LoanModel | null> {
    if (!isUuid(id)) return null;
    return this.prisma.loan.findFirst({ where: { id, status: { in: VISIBLE } } });
  }

  /** The active loan of the copy with this barcode, else the latest loan it was ever on (or null). */
  async findByBarcode(barcode: string): Promise<LoanModel | null> {
    const active = await this.prisma.loan.findFirst({ where: { copyBarcode: barcode, status: 'ACTIVE' } });
    return active ?? this.prisma.loan.findFirst({ where: { copyBarcode: barcode, status: 'RETURNED' }, orderBy: ORDER });
  }

  /**
   * For each (user, book) pair, in order: whether that user ever had a loan of that book. One statement
   * for the whole list; pairs with ids that cannot exist are false without reaching the database.
   */
  async borrowings(pairs: { userId: string; bookId: string }[]): Promise<boolean[]> {
    const valid = pairs.filter((p) => isUuid(p.userId) && isUuid(p.bookId));
    const rows =
      valid.length > 0
        ? await this.prisma.$queryRaw<{ userId: string; bookId: string }[]>`
          SELECT DISTINCT l."userId"::text AS "userId", l."bookId"::text AS "bookId"
          FROM "Loan" l
          JOIN unnest(${valid.map((p) => p.userId)}::uuid[], ${valid.map((p) => p.bookId)}::uuid[]) AS p("userId", "bookId")
            ON l."userId" = p."userId" AND l."bookId" = p."bookId"
          WHERE l."status" IN ('ACTIVE', 'RETURNED')`
        : [];
    const found = new Set(rows.map((r) => `${r.userId.toLowerCase()}:${r.bookId.toLowerCase()}`));
    return pairs.map((p) => found.has(`${p.userId.toLowerCase()}:${p.bookId.toLowerCase()}`));
  }

  /** The id of the user's open (PENDING or ACTIVE) loan of the book, or null. */
  async openLoanOf(userId: string, bookId: string): Promise<string | null> {
    if (!isUuid(userId) || !isUuid(bookId)) return null;
    const loan = await this.prisma.loan.findFirst({ where: { userId, openBookId: bookId }, select: { id: true } });
    return loan?.id ?? null;
  }

  /**
   * Records an active loan directly, with no saga (seeding and tests). Circulation itself goes through
   * {@link recordBorrowIntent} and {@link activate}.
   */
  async create(data: NewLoan): Promise<LoanModel> {
    return this.prisma.loan.create({
      data: {
        ...data,
        copyBarcode: data.copyBarcode ?? null,
        openBookId: data.bookId,
        status: 'ACTIVE',
      },
    });
  }

  /**
   * Step 1 of the borrow saga: under a per-patron lock (a transaction-scoped advisory lock, so concurrent
   * borrows by one patron run one at a time), reads the patron's open loans, lets `check` refuse, and
   * records the intent as a PENDING loan holding one of the patron's slots. A refusal (thrown by `check`)
   * rolls everything back. The unique (userId, openBookId) index backs the one-open-loan-per-book rule
   * even without the lock; its violation surfaces as {@link UniqueOpenLoanError}.
   */
  async recordBorrowIntent(intent: BorrowIntent, check: (open: OpenLoan[]) => void): Promise<LoanModel> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`loans:patron:${intent.userId}`}, 0))`;
        const open = await tx.loan.findMany({
          where: { userId: intent.userId, status: { in: OPEN } },
          select: { id: true, bookId: true, dueAt: true, status: true },
        });
        check(open);
        return tx.loan.create({
          data: {
            id: intent.id,
            userId: intent.userId,
            bookId: intent.bookId,
            openBookId: intent.bookId,
            policyRole: intent.policyRole,
            requestedBarcode: intent.requestedBarcode,
            reservationId: intent.reservationId,
            borrowedAt: intent.now,
            dueAt: intent.dueAt,
            status: 'PENDING',
            sagaAt: intent.now,
          },
        });
      }, TX_OPTIONS);
    } catch (err) {
      if (isUniqueViolation(err)) throw new UniqueOpenLoanError('open loan of this book exists');
      throw err;
    }
  }

  /** Step 3 of the borrow saga: the PENDING loan becomes ACTIVE with its copy. Null if it is no longer PENDING. */
  async activate(id: string, copy: { id: string; barcode: string }, borrowedAt: Date, dueAt: Date): Promise<LoanModel | null> {
    const { count } = await this.prisma.loan.updateMany({
      where: { id, status: 'PENDING' },
      data: { status: 'ACTIVE', copyId: copy.id, copyBarcode: copy.barcode, borrowedAt, dueAt, sagaAt: borrowedAt },
    });
    return count === 1 ? this.prisma.loan.findUnique({ where: { id } }) : null;
  }

  /** Any row of the saga, whatever its status (the saga's own bookkeeping reads it). */
  async sagaRow(id: string): Promise<LoanModel | null> {
    return this.prisma.loan.findUnique({ where: { id } });
  }

  /** A borrow books refused outright (nothing was allocated): its intent is removed as if never made. */
  async dropIntent(id: string): Promise<boolean> {
    const { count } = await this.prisma.loan.deleteMany({ where: { id, status: 'PENDING' } });
    return count === 1;
  }

  /** The borrow is given up (compensation decided): frees the patron's slot. False if it was not PENDING. */
  async markCancelled(id: string, now: Date): Promise<boolean> {
    const { count } = await this.prisma.loan.updateMany({
      where: { id, status: 'PENDING' },
      data: { status: 'CANCELLED', openBookId: null, sagaAt: now },
    });
    return count === 1;
  }

  /** Books confirmed a cancelled borrow's copy (if any) was let go. */
  async markCompensated(id: string, now: Date): Promise<void> {
    await this.prisma.loan.updateMany({ where: { id, status: 'CANCELLED', compensatedAt: null }, data: { compensatedAt: now } });
  }

  /**
   * Step 1 of the return saga: ACTIVE → RETURNED with the fine fixed now (a fine of 0 has nothing left
   * to settle). Null when the loan was not ACTIVE (someone returned it first).
   */
  async markReturned(id: string, returnedAt: Date, fineCents: number): Promise<LoanModel | null> {
    const { count } = await this.prisma.loan.updateMany({
      where: { id, status: 'ACTIVE' },
      data: {
        status: 'RETURNED',
        returnedAt,
        openBookId: null,
        fineCents,
        fineSettledAt: fineCents > 0 ? null : returnedAt,
        sagaAt: returnedAt,
      },
    });
    return count === 1 ? this.prisma.loan.findUnique({ where: { id } }) : null;
  }

  /** Reservations confirmed the hold this loan took its copy from is FULFILLED. */
  async markHoldFulfilled(id: string, now: Date): Promise<void> {
    await this.prisma.loan.updateMany({
      where: { id, reservationId: { not: null }, holdFulfilledAt: null },
      data: { holdFulfilledAt: now },
    });
  }

  /** Lent loans that took a hold's copy, whose hold reservations has not yet confirmed FULFILLED. */
  async unfulfilledHolds(before: Date, limit: number): Promise<LoanModel[]> {
    return this.prisma.loan.findMany({
      where: { status: { in: ['ACTIVE', 'RETURNED'] }, reservationId: { not: null }, holdFulfilledAt: null, borrowedAt: { lt: before } },
      orderBy: { borrowedAt: 'asc' },
      take: limit,
    });
  }

  /** Books confirmed the returned copy is checked in. */
  async markCheckedIn(id: string, now: Date): Promise<void> {
    await this.prisma.loan.updateMany({ where: { id, status: 'RETURNED', checkedInAt: null }, data: { checkedInAt: now } });
  }

  /** Payments recorded the loan's fine (or answered that there is none to record). */
  async markFineSettled(id: string, fineId: string | null, now: Date): Promise<void> {
    await this.prisma.loan.updateMany({ where: { id, status: 'RETURNED', fineSettledAt: null }, data: { fineSettledAt: now, fineId } });
  }

  /** Renews an ACTIVE loan that still has `renewalCount` renewals; null when another change got there first. */
  async renew(id: string, renewalCount: number, dueAt: Date): Promise<LoanModel | null> {
    const { count } = await this.prisma.loan.updateMany({
      where: { id, status: 'ACTIVE', renewalCount },
      data: { dueAt, renewalCount: renewalCount + 1 },
    });
    return count === 1 ? this.prisma.loan.findUnique({ where: { id } }) : null;
  }

  /** Borrow sagas still PENDING whose last step is older than `before`, oldest first. */
  async stalePending(before: Date, limit: number): Promise<LoanModel[]> {
    return this.prisma.loan.findMany({ where: { status: 'PENDING', sagaAt: { lt: before } }, orderBy: { sagaAt: 'asc' }, take: limit });
  }

  /** Cancelled borrows whose copy books has not yet confirmed letting go. */
  async uncompensated(before: Date, limit: number): Promise<LoanModel[]> {
    return this.prisma.loan.findMany({
      where: { status: 'CANCELLED', compensatedAt: null, sagaAt: { lt: before } },
      orderBy: { sagaAt: 'asc' },
      take: limit,
    });
  }

  /** Returns whose check-in at books or fine at payments has not been confirmed. */
  async unfinishedReturns(before: Date, limit: number): Promise<LoanModel[]> {
    return this.prisma.loan.findMany({
      where: { status: 'RETURNED', sagaAt: { lt: before }, OR: [{ checkedInAt: null }, { fineSettledAt: null }] },
      orderBy: { sagaAt: 'asc' },
      take: limit,
    });
  }
}

function userLoansCacheKey(key: UserLoansKey): string {
  return `${key.userId}|${key.status ?? ''}|${key.first}|${key.after ?? ''}`;
}

/** A loan is overdue while it is active and its due time has passed (the SQL form is in listWhere). */
export function isOverdue(loan: Pick<LoanModel, 'status' | 'dueAt'>, now: Date): boolean {
  return loan.status === 'ACTIVE' && loan.dueAt.getTime() < now.getTime();
}

function listWhere(query: LoanListQuery): Prisma.LoanWhereInput {
  const and: Prisma.LoanWhereInput[] = [{ status: { in: VISIBLE } }];
  if (query.userId != null) and.push({ userId: query.userId });
  if (query.bookId != null) and.push({ bookId: query.bookId });
  if (query.status != null) and.push({ status: query.status });
  if (query.overdue === true) and.push({ status: 'ACTIVE', dueAt: { lt: query.now } });
  if (query.overdue === false) and.push({ OR: [{ status: { not: 'ACTIVE' } }, { dueAt: { gte: query.now } }] });
  return { AND: and };
}

/** Loans strictly after the cursor in (borrowedAt desc, id desc) order. */
function afterKey([time, id]: TimeIdKey): Prisma.LoanWhereInput {
  const borrowedAt = new Date(time);
  return { OR: [{ borrowedAt: { lt: borrowedAt } }, { borrowedAt, id: { lt: id } }] };
}
