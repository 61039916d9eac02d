import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  DOMAIN_EVENTS_STREAM,
  isDomainEvent,
  isUuid,
  NOTIFICATION_CHANNEL,
  type DomainEvent,
  type EventBus,
  type Logger,
  type NotificationCreatedEvent,
  type StopConsuming,
} from '@shelfwise/kit';
import type { EventResult, NotificationRepository } from './data/NotificationRepository.js';
import { planNotification } from './messages.js';

/** Longest event id accepted (ids are UUIDs or keys such as `DUE_SOON:<loanId>:<daysLeft>`). */
const MAX_EVENT_ID_LENGTH = 200;

/** The consumer group every notifications instance reads DOMAIN_EVENTS_STREAM in: each event goes to one of them. */
export const NOTIFICATIONS_GROUP = 'notifications';

export interface ConsumerOptions {
  /**
   * Events processed at once (each holds a database connection for its transaction). The rest wait in
   * the stream instead of exhausting the pool. Default 4.
   */
  concurrency?: number;
  /** Tries per event when the database fails (a retry is safe: a failed attempt records nothing). Default 3. */
  attempts?: number;
  /** Pause before retry n is n² times this. Default 100 ms. */
  retryDelayMs?: number;
  /**
   * An event delivered to an instance that has not acknowledged it for this long (it crashed, or every
   * attempt failed) is delivered again, to whichever instance claims it first. Default 30 s.
   */
  claimIdleMs?: number;
  /** This instance's name in the consumer group (unique per process). Default host, pid and a random suffix. */
  consumerName?: string;
}

/** What became of one message: the repository's result, or why it was dropped unread. */
export type ConsumeResult = EventResult | { outcome: 'INVALID'; reason: string };

/**
 * Turns domain events (DUE_SOON, OVERDUE, RESERVATION_READY, RESERVATION_EXPIRED, FINE_ASSESSED) into inbox
 * entries, then announces each new one on NOTIFICATION_CHANNEL for the router's `notificationReceived`.
 *
 * It reads the durable stream DOMAIN_EVENTS_STREAM in the consumer group NOTIFICATIONS_GROUP: each event
 * goes to one instance, is acknowledged once its notification is stored (or it was found a duplicate or
 * invalid), and is delivered again when it was not (at-least-once). Safe with several instances on one
 * database: the event id is claimed in the same transaction as the inbox insert, so each event stores at
 * most one notification, once (see NotificationRepository.applyEvent).
 */
export class NotificationConsumer {
  private stopConsuming: StopConsuming | null = null;
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly claimIdleMs: number;
  readonly consumerName: string;

  constructor(
    private readonly bus: EventBus,
    private readonly notifications: NotificationRepository,
    private readonly logger: Logger,
    options: ConsumerOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 100);
    this.claimIdleMs = Math.max(1, options.claimIdleMs ?? 30_000);
    this.consumerName =
      options.consumerName ?? `notifications-${hostname().replace(/\s/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /** Joins the consumer group; resolves once it exists (events appended before are read too). */
  async start(): Promise<void> {
    if (this.stopConsuming) return;
    this.stopConsuming = await this.bus.consume(
      DOMAIN_EVENTS_STREAM,
      NOTIFICATIONS_GROUP,
      this.consumerName,
      async (message) => {
        try {
          await this.consumeWithRetries(message);
        } catch (err) {
          // Not acknowledged: the stream delivers it again after claimIdleMs (the database may be back).
          this.logger.error({ err, eventId: idOf(message) }, 'could not store a notification for a domain event; it will be redelivered');
          throw err;
        }
      },
      { concurrency: this.concurrency, claimIdleMs: this.claimIdleMs },
    );
  }

  /** Stops reading, then waits for the events being processed (so the database can close after). */
  async stop(): Promise<void> {
    const stop = this.stopConsuming;
    this.stopConsuming = null;
    await stop?.();
  }

  /** Resolves once this instance has caught up with the stream and processes nothing (tests, shutdown). */
  settled(): Promise<void> {
    return this.stopConsuming?.settled() ?? Promise.resolve();
  }

  private async consumeWithRetries(message: unknown): Promise<ConsumeResult> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.consume(message);
      } catch (err) {
        if (attempt >= this.attempts) throw err;
        this.logger.warn({ err, eventId: idOf(message), attempt }, 'storing a notification failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * attempt * attempt));
      }
    }
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
