import { badInput, isUuid, pageSize } from '@shelfwise/kit';
import { MAX_BORROWING_PAIRS } from '../data/LoanRepository.js';
import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  loans: async (_parent, args, { clock, loans, loaders }) => {
    const filter = args.filter ?? {};
    for (const field of ['userId', 'bookId'] as const) {
      const id = filter[field];
      if (id != null && !isUuid(id))
        throw badInput(`"filter.${field}" is not a valid id; pass the id of an existing ${field === 'userId' ? 'user' : 'book'}.`);
    }
    const page = await loans.page({ ...filter, now: clock.now(), first: pageSize(args.first), after: args.after });
    for (const edge of page.edges) loaders.loan.prime(edge.node.id, edge.node);
    return page;
  },
  loanPolicies: (_parent, _args, { policies }) => policies.all(),
  openLoanOf: (_parent, { userId, bookId }, { loans }) => loans.openLoanOf(userId, bookId),
  borrowings: (_parent, { pairs }, { loans }) => {
    if (pairs.length > MAX_BORROWING_PAIRS) throw badInput(`Ask about at most ${MAX_BORROWING_PAIRS} pairs at a time.`);
    return loans.borrowings(pairs);
  },
};
