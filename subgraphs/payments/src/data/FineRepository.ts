import DataLoader from 'dataloader';
import { badInput, type Clock, isUuid } from '@shelfwise/kit';
import type { FineReason, FineStatus } from '../generated/prisma/client.js';
import type { FineModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** One user's fines, optionally only those in one state. */
export interface FinesOfUser {
  userId: string;
  status: FineStatus | null;
}

export interface NewFine {
  userId: string;
  loanId?: string | null;
  amountCents: number;
  reason: FineReason;
  note?: string | null;
}

/** Newest first; the id breaks ties so the order is stable. */
const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/**
 * Fines: the only code that reads or writes them. Loaders are per request (created in the context), so
 * N fines, or the fines and balances of N users, in one request cost one query each.
 */
export class FineRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
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

  /**
   * Records a fine as OPEN (used by tests and seeding until the assessFine mutation and the overdue scan
   * arrive). Amounts are whole cents, at least one.
   */
  async createFine(input: NewFine): Promise<FineModel> {
    if (!Number.isInteger(input.amountCents) || input.amountCents < 1) throw badInput('A fine is a whole number of cents, at least 1.');
    if (!isUuid(input.userId) || (input.loanId != null && !isUuid(input.loanId))) throw badInput('userId and loanId must be UUIDs.');
    return this.prisma.fine.create({
      data: {
        userId: input.userId,
        loanId: input.loanId ?? null,
        amountCents: input.amountCents,
        reason: input.reason,
        note: input.note ?? null,
        createdAt: this.clock.now(),
      },
    });
  }
}
