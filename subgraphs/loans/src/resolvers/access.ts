import { allow, type AccessRules } from '@shelfwise/kit';
import type { LoanModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  Query: {
    loans: allow.librarian,
    loanPolicies: allow.signedIn,
    // Internal (@inaccessible): the reviews service asks whether reviewers borrowed the book.
    borrowings: allow.service,
    openLoanOf: allow.service,
  },
  Mutation: {
    // Anyone signed in borrows for themselves, under their own role's policy.
    borrowBook: allow.signedIn,
    checkOutCopy: allow.librarian,
    // The borrower or staff: the resolver checks the owner on the loan found (the argument is a loan id).
    returnLoan: allow.signedIn,
    renewLoan: allow.signedIn,
    checkInCopy: allow.librarian,
    updateLoanPolicy: allow.admin,
  },
  // A loan is personal data: its borrower or staff, whether reached by a list or through `_entities`.
  Loan: { '*': allow.ownerOrLibrarian<LoanModel>((loan) => loan.userId) },
  User: {
    __resolveReference: allow.public,
    id: allow.public,
    loans: allow.ownerOrLibrarian<UserModel>((user) => user.id),
  },
  LoanPolicy: { '*': allow.signedIn },
  // Pages and references carry nothing of their own: the field that returns them decides.
  LoanConnection: { '*': allow.public },
  LoanEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
  Book: { '*': allow.public },
  Copy: { '*': allow.public },
};
