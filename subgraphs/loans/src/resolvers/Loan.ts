import { isOverdue } from '../data/LoanRepository.js';
import type { LoanResolvers } from '../generated/graphql.js';

export const Loan: LoanResolvers = {
  // Who may see a loan is declared in access.ts (its borrower or staff, checked on the loan found).
  __resolveReference: (ref, { loaders }) => loaders.loan.load(ref.id),
  user: (loan) => ({ id: loan.userId }),
  book: (loan) => ({ id: loan.bookId }),
  copy: (loan) => ({ id: loan.copyId }),
  overdue: (loan, _args, { clock }) => isOverdue(loan, clock.now()),
};
