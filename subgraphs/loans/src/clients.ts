import type { Role, ServiceClient } from '@shelfwise/kit';

/**
 * The other services circulation talks to, each behind one small typed client so the sagas read as steps
 * and every internal call lives in one place. Every mutation is keyed by the loan id: the other service
 * answers a repeated call with the result of the first, so a retry never allocates, checks in or charges
 * twice. A domain refusal (BOOK_UNAVAILABLE…) arrives with its code; a fault as SERVICE_UNAVAILABLE.
 */

/** A copy as books describes it to circulation. */
export interface CopyInfo {
  id: string;
  barcode: string;
  status: string;
  book: { id: string };
}

const COPY = 'id barcode status book { id }';

export interface AllocateRequest {
  loanId: string;
  userId: string;
  /** Any free copy of this book… */
  bookId?: string | null;
  /** …or exactly this copy (the desk). */
  barcode?: string | null;
  /** The patron's READY hold whose hold-shelf copy this loan takes. */
  reservationId?: string | null;
}

/** Books: copies and their allocation to loans (internal `@inaccessible` operations of the books subgraph). */
export class BooksClient {
  constructor(private readonly client: ServiceClient) {}

  /** The copy with this barcode, or null when no copy has it. */
  async copyByBarcode(barcode: string): Promise<CopyInfo | null> {
    const data = await this.client.call<{ copyByBarcode: CopyInfo | null }>(
      'books',
      `query CopyByBarcode($barcode: String!) { copyByBarcode(barcode: $barcode) { ${COPY} } }`,
      { barcode },
    );
    return data.copyByBarcode;
  }

  /** Lends a copy for `loanId` (the idempotency key): the same loan id again gets the same copy. */
  async allocate(request: AllocateRequest): Promise<CopyInfo> {
    const data = await this.client.call<{ allocateCopyForLoan: CopyInfo }>(
      'books',
      `mutation AllocateCopyForLoan($loanId: ID!, $userId: ID!, $bookId: ID, $barcode: String, $reservationId: ID) {
        allocateCopyForLoan(input: { loanId: $loanId, userId: $userId, bookId: $bookId, barcode: $barcode, reservationId: $reservationId }) { ${COPY} }
      }`,
      {
        loanId: request.loanId,
        userId: request.userId,
        bookId: request.bookId ?? null,
        barcode: request.barcode ?? null,
        reservationId: request.reservationId ?? null,
      },
    );
    return data.allocateCopyForLoan;
  }

  /** Compensation: lets go of whatever copy `loanId` was given (nothing when none was). */
  async cancelAllocation(loanId: string): Promise<boolean> {
    const data = await this.client.call<{ cancelLoanAllocation: boolean }>(
      'books',
      'mutation CancelLoanAllocation($loanId: ID!) { cancelLoanAllocation(loanId: $loanId) }',
      { loanId },
    );
    return data.cancelLoanAllocation;
  }
}

export interface OverdueFineRequest {
  loanId: string;
  userId: string;
  bookId: string;
  amountCents: number;
  daysOverdue: number;
}

/** Users: whether an account exists and its role (which picks the loan policy). */
export class UsersClient {
  constructor(private readonly client: ServiceClient) {}

  /** The account's id and role, or null when no account has this id. */
  async account(userId: string): Promise<{ id: string; role: Role } | null> {
    const data = await this.client.call<{ circulationAccount: { id: string; role: Role } | null }>(
      'users',
      'query CirculationAccount($id: ID!) { circulationAccount(id: $id) { id role } }',
      { id: userId },
    );
    return data.circulationAccount;
  }
}

/** Payments: a patron's open balance, and overdue fines keyed by loan. */
export class PaymentsClient {
  constructor(private readonly client: ServiceClient) {}

  /** What the patron owes in open fines, in cents. */
  async balanceCents(userId: string): Promise<number> {
    const data = await this.client.call<{ patronStanding: { balanceCents: number } }>(
      'payments',
      'query PatronStanding($userId: ID!) { patronStanding(userId: $userId) { balanceCents } }',
      { userId },
    );
    return data.patronStanding.balanceCents;
  }

  /** Records the loan's overdue fine; the same loan again returns the fine already recorded. */
  async recordOverdueFine(request: OverdueFineRequest): Promise<{ id: string; amountCents: number } | null> {
    const data = await this.client.call<{ recordOverdueFine: { id: string; amountCents: number } | null }>(
      'payments',
      `mutation RecordOverdueFine($loanId: ID!, $userId: ID!, $bookId: ID!, $amountCents: Int!, $daysOverdue: Int!) {
        recordOverdueFine(input: { loanId: $loanId, userId: $userId, bookId: $bookId, amountCents: $amountCents, daysOverdue: $daysOverdue }) { id amountCents }
      }`,
      { ...request },
    );
    return data.recordOverdueFine;
  }
}

/** A hold (reservation) as circulation needs to know it. */
export interface HoldRef {
  reservationId: string;
}

/**
 * Holds, owned by the reservations subgraph. The one place circulation asks about them:
 *
 * - `waitingHoldCount` (renewals are refused while others wait) asks reservations' internal
 *   `waitingHoldCount(bookId)`.
 * - `routeReturnedCopy`: a returned copy goes to the first WAITING hold of its book (reservations asks
 *   books to check it in onto the hold shelf and makes the hold READY) or back on the shelf — keyed by
 *   the loan id, so the reconciler can repeat it.
 * - `standing` (`readyHoldFor` + `waitingHoldCount`) / `fulfillHold`: a patron borrowing the copy set aside
 *   for them takes exactly that copy (books' allocation by reservation id), and the hold becomes FULFILLED
 *   once the loan is recorded; anyone else is refused while holds wait, so a copy that reaches the shelf
 *   (a new one, before reservations sets it aside) goes to the queue, not to a walk-in.
 */
export class HoldsClient {
  constructor(private readonly client: ServiceClient) {}

  /** How many holds wait for a copy of `bookId`. */
  async waitingHoldCount(bookId: string): Promise<number> {
    const data = await this.client.call<{ waitingHoldCount: number }>(
      'reservations',
      'query WaitingHoldCount($bookId: ID!) { waitingHoldCount(bookId: $bookId) }',
      { bookId },
    );
    return data.waitingHoldCount;
  }

  /**
   * A returned copy: reservations hands it to the first WAITING hold of the book (READY, on the hold
   * shelf, the holder notified) or has books put it back on the shelf. Keyed by the loan id.
   */
  async routeReturnedCopy(loanId: string, bookId: string, pickupDays: number): Promise<{ copyId: string; reservationId: string | null }> {
    const data = await this.client.call<{ routeReturnedCopy: { copyId: string; reservationId: string | null } }>(
      'reservations',
      `mutation RouteReturnedCopy($loanId: ID!, $bookId: ID!, $pickupDays: Int) {
        routeReturnedCopy(loanId: $loanId, bookId: $bookId, pickupDays: $pickupDays) { copyId reservationId }
      }`,
      { loanId, bookId, pickupDays },
    );
    return data.routeReturnedCopy;
  }

  /**
   * Where the patron stands in the book's queue, in one call: their READY hold (whose hold-shelf copy a
   * borrow takes), and how many holds are WAITING for a copy.
   */
  async standing(userId: string, bookId: string): Promise<{ ready: HoldRef | null; waiting: number }> {
    const data = await this.client.call<{ readyHoldFor: string | null; waitingHoldCount: number }>(
      'reservations',
      'query HoldStanding($userId: ID!, $bookId: ID!) { readyHoldFor(userId: $userId, bookId: $bookId) waitingHoldCount(bookId: $bookId) }',
      { userId, bookId },
    );
    return { ready: data.readyHoldFor ? { reservationId: data.readyHoldFor } : null, waiting: data.waitingHoldCount };
  }

  /** The hold's copy was lent on `loanId`: the hold becomes FULFILLED (repeatable). */
  async fulfillHold(reservationId: string, loanId: string): Promise<void> {
    await this.client.call<{ fulfillHold: boolean }>(
      'reservations',
      'mutation FulfillHold($reservationId: ID!, $loanId: ID!) { fulfillHold(reservationId: $reservationId, loanId: $loanId) }',
      { reservationId, loanId },
    );
  }
}
