import { publishOutboxBatch, type DomainEvent, type OutboxTable } from '@shelfwise/kit';
import { Prisma, type LoanEvent } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/** The LoanEvent rows as the relay sends them. */
const LOAN_OUTBOX: OutboxTable<LoanEvent, DomainEvent> = {
  table: 'LoanEvent',
  toEvent: (row) => ({
    id: row.id,
    type: row.type as DomainEvent['type'],
    userId: row.userId,
    occurredAt: row.occurredAt.toISOString(),
    source: 'loans',
    bookId: row.bookId,
    loanId: row.loanId,
    data: row.data as DomainEvent['data'],
  }),
};

/**
 * The outbox of the events this service emits (table LoanEvent). An event is recorded first, then
 * published; rows not yet published are picked up by whichever instance locks them first
 * (`FOR UPDATE SKIP LOCKED`), so two instances never publish the same row at once.
 */
export class EventRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records the due-date events of every ACTIVE loan at `now` (see scanner.ts for ids and data), two
   * INSERT … SELECT statements whatever the number of loans. Ids already recorded are skipped
   * (ON CONFLICT DO NOTHING), so only what no earlier scan — in any instance — recorded is new.
   * Returns how many events are new.
   */
  async recordDueEvents(now: Date, dueSoonDays: number): Promise<number> {
    // Timestamps are stored as UTC without a zone (Prisma's TIMESTAMP(3)): compare in the same terms.
    const at = Prisma.sql`(${now.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
    const dueAt = Prisma.sql`to_char(l."dueAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const overdue = await this.prisma.$executeRaw`
      INSERT INTO "LoanEvent" ("id", "type", "loanId", "userId", "bookId", "occurredAt", "data")
      SELECT 'OVERDUE:' || l."id"::text, 'OVERDUE', l."id", l."userId", l."bookId", ${at}, jsonb_build_object('dueAt', ${dueAt})
      FROM "Loan" l
      WHERE l."status" = 'ACTIVE' AND l."dueAt" < ${at}
      ON CONFLICT ("id") DO NOTHING`;
    const dueSoon = await this.prisma.$executeRaw`
      INSERT INTO "LoanEvent" ("id", "type", "loanId", "userId", "bookId", "occurredAt", "data")
      SELECT 'DUE_SOON:' || l."id"::text || ':' || to_char(l."dueAt", 'YYYYMMDD"T"HH24MISS') || ':' || d."daysLeft"::text, 'DUE_SOON', l."id", l."userId", l."bookId", ${at},
             jsonb_build_object('dueAt', ${dueAt}, 'daysLeft', d."daysLeft")
      FROM "Loan" l
      CROSS JOIN LATERAL (SELECT GREATEST(1, CEIL(EXTRACT(EPOCH FROM (l."dueAt" - ${at})) / 86400))::int AS "daysLeft") d
      WHERE l."status" = 'ACTIVE' AND l."dueAt" >= ${at} AND l."dueAt" <= ${at} + make_interval(days => ${dueSoonDays}::int)
      ON CONFLICT ("id") DO NOTHING`;
    return overdue + dueSoon;
  }

  /**
   * Publishes up to `limit` unpublished events, oldest first, and marks them published at `now`, all inside
   * one transaction holding their row locks (kit publishOutboxBatch): a second instance skips them. If
   * publishing fails the transaction rolls back and the rows go out on a later scan (consumers deduplicate
   * by event id).
   */
  async publishPending(limit: number, publish: (event: DomainEvent) => Promise<void>, now: Date): Promise<number> {
    return publishOutboxBatch(
      (work) => this.prisma.$transaction(work, { maxWait: 15_000, timeout: 30_000 }),
      LOAN_OUTBOX,
      limit,
      publish,
      now,
    );
  }
}
