import { isOverdue } from '../data/LoanRepository.js';
import type { LoanResolvers } from '../generated/graphql.js';
import { overdueFine } from '../policy.js';

export const Loan: LoanResolvers = {
  // Who may see a loan is declared in access.ts (its borrower or staff, checked on the loan found).
  __resolveReference: (ref, { loaders }) => loaders.loan.load(ref.id),
  user: (loan) => ({ id: loan.userId }),
  book: (loan) => ({ id: loan.bookId }),
  // A visible loan always has its copy: copyId is only null while the borrow is PENDING (never shown).
  copy: (loan) => ({ id: loan.copyId ?? '' }),
  status: (loan) => (loan.status === 'RETURNED' ? 'RETURNED' : 'ACTIVE'),
  overdue: (loan, _args, { clock }) => isOverdue(loan, clock.now()),
  fineCents: async (loan, _args, { clock, loaders }) => {
    if (loan.status === 'RETURNED') return loan.fineCents ?? 0;
    return overdueFine(loan.dueAt, clock.now(), await loaders.policy.load(loan.policyRole));
  },
};
