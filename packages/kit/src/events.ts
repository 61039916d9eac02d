/**
 * Channels and message shapes on the event bus that more than one service relies on. A publisher and its
 * subscribers import the names from here, so a renamed channel fails the type-check, not production.
 */

/** Published by books after every change to a book's copies (lent, returned, held, added, withdrawn, lost). */
export const BOOK_AVAILABILITY_CHANNEL = 'books.availability';

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
