import type { UserResolvers } from '../generated/graphql.js';

// Fines, balance and payments are personal: access.ts lets only the user themselves or library staff see them.
export const User: UserResolvers = {
  // The users service owns the user; this service needs only the id (no query here).
  __resolveReference: (ref) => ({ id: ref.id }),
  fines: (user, { status }, { loaders }) => loaders.finesByUser.load({ userId: user.id, status: status ?? null }),
  balanceCents: (user, _args, { loaders }) => loaders.balance.load(user.id),
  payments: (user, _args, { loaders }) => loaders.paymentsByUser.load(user.id),
};
