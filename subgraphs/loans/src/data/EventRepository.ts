import type { DomainEvent } from '@shelfwise/kit';
import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

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
   * Publishes up to `limit` unpublished events, oldest first, and marks them published, all inside one
   * transaction holding their row locks: a second instance skips them. If publishing fails the
   * transaction rolls back and the rows go out on a later scan (consumers deduplicate by event id).
   */
  async publishPending(limit: number, publish: (event: DomainEvent) => Promise<void>, now: Date): Promise<number> {
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT "id" FROM "LoanEvent" WHERE "publishedAt" IS NULL
          ORDER BY "occurredAt", "id" LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        if (locked.length === 0) return 0;
        const rows = await tx.loanEvent.findMany({
          where: { id: { in: locked.map((r) => r.id) } },
          orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }],
        });
        for (const row of rows) {
          await publish({
            id: row.id,
            type: row.type as DomainEvent['type'],
            userId: row.userId,
            occurredAt: row.occurredAt.toISOString(),
            source: 'loans',
            bookId: row.bookId,
            loanId: row.loanId,
            data: row.data as DomainEvent['data'],
          });
        }
        await tx.loanEvent.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { publishedAt: now } });
        return rows.length;
      },
      { maxWait: 15_000, timeout: 30_000 },
    );
  }
}
