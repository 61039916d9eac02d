import { allow, type AccessRules } from '@shelfwise/kit';
import type { FineModel, PaymentModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  // A fine is personal: the patron who owes it or staff, whether reached by a list or through `_entities`
  // (where anonymous callers are refused before the lookup, so they cannot probe which ids exist).
  Fine: { '*': allow.ownerOrLibrarian<FineModel>((fine) => fine.userId) },
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
