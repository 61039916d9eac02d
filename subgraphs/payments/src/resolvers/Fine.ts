import { requireSelfOrRole, requireViewer } from '@shelfwise/kit';
import type { FineResolvers } from '../generated/graphql.js';

export const Fine: FineResolvers = {
  // A fine is personal: resolved for its owner or library staff only, even through _entities.
  __resolveReference: async (ref, { viewer, loaders }) => {
    requireViewer(viewer);
    const fine = await loaders.fine.load(ref.id);
    if (fine) requireSelfOrRole(viewer, fine.userId, 'LIBRARIAN');
    return fine;
  },
  user: (fine) => ({ id: fine.userId }),
  loan: (fine) => (fine.loanId ? { id: fine.loanId } : null),
};
