import type { ServiceClient } from '@shelfwise/kit';

/**
 * The other services the hold queue talks to, each behind one small typed client. Every books mutation is
 * keyed (loan id or reservation id) and idempotent: a retry answers what the first call did.
 */

/** A copy as books reports it after moving it. */
export interface CopyInfo {
  id: string;
  status: string;
}

/** What reserveBook needs to know about a book. */
export interface BookInfo {
  id: string;
  title: string;
  availableCopies: number;
}

const COPY = 'id status';

/** Books: the catalogue's availability and the hold-shelf operations (internal `@inaccessible` ones). */
export class BooksClient {
  constructor(private readonly client: ServiceClient) {}

  /** The book (null when unknown or removed from the catalogue). */
  async book(id: string): Promise<BookInfo | null> {
    const data = await this.client.call<{ book: BookInfo | null }>(
      'books',
      'query Book($id: ID!) { book(id: $id) { id title availableCopies } }',
      {
        id,
      },
    );
    return data.book;
  }

  /** A loan's copy comes back: to the hold shelf for `handTo`, else to the shelf. Keyed by the loan id. */
  async checkInLoanCopy(loanId: string, handTo: string | null): Promise<CopyInfo> {
    const data = await this.client.call<{ checkInLoanCopy: CopyInfo }>(
      'books',
      `mutation CheckInLoanCopy($loanId: ID!, $hand: ID) { checkInLoanCopy(loanId: $loanId, handToReservationId: $hand) { ${COPY} } }`,
      { loanId, hand: handTo },
    );
    return data.checkInLoanCopy;
  }

  /** Puts a free copy on the hold shelf for the reservation (keyed by its id); null when none is free. */
  async allocateCopyForHold(reservationId: string, bookId: string, userId: string | null): Promise<CopyInfo | null> {
    const data = await this.client.call<{ allocateCopyForHold: CopyInfo | null }>(
      'books',
      `mutation AllocateCopyForHold($r: ID!, $b: ID!, $u: ID) { allocateCopyForHold(reservationId: $r, bookId: $b, userId: $u) { ${COPY} } }`,
      { r: reservationId, b: bookId, u: userId },
    );
    return data.allocateCopyForHold;
  }

  /** An ended hold's copy goes to `handTo`'s hold, else the shelf; null when the hold had no copy. */
  async releaseHoldCopy(reservationId: string, handTo: string | null): Promise<CopyInfo | null> {
    const data = await this.client.call<{ releaseHoldCopy: CopyInfo | null }>(
      'books',
      `mutation ReleaseHoldCopy($r: ID!, $hand: ID) { releaseHoldCopy(reservationId: $r, handToReservationId: $hand) { ${COPY} } }`,
      { r: reservationId, hand: handTo },
    );
    return data.releaseHoldCopy;
  }

  /**
   * Asks books to publish the book's availability event with its current counts (its internal
   * `announceAvailability`): the hold queue's length changed though no copy may have moved, and
   * `bookAvailabilityChanged` subscribers read `Book.holdQueueLength` when that event reaches them.
   * False when books does not know the book.
   */
  async announceAvailability(bookId: string): Promise<boolean> {
    const data = await this.client.call<{ announceAvailability: boolean }>(
      'books',
      'mutation AnnounceAvailability($b: ID!) { announceAvailability(bookId: $b) }',
      { b: bookId },
    );
    return data.announceAvailability;
  }
}

/** Whether a patron has a book on loan right now (reserveBook refuses a hold on a book they hold). */
export interface ActiveLoans {
  hasActiveLoan(userId: string, bookId: string): Promise<boolean>;
}

/** Loans, asked whether the patron has the book on loan now (its internal `openLoanOf`). */
export class LoansClient implements ActiveLoans {
  constructor(private readonly client: ServiceClient) {}

  async hasActiveLoan(userId: string, bookId: string): Promise<boolean> {
    const data = await this.client.call<{ openLoanOf: string | null }>(
      'loans',
      'query OpenLoanOf($userId: ID!, $bookId: ID!) { openLoanOf(userId: $userId, bookId: $bookId) }',
      { userId, bookId },
    );
    return data.openLoanOf !== null;
  }
}
