import {
  DOMAIN_EVENTS_CHANNEL,
  isDomainEvent,
  isUuid,
  NOTIFICATION_CHANNEL,
  type DomainEvent,
  type EventBus,
  type Logger,
  type NotificationCreatedEvent,
} from '@shelfwise/kit';
import type { EventResult, NotificationRepository } from './data/NotificationRepository.js';
import { planNotification } from './messages.js';

/** Longest event id accepted (ids are UUIDs or keys such as `DUE_SOON:<loanId>:<daysLeft>`). */
const MAX_EVENT_ID_LENGTH = 200;

/** What became of one message: the repository's result, or why it was dropped unread. */
export type ConsumeResult = EventResult | { outcome: 'INVALID'; reason: string };

/**
 * Turns domain events (DUE_SOON, OVERDUE, RESERVATION_READY, RESERVATION_EXPIRED, FINE_ASSESSED on
 * DOMAIN_EVENTS_CHANNEL) into inbox entries, then announces each new one on NOTIFICATION_CHANNEL for the
 * router's `notificationReceived`. Safe under at-least-once delivery and with several consumers on one
 * bus and one database: the event id is claimed in the same transaction as the inbox insert, so each
 * event stores at most one notification, once (see NotificationRepository.applyEvent).
 */
export class NotificationConsumer {
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly bus: EventBus,
    private readonly notifications: NotificationRepository,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to the domain events channel; resolves once the subscription is active. */
  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
      const work = this.consume(message).catch((err: unknown) => {
        // Pub/sub will not redeliver: the event is lost for the inbox (a durable stream would retry it).
        this.logger.error({ err, eventId: idOf(message) }, 'could not store a notification for a domain event');
      });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
  }

  /** Unsubscribes, then waits for the events already being processed (so the database can close after). */
  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.();
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Processes one message as delivered by any transport. Invalid messages are logged and dropped;
   * database failures throw (nothing was recorded, so a transport that redelivers may retry).
   */
  async consume(message: unknown): Promise<ConsumeResult> {
    const problem = invalidReason(message);
    if (problem !== null) {
      this.logger.warn({ eventId: idOf(message), reason: problem }, 'dropped an invalid domain event');
      return { outcome: 'INVALID', reason: problem };
    }
    const event = message as DomainEvent;
    const plan = planNotification(event, await this.notifications.preferencesOf(event.userId));
    const result = await this.notifications.applyEvent({
      eventId: event.id,
      kind: event.type,
      userId: event.userId,
      notification: plan.wanted ? plan.notification : null,
    });
    if (result.outcome !== 'STORED') {
      this.logger.debug({ eventId: event.id, outcome: result.outcome }, 'domain event stored no notification');
      return result;
    }
    const created: NotificationCreatedEvent = {
      userId: result.notification.userId,
      notificationId: result.notification.id,
      kind: result.notification.kind,
      at: result.notification.createdAt.toISOString(),
    };
    try {
      await this.bus.publish(NOTIFICATION_CHANNEL, created);
    } catch (err) {
      // The notification is stored; only the live push is lost (clients refetch the inbox on reconnect).
      this.logger.warn({ err, notificationId: created.notificationId }, 'could not publish a new notification live');
    }
    return result;
  }
}

function idOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
}

/** Null when the message is a domain event this service can act on; otherwise what is wrong with it. */
function invalidReason(message: unknown): string | null {
  if (!isDomainEvent(message)) return 'not a DomainEvent (id, type, userId, occurredAt, source)';
  if (message.id.length === 0 || message.id.length > MAX_EVENT_ID_LENGTH) return `id must be 1 to ${MAX_EVENT_ID_LENGTH} characters`;
  if (!isUuid(message.userId)) return 'userId is not a UUID';
  if (Number.isNaN(Date.parse(message.occurredAt))) return 'occurredAt is not an ISO-8601 instant';
  for (const ref of ['bookId', 'loanId', 'reservationId', 'fineId'] as const) {
    const value: unknown = message[ref];
    if (value !== undefined && value !== null && (typeof value !== 'string' || !isUuid(value))) return `${ref} is not a UUID`;
  }
  if ((message.type === 'DUE_SOON' || message.type === 'OVERDUE') && !message.loanId) return `${message.type} needs the loanId`;
  const data: unknown = message.data;
  if (data !== undefined && data !== null) {
    if (typeof data !== 'object' || Array.isArray(data)) return 'data must be an object';
    for (const value of Object.values(data)) {
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value))
        return 'data values must be strings, numbers, booleans or null';
    }
  }
  return null;
}
