import type { ReviewConnectionResolvers } from '../generated/graphql.js';

export const ReviewConnection: ReviewConnectionResolvers = {
  // A book's total is its running reviewCount; an author's is one grouped count. Both only when selected.
  totalCount: async ({ owner }, _args, { loaders }) =>
    owner.kind === 'book' ? (await loaders.rating.load(owner.id)).reviewCount : loaders.authorReviewCount.load(owner.id),
};
