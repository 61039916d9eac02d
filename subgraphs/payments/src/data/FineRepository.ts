import DataLoader from 'dataloader';
import {
  badInput,
  type Clock,
  type DomainEvent,
  conflict,
  type Connection,
  decodeCursor,
  encodeCursor,
  isTimeIdKey,
  isUuid,
  notFound,
  type OutboxTable,
  pageSize,
  publishOutboxBatch,
  type TimeIdKey,
  toConnection,
} from '@shelfwise/kit';
import { Prisma, type FineEvent, type FineReason, type FineStatus } from '../generated/prisma/client.js';
import type { FineModel, FineWaiverModel } from '../mappers.js';
import { checkFineAmount, cleanNote, MAX_DAYS_OVERDUE, type MoneyConfig } from '../money.js';
import type { PrismaClient } from './client.js';

/** One user's fines, optionally only those in one state. */
export interface FinesOfUser {
  userId: string;
  status: FineStatus | null;
}

/** A fine a librarian assesses. */
export interface NewFine {
  userId: string;
  loanId?: string | null;
  amountCents: number;
  reason: FineReason;
  note?: string | null;
}

/** What loans reports when an overdue loan comes back (it computed the amount from its policy). */
export interface OverdueFineInput {
  loanId: string;
  userId: string;
  /** Not stored on the fine: carried on its FINE_ASSESSED event. Checked when given. */
  bookId?: string | null;
  amountCents: number;
  daysOverdue: number;
}

/** A page of the waiver audit trail. */
export interface WaiverQuery {
  userId?: string | null;
  first?: number | null;
  after?: string | null;
}

/** Newest first; the id breaks ties so the order is stable. */
const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** The FineEvent rows (FINE_ASSESSED) as the relay sends them. */
const FINE_OUTBOX: OutboxTable<FineEvent, DomainEvent> = {
  table: 'FineEvent',
  toEvent: (row) => ({
    id: row.id,
    type: 'FINE_ASSESSED',
    userId: row.userId,
    occurredAt: row.occurredAt.toISOString(),
    source: 'payments',
    fineId: row.fineId,
    loanId: row.loanId,
    bookId: row.bookId,
    data: row.data as DomainEvent['data'],
  }),
};

/**
 * Fines: the only code that reads or writes them. Loaders are per request (created in the context), so
 * N fines, or the fines and balances of N users, in one request cost one query each.
 */
export class FineRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
    private readonly money: MoneyConfig,
  ) {}

  /** Batches fine lookups by id. */
  fineLoader(): DataLoader<string, FineModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await this.prisma.fine.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((f) => [f.id, f]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** Each user's fines (newest first), for many users and status filters in one query. */
  finesByUserLoader(): DataLoader<FinesOfUser, FineModel[], string> {
    return new DataLoader(
      async (keys) => {
        const valid = keys.filter((k) => isUuid(k.userId));
        if (valid.length === 0) return keys.map(() => []);
        // One OR branch per status filter asked for (usually just one).
        const byStatus = new Map<FineStatus | null, string[]>();
        for (const k of valid) byStatus.set(k.status, [...(byStatus.get(k.status) ?? []), k.userId]);
        const rows = await this.prisma.fine.findMany({
          where: { OR: [...byStatus].map(([status, userIds]) => ({ userId: { in: userIds }, ...(status ? { status } : {}) })) },
          orderBy: NEWEST_FIRST,
        });
        const byUser = new Map<string, FineModel[]>();
        for (const f of rows) {
          const list = byUser.get(f.userId);
          if (list) list.push(f);
          else byUser.set(f.userId, [f]);
        }
        return keys.map((k) => (byUser.get(k.userId) ?? []).filter((f) => k.status === null || f.status === k.status));
      },
      { cacheKeyFn: (k) => `${k.userId}:${k.status ?? '*'}` },
    );
  }

  /** What each user owes: the sum of their OPEN fines, in cents, for many users in one grouped query. */
  balanceLoader(): DataLoader<string, number> {
    return new DataLoader(async (userIds) => {
      const valid = userIds.filter(isUuid);
      const groups = valid.length
        ? await this.prisma.fine.groupBy({ by: ['userId'], where: { userId: { in: valid }, status: 'OPEN' }, _sum: { amountCents: true } })
        : [];
      const sums = new Map(groups.map((g) => [g.userId, g._sum.amountCents ?? 0]));
      return userIds.map((id) => sums.get(id) ?? 0);
    });
  }

  /** Each fine's waiver (the audit trail entry), for many fines in one query. */
  waiverByFineLoader(): DataLoader<string, FineWaiverModel | null> {
    return new DataLoader(async (fineIds) => {
      const rows = await this.prisma.fineWaiver.findMany({ where: { fineId: { in: fineIds.filter(isUuid) } } });
      const byFine = new Map(rows.map((w) => [w.fineId, w]));
      return fineIds.map((id) => byFine.get(id) ?? null);
    });
  }

  /** What one patron owes now (the sum of their OPEN fines, in cents), in one statement. */
  async balanceOf(userId: string): Promise<number> {
    if (!isUuid(userId)) throw badInput('userId must be a UUID.', { field: 'userId' });
    const { _sum } = await this.prisma.fine.aggregate({ where: { userId, status: 'OPEN' }, _sum: { amountCents: true } });
    return _sum.amountCents ?? 0;
  }

  /**
   * Records the overdue fine of a returned loan, at most once per loan whatever the retries and races:
   * the unique key on `overdueLoanId` decides, and the loser reads the winner's fine. `created` is true
   * only for the call that wrote it, which alone records FINE_ASSESSED in the outbox, in the same
   * transaction as the fine (unless `announce` is false: seeding). A repeat returns the first
   * fine unchanged even if its amount differs (the first return decided it); a repeat naming another
   * patron is a CONFLICT.
   */
  async recordOverdueFine(input: OverdueFineInput, announce = true): Promise<{ fine: FineModel; created: boolean }> {
    for (const field of ['loanId', 'userId'] as const) if (!isUuid(input[field])) throw badInput(`${field} must be a UUID.`, { field });
    if (input.bookId != null && !isUuid(input.bookId)) throw badInput('bookId must be a UUID.', { field: 'bookId' });
    checkFineAmount(input.amountCents, this.money);
    if (!Number.isSafeInteger(input.daysOverdue) || input.daysOverdue < 1 || input.daysOverdue > MAX_DAYS_OVERDUE)
      throw badInput(`daysOverdue is a whole number of days from 1 to ${MAX_DAYS_OVERDUE}; got ${input.daysOverdue}.`, {
        field: 'daysOverdue',
      });
    const loanId = input.loanId.toLowerCase();
    try {
      const fine = await this.prisma.$transaction(async (tx) => {
        const created = await tx.fine.create({
          data: {
            userId: input.userId.toLowerCase(),
            loanId,
            overdueLoanId: loanId,
            amountCents: input.amountCents,
            reason: 'OVERDUE',
            daysOverdue: input.daysOverdue,
            createdAt: this.clock.now(),
          },
        });
        if (announce) await this.recordFineAssessed(tx, created, input.bookId?.toLowerCase() ?? null);
        return created;
      });
      return { fine, created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const fine = await this.prisma.fine.findUnique({ where: { overdueLoanId: loanId } });
      if (!fine) throw err;
      if (fine.userId !== input.userId.toLowerCase())
        throw conflict('This loan already has an overdue fine recorded for another patron.', { field: 'loanId' });
      return { fine, created: false };
    }
  }

  /**
   * Records a fine directly, for seeding and tests (no FINE_ASSESSED event, no check that the user
   * exists): an OVERDUE fine through the same per-loan key as {@link recordOverdueFine} (its loanId is
   * required), any other as {@link assessFine} would, assessed by nobody.
   */
  async createFine(input: NewFine & { daysOverdue?: number }): Promise<FineModel> {
    if (input.reason !== 'OVERDUE') return this.assessFine(input, null, false);
    if (!input.loanId) throw badInput('An overdue fine belongs to a loan: give its loanId.', { field: 'loanId' });
    const { fine } = await this.recordOverdueFine(
      {
        loanId: input.loanId,
        userId: input.userId,
        amountCents: input.amountCents,
        daysOverdue: input.daysOverdue ?? 1,
      },
      false,
    );
    return fine;
  }

  /**
   * A fine a librarian assesses: LOST, DAMAGED or OTHER (overdue fines come only from returns), a whole
   * number of cents within the configured maximum, a note of at most 500 characters that OTHER requires.
   * Its FINE_ASSESSED event goes to the outbox in the same transaction (unless `announce` is false: seeding).
   */
  async assessFine(input: NewFine, assessedById: string | null, announce = true): Promise<FineModel> {
    if (!isUuid(input.userId)) throw badInput('userId must be a UUID.', { field: 'userId' });
    if (input.loanId != null && !isUuid(input.loanId)) throw badInput('loanId must be a UUID (or left out).', { field: 'loanId' });
    if (input.reason === 'OVERDUE')
      throw badInput('Overdue fines are assessed automatically when a late loan is returned. Choose LOST, DAMAGED or OTHER.', {
        field: 'reason',
      });
    checkFineAmount(input.amountCents, this.money);
    const note = cleanNote(input.note, 'The note');
    if (input.reason === 'OTHER' && note === null)
      throw badInput('Say what the fine is for in the note: it is required when the reason is OTHER.', { field: 'note' });
    return this.prisma.$transaction(async (tx) => {
      const fine = await tx.fine.create({
        data: {
          userId: input.userId.toLowerCase(),
          loanId: input.loanId?.toLowerCase() ?? null,
          amountCents: input.amountCents,
          reason: input.reason,
          note,
          assessedById,
          createdAt: this.clock.now(),
        },
      });
      if (announce) await this.recordFineAssessed(tx, fine, null);
      return fine;
    });
  }

  /** Writes the fine's FINE_ASSESSED event to the outbox (table FineEvent), inside the fine's transaction. */
  private async recordFineAssessed(tx: Prisma.TransactionClient, fine: FineModel, bookId: string | null): Promise<void> {
    await tx.fineEvent.create({
      data: {
        id: `FINE_ASSESSED:${fine.id}`,
        type: 'FINE_ASSESSED',
        userId: fine.userId,
        fineId: fine.id,
        loanId: fine.loanId,
        bookId,
        occurredAt: fine.createdAt,
        data: { amountCents: fine.amountCents, currency: this.money.currency, reason: fine.reason, daysOverdue: fine.daysOverdue },
      },
    });
  }

  /**
   * Publishes up to `limit` unpublished events, oldest first, and marks them published, in one transaction
   * holding their row locks (kit publishOutboxBatch: `FOR UPDATE SKIP LOCKED`, so two instances never
   * publish the same row at once). When publishing fails the transaction rolls back and a later pass sends
   * them (consumers dedupe by id).
   */
  async publishPending(limit: number, publish: (event: DomainEvent) => Promise<void>): Promise<number> {
    return publishOutboxBatch(
      (work) => this.prisma.$transaction(work, { maxWait: 15_000, timeout: 30_000 }),
      FINE_OUTBOX,
      limit,
      publish,
      this.clock.now(),
    );
  }

  /** Events in the outbox not yet published (tests, inspection). */
  unpublishedEvents(): Promise<number> {
    return this.prisma.fineEvent.count({ where: { publishedAt: null } });
  }

  /**
   * Waives an OPEN fine and writes the audit trail entry (who, when, why) in the same transaction. The
   * conditional update is the guard against a concurrent payment or waiver: only one of them finds the
   * fine OPEN. NOT_FOUND for an unknown fine, CONFLICT for one already paid or waived.
   */
  async waiveFine(fineId: string, reason: string, waivedById: string): Promise<FineModel> {
    const why = cleanNote(reason, 'The reason');
    if (why === null) throw badInput('Say why the fine is waived: the reason is kept in the audit trail.', { field: 'reason' });
    if (!isUuid(fineId)) throw notFound('No fine has this id. Check the fine id.');
    const now = this.clock.now();
    try {
      return await this.prisma.$transaction(async (tx) => {
        const fine = await tx.fine.update({ where: { id: fineId, status: 'OPEN' }, data: { status: 'WAIVED', updatedAt: now } });
        await tx.fineWaiver.create({ data: { fineId, userId: fine.userId, waivedById, reason: why, createdAt: now } });
        return fine;
      });
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025')) throw err;
      const fine = await this.prisma.fine.findUnique({ where: { id: fineId } });
      if (!fine) throw notFound('No fine has this id. Check the fine id.');
      throw conflict(`This fine is already ${fine.status === 'PAID' ? 'paid' : 'waived'}; only an OPEN fine can be waived.`);
    }
  }

  /** The waiver audit trail, newest first, optionally one patron's; a Relay page. */
  async listWaivers(query: WaiverQuery): Promise<Connection<FineWaiverModel>> {
    const size = pageSize(query.first);
    const after = decodeCursor(WAIVER_CURSOR, query.after, isWaiverKey);
    if (query.userId != null && !isUuid(query.userId)) throw badInput('userId must be a UUID.', { field: 'userId' });
    const where: Prisma.FineWaiverWhereInput = query.userId ? { userId: query.userId.toLowerCase() } : {};
    const [rows, total] = await Promise.all([
      this.prisma.fineWaiver.findMany({
        where: after ? { AND: [where, beforeKey(after)] } : where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: size + 1,
      }),
      this.prisma.fineWaiver.count({ where }),
    ]);
    return toConnection(rows, size, total, (w) => encodeCursor(WAIVER_CURSOR, [w.createdAt.toISOString(), w.id] satisfies TimeIdKey));
  }
}

const WAIVER_CURSOR = 'fineWaivers';

const isWaiverKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);

/** Rows strictly after the cursor in newest-first (createdAt, id) order. */
function beforeKey([createdAt, id]: TimeIdKey): Prisma.FineWaiverWhereInput {
  const at = new Date(createdAt);
  return { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] };
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
