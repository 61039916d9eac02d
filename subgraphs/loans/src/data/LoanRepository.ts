import DataLoader from 'dataloader';
import { type Connection, decodeCursor, encodeCursor, isTimeIdKey, isUuid, type TimeIdKey, toConnection } from '@shelfwise/kit';
import type { LoanStatus, Prisma } from '../generated/prisma/client.js';
import type { LoanModel, LoanPolicyModel } from '../mappers.js';
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

export interface NewLoan {
  userId: string;
  bookId: string;
  copyId: string;
  borrowedAt: Date;
  dueAt: Date;
}

/** Loans are listed newest first: (borrowedAt desc, id desc), so ties on the time still page stably. */
const CURSOR_KIND = 'loans';
const ORDER: Prisma.LoanOrderByWithRelationInput[] = [{ borrowedAt: 'desc' }, { id: 'desc' }];
/** A (borrowedAt, id) key whose id could exist: a forged id must not reach Postgres as a uuid. */
const isLoanKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);

/**
 * The only code that touches the loans database. Loaders are per request (created in the context), so
 * N references to loans in one request cost one query.
 */
export class LoanRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Batches loan lookups by id; ids that cannot exist resolve to null without reaching the database. */
  loanLoader(): DataLoader<string, LoanModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length > 0 ? await this.prisma.loan.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((l) => [l.id, l]));
      return ids.map((id) => byId.get(id) ?? null);
    });
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
    return toConnection(rows, query.first, totalCount, (l) =>
      encodeCursor(CURSOR_KIND, [l.borrowedAt.toISOString(), l.id] satisfies TimeIdKey),
    );
  }

  /** The lending rules of every role, in role order (PATRON, LIBRARIAN, ADMIN). */
  async policies(): Promise<LoanPolicyModel[]> {
    return this.prisma.loanPolicy.findMany({ orderBy: { role: 'asc' } });
  }

  /**
   * Records an active loan (used by seeding and tests until the borrow/return/renew issue adds the
   * mutations, which will also check policies and allocate the copy).
   */
  async create(data: NewLoan): Promise<LoanModel> {
    return this.prisma.loan.create({ data });
  }
}

/** A loan is overdue while it is active and its due time has passed (the SQL form is in listWhere). */
export function isOverdue(loan: Pick<LoanModel, 'status' | 'dueAt'>, now: Date): boolean {
  return loan.status === 'ACTIVE' && loan.dueAt.getTime() < now.getTime();
}

function listWhere(query: LoanListQuery): Prisma.LoanWhereInput {
  const and: Prisma.LoanWhereInput[] = [];
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
