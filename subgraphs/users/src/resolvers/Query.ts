import { isUuid, pageSize } from '@shelfwise/kit';
import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  me: (_parent, _args, { viewer, loaders }) => (viewer ? loaders.user.load(viewer.userId) : null),
  user: (_parent, { id }, { loaders }) => loaders.user.load(id),
  users: async (_parent, args, { users, loaders }) => {
    const page = await users.search({ search: args.search, first: pageSize(args.first), after: args.after });
    for (const edge of page.edges) loaders.user.prime(edge.node.id, edge.node);
    return page;
  },
  now: (_parent, _args, { clock }) => clock.now(),
  circulationAccount: async (_parent, { id }, { loaders }) => {
    if (!isUuid(id)) return null;
    const user = await loaders.user.load(id);
    return user ? { id: user.id, role: user.role } : null;
  },
};
