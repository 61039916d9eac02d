/**
 * Channels and message shapes on the event bus that more than one service relies on. A publisher and its
 * subscribers import the names from here, so a renamed channel fails the type-check, not production.
 */

/**
 * Published by books after every change to a book's copies (lent, returned, held, added, withdrawn, lost),
 * and when reservations asks it to announce a book whose hold queue changed. Live, at-most-once: for the
 * router's `bookAvailabilityChanged` subscribers. The same events also go to
 * {@link BOOK_AVAILABILITY_STREAM}.
 */
export const BOOK_AVAILABILITY_CHANNEL = 'books.availability';

/**
 * The durable stream of the same availability events (a Redis Stream `<prefix>:books.availability.stream`;
 * in process, the bus's own), appended by books' outbox relay before it publishes on
 * {@link BOOK_AVAILABILITY_CHANNEL}. Consumers that must not miss an event while they are down or
 * reconnecting read it through a consumer group (reservations: group {@link BOOK_AVAILABILITY_RESERVATIONS_GROUP}),
 * at-least-once, so their handling must be idempotent. Trimmed like every stream (MAXLEN ~, the bus's
 * `streamMaxLength`).
 */
export const BOOK_AVAILABILITY_STREAM = 'books.availability.stream';

/** Reservations' consumer group on {@link BOOK_AVAILABILITY_STREAM} (its hold queue fills). */
export const BOOK_AVAILABILITY_RESERVATIONS_GROUP = 'reservations';

export interface BookAvailabilityEvent {
  bookId: string;
  /** Copies on the shelf that anyone may borrow now. */
  availableCopies: number;
  /** Copies the library owns that are not withdrawn. */
  totalCopies: number;
  /** When the change happened, ISO-8601 (service clock). */
  at: string;
}

export function isBookAvailabilityEvent(value: unknown): value is BookAvailabilityEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.bookId === 'string' && typeof v.availableCopies === 'number' && typeof v.totalCopies === 'number' && typeof v.at === 'string'
  );
}

/**
 * Domain events about a person (their loan is due, their hold is ready, a fine was assessed) that the
 * notifications service turns into inbox entries and live pushes. Every emitter writes them to an outbox
 * table in the transaction of the change, and its relay (outbox.ts) sends each one, with this envelope,
 * to the durable stream DOMAIN_EVENTS_STREAM (consumer groups, at-least-once) and to this pub/sub channel
 * (live, at-most-once: for watchers that only care about what happens while they listen). `id` is unique
 * per event so consumers deduplicate redeliveries.
 */
export const DOMAIN_EVENTS_CHANNEL = 'events.domain';

/**
 * The durable stream of domain events (a Redis Stream `<prefix>:events.domain.stream`; in process, the
 * bus's own). Consumers read it through a consumer group (notifications: group `notifications`) and
 * deduplicate by event id.
 */
export const DOMAIN_EVENTS_STREAM = 'events.domain.stream';

/**
 * How far ahead loans announces a due date. Patrons choose how many days before (1–7, default 2) they
 * want the reminder, which only the notifications service knows, so loans' scanner emits DUE_SOON for an
 * active loan once for each whole day left from this many days before the due date — id
 * `DUE_SOON:<loanId>:<dueAt as YYYYMMDDTHHMMSS>:<daysLeft>` (so a renewed loan's new due date
 * gets its own reminder), data `{ dueAt, daysLeft }` — and notifications keeps the first one
 * whose daysLeft is within the patron's preference, once per loan. OVERDUE is emitted once per loan
 * (id `OVERDUE:<loanId>`, data `{ dueAt }`).
 */
export const DUE_SOON_MAX_DAYS = 7;

export const DOMAIN_EVENT_TYPES = ['DUE_SOON', 'OVERDUE', 'RESERVATION_READY', 'RESERVATION_EXPIRED', 'FINE_ASSESSED'] as const;
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

export interface DomainEvent {
  /** Unique per event (a UUID, or a deterministic key such as `DUE_SOON:<loanId>`), for deduplication. */
  id: string;
  type: DomainEventType;
  /** The person the event is about (the notification's recipient). */
  userId: string;
  /** When it happened, ISO-8601 (service clock). */
  occurredAt: string;
  /** The service that emitted it. */
  source: string;
  /** Ids of what it is about, when relevant. */
  bookId?: string | null;
  loanId?: string | null;
  reservationId?: string | null;
  fineId?: string | null;
  /** Extra facts for the message (due date, amount in cents, pickup deadline…), JSON-safe values only. */
  data?: Record<string, string | number | boolean | null>;
}

export function isDomainEvent(value: unknown): value is DomainEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    (DOMAIN_EVENT_TYPES as readonly string[]).includes(v.type) &&
    typeof v.userId === 'string' &&
    typeof v.occurredAt === 'string' &&
    typeof v.source === 'string'
  );
}

/**
 * Facts in a DomainEvent's `data` that the notifications service puts in its message text when present
 * (it never calls other services for them): `bookTitle` (or `title`), `dueAt` and `daysLeft` (DUE_SOON,
 * OVERDUE), `pickupBy` (RESERVATION_READY, RESERVATION_EXPIRED), `amountCents`, `currency` (an ISO 4217
 * code such as `USD`), `reason` (a FineReason) and `daysOverdue` for FINE_ASSESSED (payments' id:
 * `FINE_ASSESSED:<fineId>`).
 *
 * Published by notifications once a notification is stored (after its transaction commits), so the
 * router can push it to its recipient's `notificationReceived` subscribers. The message carries no text:
 * the router resolves the Notification (an entity keyed by id) through the gateway with the recipient's
 * own permissions. At-most-once: a subscriber that missed it finds it in `User.notifications`.
 */
export const NOTIFICATION_CHANNEL = 'notifications.created';

export interface NotificationCreatedEvent {
  /** The recipient: only their sockets may receive it. */
  userId: string;
  notificationId: string;
  kind: DomainEventType;
  /** When it was stored, ISO-8601 (service clock). */
  at: string;
}

export function isNotificationCreatedEvent(value: unknown): value is NotificationCreatedEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.userId === 'string' &&
    typeof v.notificationId === 'string' &&
    typeof v.kind === 'string' &&
    (DOMAIN_EVENT_TYPES as readonly string[]).includes(v.kind) &&
    typeof v.at === 'string'
  );
}
