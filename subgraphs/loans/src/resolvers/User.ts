import { pageSize } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

export const User: UserResolvers = {
  // The users subgraph owns the user; here a reference only carries the id the loans hang off.
  __resolveReference: (ref) => ({ id: ref.id }),
  loans: async (user, args, { clock, loans, loaders }) => {
    const page = await loans.page({
      userId: user.id,
      status: args.status,
      now: clock.now(),
      first: pageSize(args.first),
      after: args.after,
    });
    for (const edge of page.edges) loaders.loan.prime(edge.node.id, edge.node);
    return page;
  },
};
