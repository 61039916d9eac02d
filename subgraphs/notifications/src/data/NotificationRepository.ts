import DataLoader from 'dataloader';
import {
  badInput,
  type Clock,
  type Connection,
  decodeCursor,
  encodeCursor,
  isTimeIdKey,
  isUuid,
  type TimeIdKey,
  toConnection,
} from '@shelfwise/kit';
import type { NotificationKind, Prisma } from '../generated/prisma/client.js';
import type { NotificationModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

/** Which notifications a user wants. */
export interface Preferences {
  dueSoon: boolean;
  overdue: boolean;
  reservationReady: boolean;
  reservationExpired: boolean;
  fineAssessed: boolean;
  /** How many days before the due date the DUE_SOON reminder goes out. */
  dueSoonDaysBefore: number;
}

/** What a user who never chose gets (the column defaults in schema.prisma). */
export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({
  dueSoon: true,
  overdue: true,
  reservationReady: true,
  reservationExpired: true,
  fineAssessed: true,
  dueSoonDaysBefore: 2,
});

/** The furthest ahead a DUE_SOON reminder can be asked for. */
export const MAX_DUE_SOON_DAYS_BEFORE = 14;

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  message: string;
  bookId?: string | null;
  loanId?: string | null;
  reservationId?: string | null;
}

export interface NotificationPageRequest {
  userId: string;
  unreadOnly: boolean;
  /** Already checked with the kit's pageSize(). */
  first: number;
  after?: string | null;
}

const CURSOR_KIND = 'notifications';
const isCursorKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);
const MAX_MESSAGE_LENGTH = 1000;

/**
 * The only code that touches the notifications database. Loaders are per request (created in the
 * context), so the unread counts or preferences of N users in one request cost one query.
 */
export class NotificationRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  /** Unread notifications per user, for many users in one grouped query. */
  unreadCountLoader(): DataLoader<string, number> {
    return new DataLoader(async (userIds) => {
      const valid = userIds.filter(isUuid);
      const groups = valid.length
        ? await this.prisma.notification.groupBy({ by: ['userId'], where: { userId: { in: valid }, readAt: null }, _count: { _all: true } })
        : [];
      const counts = new Map(groups.map((g) => [g.userId, g._count._all]));
      return userIds.map((id) => counts.get(id) ?? 0);
    });
  }

  /** Each user's preferences (the defaults when they never chose), for many users in one query. */
  preferencesLoader(): DataLoader<string, Preferences> {
    return new DataLoader(async (userIds) => {
      const valid = userIds.filter(isUuid);
      const rows = valid.length ? await this.prisma.notificationPreference.findMany({ where: { userId: { in: valid } } }) : [];
      const byUser = new Map(rows.map((row) => [row.userId, toPreferences(row)]));
      return userIds.map((id) => byUser.get(id) ?? { ...DEFAULT_PREFERENCES });
    });
  }

  /** One page of a user's notifications, newest first (createdAt desc, then id desc). */
  async page(request: NotificationPageRequest): Promise<Connection<NotificationModel>> {
    const key = decodeCursor(CURSOR_KIND, request.after, isCursorKey);
    if (!isUuid(request.userId)) return toConnection([], request.first, 0, () => '');
    const where: Prisma.NotificationWhereInput = { userId: request.userId, ...(request.unreadOnly ? { readAt: null } : {}) };
    const pageWhere: Prisma.NotificationWhereInput = key ? { AND: [where, olderThan(key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.notification.findMany({ where: pageWhere, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: request.first + 1 }),
      this.prisma.notification.count({ where }),
    ]);
    return toConnection(rows, request.first, totalCount, (n) =>
      encodeCursor(CURSOR_KIND, [n.createdAt.toISOString(), n.id] satisfies TimeIdKey),
    );
  }

  /**
   * Puts a notification in a user's inbox, stamped with the service clock (used by tests and seeding
   * until the event consumer arrives).
   */
  async create(input: NewNotification): Promise<NotificationModel> {
    const message = input.message.trim();
    if (message.length === 0 || message.length > MAX_MESSAGE_LENGTH)
      throw badInput(`A notification message is 1 to ${MAX_MESSAGE_LENGTH} characters.`);
    const refs = [input.userId, input.bookId, input.loanId, input.reservationId].filter((id): id is string => id != null);
    if (!refs.every(isUuid)) throw badInput('userId, bookId, loanId and reservationId must be UUIDs.');
    return this.prisma.notification.create({
      data: {
        userId: input.userId,
        kind: input.kind,
        message,
        bookId: input.bookId ?? null,
        loanId: input.loanId ?? null,
        reservationId: input.reservationId ?? null,
        createdAt: this.clock.now(),
      },
    });
  }

  /** Marks the given notifications of one user read; others' ids and already read ones are left alone. */
  async markRead(userId: string, ids: string[]): Promise<number> {
    const valid = ids.filter(isUuid);
    if (!isUuid(userId) || valid.length === 0) return 0;
    const { count } = await this.prisma.notification.updateMany({
      where: { userId, id: { in: valid }, readAt: null },
      data: { readAt: this.clock.now() },
    });
    return count;
  }

  /** Stores a user's choices; fields not given keep their current (or default) value. */
  async savePreferences(userId: string, changes: Partial<Preferences>): Promise<Preferences> {
    if (!isUuid(userId)) throw badInput('userId must be a UUID.');
    const days = changes.dueSoonDaysBefore;
    if (days !== undefined && (!Number.isInteger(days) || days < 0 || days > MAX_DUE_SOON_DAYS_BEFORE)) {
      throw badInput(`"dueSoonDaysBefore" is a whole number of days from 0 to ${MAX_DUE_SOON_DAYS_BEFORE}.`);
    }
    const row = await this.prisma.notificationPreference.upsert({
      where: { userId },
      create: { ...DEFAULT_PREFERENCES, ...changes, userId },
      update: changes,
    });
    return toPreferences(row);
  }
}

function toPreferences(row: Preferences): Preferences {
  return {
    dueSoon: row.dueSoon,
    overdue: row.overdue,
    reservationReady: row.reservationReady,
    reservationExpired: row.reservationExpired,
    fineAssessed: row.fineAssessed,
    dueSoonDaysBefore: row.dueSoonDaysBefore,
  };
}

/** Rows strictly after the cursor in newest-first order (ties on createdAt broken by id). */
function olderThan([createdAt, id]: TimeIdKey): Prisma.NotificationWhereInput {
  const at = new Date(createdAt);
  return { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] };
}
