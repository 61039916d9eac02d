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

  /** The loan's copy comes back: to the hold shelf for `handToReservationId`, else to the shelf. */
  async checkIn(loanId: string, handToReservationId: string | null): Promise<CopyInfo> {
    const data = await this.client.call<{ checkInLoanCopy: CopyInfo }>(
      'books',
      `mutation CheckInLoanCopy($loanId: ID!, $hand: ID) { checkInLoanCopy(loanId: $loanId, handToReservationId: $hand) { ${COPY} } }`,
      { loanId, hand: handToReservationId },
    );
    return data.checkInLoanCopy;
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
 * - `firstWaitingHold` (a returned copy goes to the first waiting hold) and `readyHoldFor` (a patron
 *   borrowing the copy set aside for them) are SEAMS for the holds issue (#6): they answer null until
 *   reservations offers the internal operations to ask, so for now a returned copy always goes back on
 *   the shelf and a borrow never takes a hold-shelf copy. Nothing here pretends holds exist.
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

  /** TODO(#6): the first WAITING hold of `bookId`, to hand a returned copy to. Null until holds land. */
  async firstWaitingHold(_bookId: string): Promise<HoldRef | null> {
    return null;
  }

  /** TODO(#6): the patron's READY hold on `bookId`, whose hold-shelf copy a borrow takes. Null until holds land. */
  async readyHoldFor(_userId: string, _bookId: string): Promise<HoldRef | null> {
    return null;
  }
}
