import { requireSelfOrRole, requireViewer } from '@shelfwise/kit';
import { isOverdue } from '../data/LoanRepository.js';
import type { LoanResolvers } from '../generated/graphql.js';

export const Loan: LoanResolvers = {
  // A loan reached through the router (`_entities`) is personal data: only its borrower or staff may see it.
  // Anonymous callers are refused before the lookup, so they cannot probe which loan ids exist.
  __resolveReference: async (ref, { viewer, loaders }) => {
    requireViewer(viewer);
    const loan = await loaders.loan.load(ref.id);
    if (loan) requireSelfOrRole(viewer, loan.userId, 'LIBRARIAN');
    return loan;
  },
  user: (loan) => ({ id: loan.userId }),
  book: (loan) => ({ id: loan.bookId }),
  copy: (loan) => ({ id: loan.copyId }),
  overdue: (loan, _args, { clock }) => isOverdue(loan, clock.now()),
};
