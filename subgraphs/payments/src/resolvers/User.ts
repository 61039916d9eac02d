import { requireSelfOrRole } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

// Fines, balance and payments are personal: the user themselves or library staff.
export const User: UserResolvers = {
  // The users service owns the user; this service needs only the id (no query here).
  __resolveReference: (ref) => ({ id: ref.id }),
  fines: (user, { status }, { viewer, loaders }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return loaders.finesByUser.load({ userId: user.id, status: status ?? null });
  },
  balanceCents: (user, _args, { viewer, loaders }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return loaders.balance.load(user.id);
  },
  payments: (user, _args, { viewer, loaders }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return loaders.paymentsByUser.load(user.id);
  },
};
