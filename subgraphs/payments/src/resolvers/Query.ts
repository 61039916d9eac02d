import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  currency: (_parent, _args, { money }) => money.currency,
  // Internal (loans, allow.service): one aggregate statement.
  patronStanding: async (_parent, { userId }, { fines }) => ({ balanceCents: await fines.balanceOf(userId) }),
  fineWaivers: (_parent, args, { fines }) => fines.listWaivers(args),
};
