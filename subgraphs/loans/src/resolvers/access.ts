import { allow, type AccessRules } from '@shelfwise/kit';
import type { LoanModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  Query: {
    loans: allow.librarian,
    loanPolicies: allow.signedIn,
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
