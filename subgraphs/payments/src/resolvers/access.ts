import { allow, type AccessRules } from '@shelfwise/kit';
import type { FineModel, FineWaiverModel, PaymentModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  Query: {
    // Which currency amounts are in is no secret: the catalogue app shows prices before anyone signs in.
    currency: allow.public,
    // Internal (@inaccessible): loans asks for a patron's balance before lending.
    patronStanding: allow.service,
    fineWaivers: allow.librarian,
  },
  Mutation: {
    // Internal (@inaccessible): loans records the overdue fine of a late return.
    recordOverdueFine: allow.service,
    assessFine: allow.librarian,
    waiveFine: allow.librarian,
    // Any signed-in user, for their own fines only: the resolver pays as the viewer, never as an argument.
    payFines: allow.signedIn,
    recordDeskPayment: allow.librarian,
  },
  PatronStanding: { '*': allow.service },
  // A fine is personal: the patron who owes it or staff, whether reached by a list or through `_entities`
  // (where anonymous callers are refused before the lookup, so they cannot probe which ids exist).
  Fine: { '*': allow.ownerOrLibrarian<FineModel>((fine) => fine.userId) },
  // A waiver follows the fine it cancelled.
  FineWaiver: { '*': allow.ownerOrLibrarian<FineWaiverModel>((waiver) => waiver.userId) },
  // The audit trail as a list is staff's (Query.fineWaivers).
  FineWaiverConnection: { '*': allow.librarian },
  FineWaiverEdge: { '*': allow.librarian },
  PageInfo: { '*': allow.public },
  // A payment follows its payer (it only settles that payer's own fines).
  Payment: { '*': allow.ownerOrLibrarian<PaymentModel>((payment) => payment.userId) },
  // A user reference is only an id; fines, balance and payments are the user's own or staff's.
  User: {
    __resolveReference: allow.public,
    id: allow.public,
    fines: allow.ownerOrLibrarian<UserModel>((user) => user.id),
    balanceCents: allow.ownerOrLibrarian<UserModel>((user) => user.id),
    payments: allow.ownerOrLibrarian<UserModel>((user) => user.id),
  },
  // A reference to the loans subgraph's entity: only an id, and only reachable from a fine.
  Loan: { '*': allow.public },
};
