import { pageSize } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

export const User: UserResolvers = {
  // The users subgraph owns the user; here a reference only carries the id the loans hang off.
  __resolveReference: (ref) => ({ id: ref.id }),
  // Batched: `_entities` with many users costs the same few statements as one (LoanRepository.userLoansLoader).
  loans: async (user, args, { loaders }) => {
    const page = await loaders.userLoans.load({
      userId: user.id,
      status: args.status ?? null,
      first: pageSize(args.first),
      after: args.after ?? null,
    });
    for (const edge of page.edges) loaders.loan.prime(edge.node.id, edge.node);
    return page;
  },
};
