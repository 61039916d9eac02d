import { randomUUID } from 'node:crypto';
import { appError, conflict, ErrorCode, isUuid, notFound, badInput, type Clock, type Logger, type Role } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';
import type { BooksClient, CopyInfo, HoldsClient, PaymentsClient } from './clients.js';
import { isOverdue, UniqueOpenLoanError, type LoanRepository, type OpenLoan } from './data/LoanRepository.js';
import type { PolicyRepository } from './data/PolicyRepository.js';
import type { LoanModel, LoanPolicyModel } from './mappers.js';
import { daysOverdue, dueDate, overdueFine, renewedDueDate } from './policy.js';

/** The points between saga steps, named for {@link SagaHooks}. */
export type SagaStep = 'intentRecorded' | 'copyAllocated' | 'returnRecorded';

/**
 * Test seam: `afterStep` runs after each named step has been durably recorded, before the next one. A
 * hook that never settles stands for a process that died at that point (what the crash tests do); the
 * production code path is the same with or without it. Never set outside tests.
 */
export interface SagaHooks {
  afterStep?(step: SagaStep, loanId: string): Promise<void>;
}

/** What one reconciler pass did, for logs and tests. */
export interface ReconcileReport {
  /** PENDING borrows finished: books confirmed (or gave) the copy under the same loan id. */
  completed: number;
  /** PENDING borrows books refused on asking again: the intent was removed. */
  dropped: number;
  /** Cancelled borrows whose copy books has now let go. */
  compensated: number;
  /** Loans that took a READY hold's copy whose hold reservations has now marked FULFILLED. */
  holdsFulfilled: number;
  /** Returned loans whose copy is now checked in (handed to a waiting hold or shelved). */
  checkedIn: number;
  /** Returned loans whose fine payments has now recorded. */
  finesSettled: number;
  /** Steps that failed again (the service still down); retried on the next pass. */
  failed: number;
}

export interface CirculationDeps {
  loans: LoanRepository;
  policies: PolicyRepository;
  books: BooksClient;
  payments: PaymentsClient;
  holds: HoldsClient;
  clock: Clock;
  logger: Logger;
  /** How old (service clock) a saga step must be before the reconciler takes it over. */
  sagaStaleMs: number;
  hooks?: SagaHooks;
}

/** Who a borrow is for and what is asked for: a book (self-service) or one copy by barcode (the desk). */
export interface BorrowRequest {
  userId: string;
  /** The role whose loan policy applies. */
  role: Role;
  bookId?: string;
  barcode?: string;
  /** The borrower is the caller (messages say "you") rather than a patron at the desk. */
  self: boolean;
}

/** How many reconciler steps of each kind one pass takes on. */
const RECONCILE_BATCH = 100;

const cents = (amount: number) => `$${(amount / 100).toFixed(2)}`;
const day = (at: Date) => at.toISOString().slice(0, 10);

/** A refusal another service answered with (BOOK_UNAVAILABLE, NOT_FOUND…): a definite no, nothing done. */
function isRefusal(err: unknown): err is GraphQLError {
  const code = err instanceof GraphQLError ? err.extensions.code : undefined;
  return typeof code === 'string' && code !== ErrorCode.SERVICE_UNAVAILABLE && code !== ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * Circulation's commands as sagas over three services (docs/architecture.md, "Circulation sagas"):
 *
 * - Borrow: check the patron's standing (fines from payments; own loans here) → record the intent, a
 *   PENDING loan, under a per-patron lock → ask books for a copy, keyed by the loan id → mark the loan
 *   ACTIVE. A refusal from books removes the intent; a fault cancels it and tells books to let go of
 *   whatever it may have allocated.
 * - Return: mark the loan RETURNED with its fine fixed → check the copy in at books (to the first waiting
 *   hold) → have payments record the fine, keyed by the loan id. The return counts from the first step;
 *   the others are retried by {@link reconcile} until they succeed.
 *
 * Every remote step is keyed by the loan id, so the reconciler can repeat any of them after a crash.
 */
export class Circulation {
  constructor(private readonly deps: CirculationDeps) {}

  private async hook(step: SagaStep, loanId: string): Promise<void> {
    await this.deps.hooks?.afterStep?.(step, loanId);
  }

  /** Lends a copy; refusals carry their code and change nothing anywhere. */
  async borrow(request: BorrowRequest): Promise<LoanModel> {
    const { loans, policies, books, payments, holds, clock } = this.deps;
    const who = request.self ? 'You' : 'This patron';
    const policy = await policies.get(request.role);

    let bookId = request.bookId;
    const barcode = request.barcode ?? null;
    if (barcode !== null) {
      const copy = await books.copyByBarcode(barcode);
      if (!copy) throw notFound(`No copy has the barcode "${barcode}". Check the label and scan it again.`, { field: 'barcode' });
      bookId = copy.book.id;
    }
    if (!bookId || !isUuid(bookId)) throw badInput(`"${bookId ?? ''}" is not a valid book id.`, { field: 'bookId' });

    const balance = await payments.balanceCents(request.userId);
    if (balance > policy.maxBalanceCents) {
      throw appError(
        ErrorCode.PATRON_BLOCKED,
        `${who} owe${request.self ? '' : 's'} ${cents(balance)} in fines, more than the ${cents(policy.maxBalanceCents)} allowed to borrow. ` +
          `Pay at least ${cents(balance - policy.maxBalanceCents)} and try again.`,
        { reason: 'BALANCE_OVER_LIMIT', balanceCents: balance, maxBalanceCents: policy.maxBalanceCents },
      );
    }
    const { ready: hold, waiting } = await holds.standing(request.userId, bookId);
    if (!hold && waiting > 0) {
      // Copies that reach the shelf while holds wait belong to the queue (reservations sets them aside).
      throw appError(
        ErrorCode.BOOK_UNAVAILABLE,
        `${waiting} ${waiting === 1 ? 'person is' : 'people are'} waiting for this book, and copies go to them in turn. ` +
          'Place a hold to join the queue.',
        { waitingHolds: waiting },
      );
    }

    const now = clock.now();
    const id = randomUUID();
    const wanted = bookId;
    try {
      await loans.recordBorrowIntent(
        {
          id,
          userId: request.userId,
          bookId,
          policyRole: request.role,
          requestedBarcode: barcode,
          reservationId: hold?.reservationId ?? null,
          now,
          dueAt: dueDate(now, policy),
        },
        (open) => checkStanding(open, wanted, policy, now, who),
      );
    } catch (err) {
      if (err instanceof UniqueOpenLoanError) throw alreadyBorrowing(who);
      throw err;
    }
    await this.hook('intentRecorded', id);

    let copy: CopyInfo;
    try {
      copy = await books.allocate({
        loanId: id,
        userId: request.userId,
        bookId: barcode === null ? bookId : null,
        barcode,
        reservationId: hold?.reservationId ?? null,
      });
    } catch (err) {
      if (isRefusal(err)) await loans.dropIntent(id);
      else await this.compensate(id);
      throw err;
    }
    await this.hook('copyAllocated', id);
    const loan = await this.complete(id, copy, policy);
    if (!loan) {
      throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'The loan could not be recorded, so nothing was lent. Please try again.');
    }
    await this.fulfillHold(loan);
    return loan;
  }

  /**
   * A loan that took a READY hold's copy closes that hold (FULFILLED). The loan stands either way: when
   * reservations does not answer, the reconciler asks again (the call is keyed and repeatable).
   */
  private async fulfillHold(loan: LoanModel): Promise<boolean> {
    if (loan.reservationId === null || loan.holdFulfilledAt !== null) return true;
    try {
      await this.deps.holds.fulfillHold(loan.reservationId, loan.id);
      await this.deps.loans.markHoldFulfilled(loan.id, this.deps.clock.now());
      return true;
    } catch (err) {
      this.deps.logger.warn({ err, loanId: loan.id }, 'could not mark the hold fulfilled at reservations; the reconciler will retry');
      return false;
    }
  }

  /**
   * Last step of a borrow: PENDING → ACTIVE with the copy books gave. Null when the saga was cancelled
   * meanwhile; books is then told again to let go of the copy (the cancellation may have reached books
   * before this allocation did).
   */
  private async complete(id: string, copy: CopyInfo, policy: LoanPolicyModel): Promise<LoanModel | null> {
    const { loans, clock } = this.deps;
    const now = clock.now();
    const loan = await loans.activate(id, copy, now, dueDate(now, policy));
    if (loan) return loan;
    const row = await loans.sagaRow(id);
    if (row?.status === 'ACTIVE') return row;
    if (row?.status === 'CANCELLED') await this.releaseCopy(row);
    return null;
  }

  /** Gives a borrow up after a fault: the patron's slot is freed at once, books is told to let go. */
  private async compensate(id: string): Promise<void> {
    const { loans, clock } = this.deps;
    if (!(await loans.markCancelled(id, clock.now()))) return;
    const row = await loans.sagaRow(id);
    if (row) await this.releaseCopy(row);
  }

  /** Tells books to let go of a cancelled borrow's copy; on failure the reconciler tries again later. */
  private async releaseCopy(loan: LoanModel): Promise<boolean> {
    try {
      await this.deps.books.cancelAllocation(loan.id);
      await this.deps.loans.markCompensated(loan.id, this.deps.clock.now());
      return true;
    } catch (err) {
      this.deps.logger.warn({ err, loanId: loan.id }, 'could not cancel a loan allocation at books; the reconciler will retry');
      return false;
    }
  }

  /** Returns an active loan: recorded at once; the copy's check-in and the fine follow (retried if down). */
  async returnLoan(loan: LoanModel): Promise<LoanModel> {
    const { loans, policies, clock } = this.deps;
    if (loan.status !== 'ACTIVE') throw alreadyReturned(loan);
    const policy = await policies.get(loan.policyRole);
    const now = clock.now();
    const returned = await loans.markReturned(loan.id, now, overdueFine(loan.dueAt, now, policy));
    if (!returned) throw alreadyReturned((await loans.find(loan.id)) ?? loan);
    await this.hook('returnRecorded', loan.id);
    await this.finishReturn(returned);
    return (await loans.sagaRow(loan.id)) ?? returned;
  }

  /**
   * The remote steps of a return: check the copy in at books (handing it to the first waiting hold) and
   * have payments record the fine. Each is keyed by the loan id and marked done when it answers; a
   * failure is logged and left to the reconciler. Returns which steps finished now.
   */
  async finishReturn(loan: LoanModel): Promise<{ checkedIn: boolean; fineSettled: boolean; failed: number }> {
    const { loans, policies, payments, holds, clock, logger } = this.deps;
    const result = { checkedIn: false, fineSettled: false, failed: 0 };
    if (loan.checkedInAt === null) {
      try {
        // Reservations hands the copy to the first waiting hold (or has books shelve it): a returned copy
        // never passes through AVAILABLE while someone waits, so a walk-in borrower cannot take it.
        const pickupDays = (await policies.get('PATRON')).holdPickupDays;
        await holds.routeReturnedCopy(loan.id, loan.bookId, pickupDays);
        await loans.markCheckedIn(loan.id, clock.now());
        result.checkedIn = true;
      } catch (err) {
        if (isRefusal(err)) {
          // Books has no allocation for this loan (a loan recorded without the saga, e.g. imported):
          // there is no copy out to check in, and asking again would never change that.
          logger.error({ err, loanId: loan.id }, 'books refused the check-in of a returned loan; marking the step done');
          await loans.markCheckedIn(loan.id, clock.now());
          result.checkedIn = true;
        } else {
          result.failed += 1;
          logger.warn({ err, loanId: loan.id }, 'could not check a returned copy in at books; the reconciler will retry');
        }
      }
    }
    if (loan.fineSettledAt === null) {
      try {
        const amountCents = loan.fineCents ?? 0;
        const fine =
          amountCents > 0
            ? await payments.recordOverdueFine({
                loanId: loan.id,
                userId: loan.userId,
                bookId: loan.bookId,
                amountCents,
                daysOverdue: daysOverdue(loan.dueAt, loan.returnedAt ?? clock.now()),
              })
            : null;
        await loans.markFineSettled(loan.id, fine?.id ?? null, clock.now());
        result.fineSettled = true;
      } catch (err) {
        if (isRefusal(err)) {
          // A refusal is an answer, not an outage: repeating the same request would be refused again.
          logger.error({ err, loanId: loan.id, fineCents: loan.fineCents }, 'payments refused the overdue fine of a returned loan');
          await loans.markFineSettled(loan.id, null, clock.now());
          result.fineSettled = true;
        } else {
          result.failed += 1;
          logger.warn({ err, loanId: loan.id }, 'could not record an overdue fine at payments; the reconciler will retry');
        }
      }
    }
    return result;
  }

  /**
   * Renews an active loan under its policy. The new due date is `loanDays` from now, never earlier than
   * the current one (see policy.ts). Refusals in the order a patron can act on them.
   */
  async renew(loan: LoanModel): Promise<LoanModel> {
    const { loans, policies, holds, clock } = this.deps;
    let current = loan;
    // A concurrent renewal of the same loan makes the conditional update miss: look again, at most twice.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (current.status !== 'ACTIVE') throw alreadyReturned(current);
      const policy = await policies.get(current.policyRole);
      const now = clock.now();
      if (isOverdue(current, now)) {
        throw appError(
          ErrorCode.PATRON_BLOCKED,
          `This loan was due on ${day(current.dueAt)}; an overdue loan cannot be renewed. Please return it ` +
            `(the overdue fine so far is ${cents(overdueFine(current.dueAt, now, policy))}).`,
          { reason: 'LOAN_OVERDUE', loanId: current.id },
        );
      }
      if (current.renewalCount >= policy.maxRenewals) {
        throw appError(
          ErrorCode.RENEWAL_LIMIT_REACHED,
          `This loan has been renewed ${current.renewalCount} time${current.renewalCount === 1 ? '' : 's'}, the most allowed. ` +
            `Please return it by ${day(current.dueAt)}; you can borrow it again afterwards.`,
          { maxRenewals: policy.maxRenewals },
        );
      }
      const waiting = await holds.waitingHoldCount(current.bookId);
      if (waiting > 0) {
        throw appError(
          ErrorCode.RENEWAL_BLOCKED_BY_HOLD,
          `${waiting === 1 ? 'Another patron is' : `${waiting} other patrons are`} waiting for this book, so it cannot be renewed. ` +
            `Please return it by ${day(current.dueAt)}.`,
          { waitingHolds: waiting },
        );
      }
      const renewed = await loans.renew(current.id, current.renewalCount, renewedDueDate(current.dueAt, now, policy));
      if (renewed) return renewed;
      const fresh = await loans.find(current.id);
      if (!fresh) break;
      current = fresh;
    }
    throw conflict('The loan changed while it was being renewed. Look at it again and retry.');
  }

  /**
   * One reconciler pass over sagas older than the stale threshold: PENDING borrows are finished by asking
   * books again with the same loan id (it answers with the copy already allocated, or allocates one now —
   * the patron asked to borrow and their slot was held) or dropped if books refuses; cancelled borrows are
   * compensated at books; returns get their check-in and fine. Safe to run in several instances at once:
   * every step is keyed and every state change conditional.
   */
  async reconcile(): Promise<ReconcileReport> {
    const { loans, books, policies, clock, logger, sagaStaleMs } = this.deps;
    const report: ReconcileReport = {
      completed: 0,
      dropped: 0,
      compensated: 0,
      holdsFulfilled: 0,
      checkedIn: 0,
      finesSettled: 0,
      failed: 0,
    };
    const before = new Date(clock.now().getTime() - sagaStaleMs);

    for (const pending of await loans.stalePending(before, RECONCILE_BATCH)) {
      try {
        const copy = await books.allocate({
          loanId: pending.id,
          userId: pending.userId,
          bookId: pending.requestedBarcode === null ? pending.bookId : null,
          barcode: pending.requestedBarcode,
          reservationId: pending.reservationId,
        });
        if (await this.complete(pending.id, copy, await policies.get(pending.policyRole))) report.completed += 1;
      } catch (err) {
        if (isRefusal(err)) {
          if (await loans.dropIntent(pending.id)) report.dropped += 1;
        } else {
          report.failed += 1;
          logger.warn({ err, loanId: pending.id }, 'could not finish a pending borrow; retrying on the next pass');
        }
      }
    }
    for (const cancelled of await loans.uncompensated(before, RECONCILE_BATCH)) {
      if (await this.releaseCopy(cancelled)) report.compensated += 1;
      else report.failed += 1;
    }
    for (const lent of await loans.unfulfilledHolds(before, RECONCILE_BATCH)) {
      if (await this.fulfillHold(lent)) report.holdsFulfilled += 1;
      else report.failed += 1;
    }
    for (const returned of await loans.unfinishedReturns(before, RECONCILE_BATCH)) {
      const done = await this.finishReturn(returned);
      if (done.checkedIn) report.checkedIn += 1;
      if (done.fineSettled) report.finesSettled += 1;
      report.failed += done.failed;
    }
    return report;
  }
}

/**
 * The checks made under the patron's lock, against their open (PENDING or ACTIVE) loans: an overdue
 * loan blocks, the same book twice conflicts, and the open loans may not exceed the policy's limit.
 */
function checkStanding(open: OpenLoan[], bookId: string, policy: LoanPolicyModel, now: Date, who: string): void {
  const overdue = open.find((l) => isOverdue(l, now));
  if (overdue) {
    throw appError(
      ErrorCode.PATRON_BLOCKED,
      `${who} ${who === 'You' ? 'have' : 'has'} an overdue loan (due ${day(overdue.dueAt)}). Return it before borrowing anything else.`,
      { reason: 'LOAN_OVERDUE', loanId: overdue.id },
    );
  }
  if (open.some((l) => l.bookId === bookId)) throw alreadyBorrowing(who);
  if (open.length >= policy.maxActiveLoans) {
    throw appError(
      ErrorCode.LOAN_LIMIT_REACHED,
      policy.maxActiveLoans === 0
        ? 'Loans are not open to this account’s role. Ask the library.'
        : `${who} already ${who === 'You' ? 'have' : 'has'} ${open.length} loan${open.length === 1 ? '' : 's'} out, the most allowed. ` +
            'Return one before borrowing another.',
      { maxActiveLoans: policy.maxActiveLoans },
    );
  }
}

function alreadyBorrowing(who: string): GraphQLError {
  return conflict(`${who} already ${who === 'You' ? 'have' : 'has'} this book on loan. Return it first, or renew that loan.`);
}

function alreadyReturned(loan: LoanModel): GraphQLError {
  return appError(
    ErrorCode.ALREADY_RETURNED,
    `This loan was already returned${loan.returnedAt ? ` on ${day(loan.returnedAt)}` : ''}; there is nothing more to do. Borrow the book again to take it out.`,
  );
}
