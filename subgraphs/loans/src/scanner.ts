import { DUE_SOON_MAX_DAYS, relayOutbox, type Clock, type EventBus, type Logger } from '@shelfwise/kit';
import type { EventRepository } from './data/EventRepository.js';

/** What one scan did. */
export interface ScanReport {
  /** Events recorded by this scan (new ids only). */
  recorded: number;
  /** Events published by this scan (its own and any left unpublished by an earlier one). */
  published: number;
}

/** How many events one publish transaction carries. */
const PUBLISH_BATCH = 100;

/**
 * The due-date scanner. Each scan, on the service clock:
 *
 * - OVERDUE for every ACTIVE loan past its due time — id `OVERDUE:<loanId>`, so once per loan;
 * - DUE_SOON for every ACTIVE loan due within DUE_SOON_MAX_DAYS days — id `DUE_SOON:<loanId>:<dueAt>:<daysLeft>` (a renewal's new due date gets its own reminder),
 *   `daysLeft` the whole days left rounded up (1 = due within 24 hours), data `{ dueAt, daysLeft }`; the
 *   notifications service keeps the first one within the patron's preference (kit events.ts).
 *
 * Events go through the outbox (EventRepository) to the domain events stream and channel (kit relayOutbox): recorded with
 * their deterministic id (a second scan, or a second instance, records nothing new), then published
 * under row locks, so two instances never publish one event twice.
 */
export class DueDateScanner {
  constructor(
    private readonly events: EventRepository,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async scanOnce(): Promise<ScanReport> {
    const now = this.clock.now();
    const recorded = await this.events.recordDueEvents(now, DUE_SOON_MAX_DAYS);
    const published = await relayOutbox({
      bus: this.bus,
      limit: PUBLISH_BATCH,
      batch: (limit, publish) => this.events.publishPending(limit, publish, now),
      logger: this.logger,
    });
    if (recorded > 0 || published > 0) this.logger.info({ recorded, published }, 'due-date scan');
    return { recorded, published };
  }
}
