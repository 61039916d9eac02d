import type { FineResolvers } from '../generated/graphql.js';

export const Fine: FineResolvers = {
  // Who may see a fine is declared in access.ts (its owner or staff, checked on the fine found).
  __resolveReference: (ref, { loaders }) => loaders.fine.load(ref.id),
  user: (fine) => ({ id: fine.userId }),
  loan: (fine) => (fine.loanId ? { id: fine.loanId } : null),
  waiver: (fine, _args, { loaders }) => (fine.status === 'WAIVED' ? loaders.waiverByFine.load(fine.id) : null),
};
