import {
  DOMAIN_EVENTS_CHANNEL,
  FINE_ASSESSED_CHANNEL,
  isDomainEvent,
  isFineAssessedEvent,
  isUuid,
  NOTIFICATION_CHANNEL,
  type DomainEvent,
  type EventBus,
  type FineAssessedEvent,
  type Logger,
  type NotificationCreatedEvent,
} from '@shelfwise/kit';
import type { EventResult, NotificationRepository } from './data/NotificationRepository.js';
import { planNotification } from './messages.js';

/** Longest event id accepted (ids are UUIDs or keys such as `DUE_SOON:<loanId>:<daysLeft>`). */
const MAX_EVENT_ID_LENGTH = 200;

export interface ConsumerOptions {
  /**
   * Events processed at once (each holds a database connection for its transaction). Bursts wait in a
   * queue instead of exhausting the pool. Default 4.
   */
  concurrency?: number;
  /** Events waiting beyond this are dropped with an error logged (a stuck database must not eat memory). Default 10,000. */
  maxBacklog?: number;
  /** Tries per event when the database fails (a retry is safe: a failed attempt records nothing). Default 3. */
  attempts?: number;
  /** Pause before retry n is n² times this. Default 100 ms. */
  retryDelayMs?: number;
}

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
  private unsubscribers: (() => Promise<void>)[] | null = null;
  private readonly queue: unknown[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxBacklog: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly bus: EventBus,
    private readonly notifications: NotificationRepository,
    private readonly logger: Logger,
    options: ConsumerOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxBacklog = Math.max(1, options.maxBacklog ?? 10_000);
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 100);
  }

  /**
   * Subscribes to the domain events channel, and to payments' own FINE_ASSESSED_CHANNEL (whose messages
   * are read as the FINE_ASSESSED domain event they stand for); resolves once both are active.
   */
  async start(): Promise<void> {
    if (this.unsubscribers) return;
    const unsubscribers: (() => Promise<void>)[] = [];
    try {
      unsubscribers.push(await this.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => this.enqueue(message)));
      unsubscribers.push(
        await this.bus.subscribe(FINE_ASSESSED_CHANNEL, (message) =>
          this.enqueue(isFineAssessedEvent(message) ? fineAssessedAsDomainEvent(message) : message),
        ),
      );
    } catch (err) {
      await Promise.allSettled(unsubscribers.map((unsubscribe) => unsubscribe()));
      throw err;
    }
    this.unsubscribers = unsubscribers;
  }

  /** Unsubscribes, then waits for the events already received to be processed (so the database can close after). */
  async stop(): Promise<void> {
    const unsubscribers = this.unsubscribers ?? [];
    this.unsubscribers = null;
    await Promise.allSettled(unsubscribers.map((unsubscribe) => unsubscribe()));
    await this.settled();
  }

  /** Resolves once no received event is waiting or being processed (tests, shutdown). */
  settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(message: unknown): void {
    if (this.queue.length >= this.maxBacklog) {
      this.logger.error({ eventId: idOf(message), backlog: this.queue.length }, 'dropped a domain event: too many waiting to be stored');
      return;
    }
    this.queue.push(message);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const message = this.queue.shift();
      this.running += 1;
      void this.consumeWithRetries(message)
        .catch((err: unknown) => {
          // Pub/sub will not redeliver: the event is lost for the inbox (a durable stream would retry it).
          this.logger.error({ err, eventId: idOf(message) }, 'could not store a notification for a domain event');
        })
        .finally(() => {
          this.running -= 1;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
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

/**
 * A fine announced on payments' FINE_ASSESSED_CHANNEL as the domain event it stands for. Its id is keyed by
 * the fine (and so is the notification's onceKey), so the same fine announced again — or on both channels —
 * notifies once.
 */
export function fineAssessedAsDomainEvent(event: FineAssessedEvent): DomainEvent {
  return {
    id: `FINE_ASSESSED:${event.fineId}`,
    type: 'FINE_ASSESSED',
    userId: event.userId,
    occurredAt: event.at,
    source: 'payments',
    fineId: event.fineId,
    loanId: event.loanId ?? null,
    bookId: event.bookId ?? null,
    data: { amountCents: event.amountCents, currency: event.currency, reason: event.reason, daysOverdue: event.daysOverdue ?? null },
  };
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
