import type { CopyResolvers } from '../generated/graphql.js';

export const Copy: CopyResolvers = {
  // The books subgraph owns the copy; its hold-shelf reservation loads by id, batched, with no lookup of the copy.
  __resolveReference: (ref) => ({ id: ref.id }),
  // Staff only (access.ts). The reservation found is primed so `Reservation` fields reached from it reuse it.
  heldFor: async (copy, _args, { loaders }) => {
    const hold = await loaders.heldFor.load(copy.id);
    if (hold) loaders.reservation.prime(hold.id, hold);
    return hold;
  },
};
