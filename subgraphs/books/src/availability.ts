import { BOOK_AVAILABILITY_CHANNEL, type BookAvailabilityEvent, type Clock, type EventBus, type Logger } from '@shelfwise/kit';
import type { BookCounts } from './data/BookRepository.js';

/**
 * Announces a book's availability after every committed change to its copies (lent, returned, put on or
 * taken off the hold shelf, added, withdrawn, lost), on {@link BOOK_AVAILABILITY_CHANNEL}: the router
 * pushes it to `bookAvailabilityChanged` subscribers and other services may react to it.
 *
 * This is the one place that publishes, so a durable outbox can replace it without touching the callers.
 * TODO(outbox issue): write the event in the same transaction and relay it, so a crash between commit and
 * publish cannot lose it. Until then delivery is best effort: a failed publish is logged and never fails
 * the command that already committed.
 */
export class AvailabilityPublisher {
  constructor(
    /** Fresh counts for one book, read after the commit (the same grouped count `totalCopies` uses). */
    private readonly counts: (bookId: string) => Promise<BookCounts>,
    private readonly bus: EventBus | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Publishes the current counts of each book (once per book). Never throws. */
  async bookChanged(...bookIds: string[]): Promise<void> {
    if (!this.bus) return;
    const bus = this.bus;
    await Promise.all(
      [...new Set(bookIds)].map(async (bookId) => {
        try {
          // `at` is taken before the counts are read: a later `at` means counts read from a later snapshot,
          // so a subscriber can drop an event older than the last one it saw for the book (two commits
          // close together may publish out of order).
          const at = this.clock.now().toISOString();
          const { total, available } = await this.counts(bookId);
          const event: BookAvailabilityEvent = { bookId, availableCopies: available, totalCopies: total, at };
          await bus.publish(BOOK_AVAILABILITY_CHANNEL, event);
        } catch (err) {
          this.logger.error({ err, bookId }, 'could not publish book availability; live subscribers miss this change');
        }
      }),
    );
  }
}
