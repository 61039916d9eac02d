import { requireViewer } from '@shelfwise/kit';
import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  // Someone else's notification answers null, as an unknown id does: the answer never tells them apart.
  notification: async (_parent, { id }, { viewer, loaders }) => {
    const found = await loaders.notification.load(id);
    return found && found.userId === requireViewer(viewer).userId ? found : null;
  },
};
