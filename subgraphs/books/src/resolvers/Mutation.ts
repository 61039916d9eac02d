import type { MutationResolvers } from '../generated/graphql.js';
import { copyCount, validateBookChanges, validateNewBook } from '../bookInput.js';

/**
 * Catalogue commands (librarian) and the internal inventory operations circulation calls with a service
 * credential (`@inaccessible`). Who may call which is declared in access.ts; the repositories do the work.
 */
export const Mutation: MutationResolvers = {
  addBook: (_parent, { input }, { catalog, clock }) => catalog.addBook(validateNewBook(input, clock.now())),
  updateBook: (_parent, { id, input }, { catalog, clock }) => catalog.updateBook(id, validateBookChanges(input, clock.now())),
  removeBook: (_parent, { id }, { catalog }) => catalog.removeBook(id),
  addCopies: (_parent, { bookId, count }, { catalog }) => catalog.addCopies(bookId, copyCount(count, 1, 'count')),
  withdrawCopy: (_parent, { copyId }, { catalog }) => catalog.withdrawCopy(copyId),
  markCopyLost: (_parent, { copyId }, { catalog }) => catalog.markCopyLost(copyId),

  allocateCopyForLoan: (_parent, { input }, { inventory }) => inventory.allocateForLoan(input),
  cancelLoanAllocation: (_parent, { loanId }, { inventory }) => inventory.cancelLoanAllocation(loanId),
  checkInLoanCopy: (_parent, { loanId, handToReservationId }, { inventory }) => inventory.checkInLoanCopy(loanId, handToReservationId),
  allocateCopyForHold: (_parent, { reservationId, bookId, userId }, { inventory }) =>
    inventory.allocateForHold(reservationId, bookId, userId),
  releaseHoldCopy: (_parent, { reservationId, handToReservationId }, { inventory }) =>
    inventory.releaseHoldCopy(reservationId, handToReservationId),
  announceAvailability: (_parent, { bookId }, { inventory }) => inventory.announceAvailability(bookId),
};
