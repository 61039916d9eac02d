import DataLoader from 'dataloader';
import { type Connection, decodeCursor, encodeCursor, isTimeIdKey, isUuid, type TimeIdKey, toConnection } from '@shelfwise/kit';
import { Prisma, type ReservationStatus } from '../generated/prisma/client.js';
import type { ReservationModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** What a list of reservations may be narrowed by. */
export interface ReservationListQuery {
  userId: string;
  status?: ReservationStatus | null;
  first: number;
  after?: string | null;
}

export interface NewReservation {
  userId: string;
  bookId: string;
  /** When the hold was placed; the database's clock when omitted. Decides the place in the queue. */
  createdAt?: Date;
}

/** Reservations are listed newest first: (createdAt desc, id desc), so ties on the time still page stably. */
const CURSOR_KIND = 'reservations';
const ORDER: Prisma.ReservationOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { id: 'desc' }];
/** A book's queue is listed in line order: (createdAt asc, id asc). */
const QUEUE_CURSOR_KIND = 'holdQueue';
const QUEUE_ORDER: Prisma.ReservationOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { id: 'asc' }];
/** A (createdAt, id) key whose id could exist: a forged id must not reach Postgres as a uuid. */
const isReservationKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);

/**
 * The only code that touches the reservations database. Loaders are per request (created in the
 * context), so N references in one request cost one query per kind of data.
 */
export class ReservationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Batches reservation lookups by id; ids that cannot exist resolve to null without a query. */
  reservationLoader(): DataLoader<string, ReservationModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length > 0 ? await this.prisma.reservation.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /**
   * The live 1-based place of each reservation among the WAITING holds for its book, ordered by
   * (createdAt, id): numbered afresh on every read, so holds that leave the queue leave no gaps.
   * Null for a reservation that is not WAITING (or does not exist). One statement for any number of ids.
   */
  positionLoader(): DataLoader<string, number | null> {
    return new DataLoader(async (ids) => {
      const valid = [...new Set(ids.filter(isUuid))];
      if (valid.length === 0) return ids.map(() => null);
      // Casting each parameter keeps the comparison uuid = uuid whatever type the driver sends.
      const idList = Prisma.join(valid.map((id) => Prisma.sql`${id}::uuid`));
      const rows = await this.prisma.$queryRaw<{ id: string; position: number }[]>`
        SELECT ranked."id", ranked."position"
        FROM (
          SELECT w."id", (row_number() OVER (PARTITION BY w."bookId" ORDER BY w."createdAt", w."id"))::int AS "position"
          FROM "Reservation" w
          WHERE w."status" = 'WAITING'
            AND w."bookId" IN (SELECT r."bookId" FROM "Reservation" r WHERE r."id" IN (${idList}) AND r."status" = 'WAITING')
        ) ranked
        WHERE ranked."id" IN (${idList})`;
      const byId = new Map(rows.map((r) => [r.id, Number(r.position)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** Number of WAITING holds per book, for many books in one grouped query. */
  holdQueueLengthLoader(): DataLoader<string, number> {
    return new DataLoader(async (bookIds) => {
      const valid = [...new Set(bookIds.filter(isUuid))];
      if (valid.length === 0) return bookIds.map(() => 0);
      const groups = await this.prisma.reservation.groupBy({
        by: ['bookId'],
        where: { bookId: { in: valid }, status: 'WAITING' },
        _count: { _all: true },
      });
      const counts = new Map(groups.map((g) => [g.bookId, g._count._all]));
      return bookIds.map((id) => counts.get(id) ?? 0);
    });
  }

  /**
   * The READY hold each copy waits on the hold shelf for (null when none), for many copies in one
   * statement. A copy is set aside for at most one hold at a time; READY rows are few, and the
   * (status, pickupBy) index finds them.
   */
  heldForLoader(): DataLoader<string, ReservationModel | null> {
    return new DataLoader(async (copyIds) => {
      const valid = [...new Set(copyIds.filter(isUuid).map((id) => id.toLowerCase()))];
      if (valid.length === 0) return copyIds.map(() => null);
      const rows = await this.prisma.reservation.findMany({ where: { copyId: { in: valid }, status: 'READY' } });
      const byCopy = new Map(rows.map((r) => [r.copyId, r]));
      return copyIds.map((id) => byCopy.get(id.toLowerCase()) ?? null);
    });
  }

  /** One page of a user's reservations, newest first, with the total count of matches. */
  async page(query: ReservationListQuery): Promise<Connection<ReservationModel>> {
    const key = decodeCursor(CURSOR_KIND, query.after, isReservationKey);
    // A user id that is not a UUID has no reservations; answering empty keeps Postgres from rejecting it.
    if (!isUuid(query.userId)) return toConnection([], query.first, 0, () => '');
    const where: Prisma.ReservationWhereInput = { userId: query.userId, ...(query.status != null ? { status: query.status } : {}) };
    const pageWhere: Prisma.ReservationWhereInput = key ? { AND: [where, afterKey(key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.reservation.findMany({ where: pageWhere, orderBy: ORDER, take: query.first + 1 }),
      this.prisma.reservation.count({ where }),
    ]);
    return toConnection(rows, query.first, totalCount, (r) =>
      encodeCursor(CURSOR_KIND, [r.createdAt.toISOString(), r.id] satisfies TimeIdKey),
    );
  }

  /**
   * One page of a book's queue: its WAITING holds in line order (createdAt, id), with the queue's length.
   */
  async queuePage(query: { bookId: string; first: number; after?: string | null }): Promise<Connection<ReservationModel>> {
    const key = decodeCursor(QUEUE_CURSOR_KIND, query.after, isReservationKey);
    if (!isUuid(query.bookId)) return toConnection([], query.first, 0, () => '');
    const where: Prisma.ReservationWhereInput = { bookId: query.bookId, status: 'WAITING' };
    const pageWhere: Prisma.ReservationWhereInput = key ? { AND: [where, beforeKeyAsc(key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.reservation.findMany({ where: pageWhere, orderBy: QUEUE_ORDER, take: query.first + 1 }),
      this.prisma.reservation.count({ where }),
    ]);
    return toConnection(rows, query.first, totalCount, (r) =>
      encodeCursor(QUEUE_CURSOR_KIND, [r.createdAt.toISOString(), r.id] satisfies TimeIdKey),
    );
  }

  /**
   * Places a WAITING hold directly, without the checks of reserveBook (seeding and tests; reserveBook goes
   * through QueueRepository.placeHold).
   */
  async create(data: NewReservation): Promise<ReservationModel> {
    return this.prisma.reservation.create({ data });
  }
}

/** Holds strictly after the cursor in queue order (createdAt asc, id asc). */
function beforeKeyAsc([time, id]: TimeIdKey): Prisma.ReservationWhereInput {
  const createdAt = new Date(time);
  return { OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] };
}

/** Reservations strictly after the cursor in (createdAt desc, id desc) order. */
function afterKey([time, id]: TimeIdKey): Prisma.ReservationWhereInput {
  const createdAt = new Date(time);
  return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
}
