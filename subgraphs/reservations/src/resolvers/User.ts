import { pageSize } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

export const User: UserResolvers = {
  // The users subgraph owns the user; here a reference only carries the id the reservations hang off.
  __resolveReference: (ref) => ({ id: ref.id }),
  reservations: async (user, args, { reservations, loaders }) => {
    const page = await reservations.page({ userId: user.id, status: args.status, first: pageSize(args.first), after: args.after });
    for (const edge of page.edges) loaders.reservation.prime(edge.node.id, edge.node);
    return page;
  },
};
