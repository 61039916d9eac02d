import { pageSize } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

export const User: UserResolvers = {
  // Only the id is needed: the reviews batch through a loader.
  __resolveReference: (ref) => ({ id: ref.id }),
  reviews: (user, args, { loaders }) =>
    loaders.authorReviews({ sort: 'NEWEST', first: pageSize(args.first), after: args.after }).load(user.id),
};
