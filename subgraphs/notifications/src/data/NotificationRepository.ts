import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import {
  badInput,
  type Clock,
  type Connection,
  decodeCursor,
  DUE_SOON_MAX_DAYS,
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

/**
 * The furthest ahead a DUE_SOON reminder can be asked for: loans announces a due date this many days
 * ahead (kit events.ts), so a longer lead time could never be honoured.
 */
export const MAX_DUE_SOON_DAYS_BEFORE = DUE_SOON_MAX_DAYS;
export const MIN_DUE_SOON_DAYS_BEFORE = 1;

/** At most this many ids per markNotificationsRead call. */
export const MAX_MARK_READ_IDS = 100;

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  message: string;
  bookId?: string | null;
  loanId?: string | null;
  reservationId?: string | null;
}

/** A domain event this service acts on, reduced to what the inbox needs (see consumer.ts). */
export interface EventRecord {
  /** The DomainEvent id: a second event with the same id changes nothing. */
  eventId: string;
  kind: NotificationKind;
  userId: string;
  /** The notification to store; null when the patron does not want it (recorded as NOT_WANTED). */
  notification: (NewNotification & { onceKey?: string | null }) | null;
}

/** What applying an event did. */
export type EventResult =
  | { outcome: 'STORED'; notification: NotificationModel }
  /** This event id was processed before (a redelivery, or another consumer got it first). */
  | { outcome: 'DUPLICATE' }
  | { outcome: 'NOT_WANTED' }
  /** Another event already notified the same thing (its onceKey is taken). */
  | { outcome: 'ALREADY_NOTIFIED' };

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

  /** Notifications by id, for many in one query (`_entities`); null for unknown or malformed ids. */
  notificationLoader(): DataLoader<string, NotificationModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length ? await this.prisma.notification.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

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
   * Puts a notification in a user's inbox directly, stamped with the service clock (tests and demo data;
   * notifications from domain events go through {@link applyEvent}, which deduplicates).
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

  /**
   * Marks the given notifications of one user read, in one statement, and returns how many it marked.
   * Others' ids, unknown ids and already read ones are left alone and not counted (so the count never
   * tells whether someone else's notification exists). Refuses more than {@link MAX_MARK_READ_IDS} ids
   * and ids that are not UUIDs, changing nothing.
   */
  async markRead(userId: string, ids: readonly string[]): Promise<number> {
    if (ids.length > MAX_MARK_READ_IDS) throw badInput(`Mark at most ${MAX_MARK_READ_IDS} notifications read at once; split the list.`);
    const malformed = ids.find((id) => !isUuid(id));
    if (malformed !== undefined)
      throw badInput(`"${malformed.slice(0, 60)}" is not a notification id. Use the ids from User.notifications.`);
    if (!isUuid(userId) || ids.length === 0) return 0;
    const { count } = await this.prisma.notification.updateMany({
      where: { userId, id: { in: [...new Set(ids)] }, readAt: null },
      data: { readAt: this.clock.now() },
    });
    return count;
  }

  /** One user's preferences (the defaults when they never chose). */
  async preferencesOf(userId: string): Promise<Preferences> {
    const row = isUuid(userId) ? await this.prisma.notificationPreference.findUnique({ where: { userId } }) : null;
    return row ? toPreferences(row) : { ...DEFAULT_PREFERENCES };
  }

  /**
   * Stores a user's choices; fields not given keep their current (or default) value. Refuses (changing
   * nothing) a lead time that is not a whole number of days from 1 to 7.
   */
  async savePreferences(userId: string, changes: Partial<Preferences>): Promise<Preferences> {
    if (!isUuid(userId)) throw badInput('userId must be a UUID.');
    const days = changes.dueSoonDaysBefore;
    if (days !== undefined && (!Number.isInteger(days) || days < MIN_DUE_SOON_DAYS_BEFORE || days > MAX_DUE_SOON_DAYS_BEFORE)) {
      throw badInput(
        `"dueSoonDaysBefore" is a whole number of days from ${MIN_DUE_SOON_DAYS_BEFORE} to ${MAX_DUE_SOON_DAYS_BEFORE}; got ${days}.`,
      );
    }
    const row = await this.prisma.notificationPreference.upsert({
      where: { userId },
      create: { ...DEFAULT_PREFERENCES, ...changes, userId },
      update: changes,
    });
    return toPreferences(row);
  }

  /**
   * Forgets the events processed before `before`, in batches of `batchSize` (one short statement each, so
   * a large backlog never holds one long lock); returns how many rows went. The inbox keeps every
   * notification: only the record that an event id was seen goes, so an event redelivered after that
   * would be applied again — the retention (days) must outlast any redelivery (seconds to minutes: the
   * consumer's claim timeout, the outbox relays' retries). DUE_SOON and OVERDUE reminders also carry an
   * `onceKey`, which still stops their second notification.
   */
  async pruneProcessedEvents(before: Date, batchSize = 5_000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.prisma.$executeRaw`
        DELETE FROM "ProcessedEvent" WHERE "id" IN (
          SELECT "id" FROM "ProcessedEvent" WHERE "processedAt" < (${before.toISOString()}::timestamptz AT TIME ZONE 'UTC') ORDER BY "processedAt" LIMIT ${batchSize}
        )`;
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }

  /**
   * Applies one domain event exactly once, in one transaction: claims its id in ProcessedEvent (INSERT …
   * ON CONFLICT DO NOTHING, which waits for a concurrent claim of the same id on another consumer and then
   * finds it taken), then stores the notification unless another event already notified the same thing
   * (its onceKey taken). A redelivered event, or the same event reaching two consumers, stores nothing.
   * Throws when the database fails; nothing is then recorded, so a retry starts afresh.
   */
  async applyEvent(event: EventRecord): Promise<EventResult> {
    const input = event.notification;
    let message: string | null = null;
    if (input) {
      message = input.message.trim();
      if (message.length === 0 || message.length > MAX_MESSAGE_LENGTH)
        throw new Error(`Notification text for ${event.eventId} is empty or too long.`);
    }
    return this.prisma.$transaction(async (tx) => {
      const now = this.clock.now();
      const notificationId = input ? randomUUID() : null;
      const claimed = await tx.processedEvent.createMany({
        data: [
          {
            id: event.eventId,
            type: event.kind,
            userId: event.userId,
            outcome: input ? 'STORED' : 'NOT_WANTED',
            notificationId,
            processedAt: now,
          },
        ],
        skipDuplicates: true,
      });
      if (claimed.count === 0) return { outcome: 'DUPLICATE' } as const;
      if (!input || !notificationId || message === null) return { outcome: 'NOT_WANTED' } as const;
      const [stored] = await tx.notification.createManyAndReturn({
        data: [
          {
            id: notificationId,
            userId: event.userId,
            kind: input.kind,
            message,
            bookId: input.bookId ?? null,
            loanId: input.loanId ?? null,
            reservationId: input.reservationId ?? null,
            onceKey: input.onceKey ?? null,
            createdAt: now,
          },
        ],
        skipDuplicates: true,
      });
      if (stored) return { outcome: 'STORED', notification: stored } as const;
      await tx.processedEvent.update({ where: { id: event.eventId }, data: { outcome: 'ALREADY_NOTIFIED', notificationId: null } });
      return { outcome: 'ALREADY_NOTIFIED' } as const;
    });
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
