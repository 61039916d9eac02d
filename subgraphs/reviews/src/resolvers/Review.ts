import type { ReviewResolvers } from '../generated/graphql.js';

export const Review: ReviewResolvers = {
  // Reviews are public catalogue content (access.ts): no viewer check.
  __resolveReference: (ref, { loaders }) => loaders.review.load(ref.id),
  book: (review) => ({ id: review.bookId }),
  author: (review) => ({ id: review.authorId }),
  // One internal call to loans for every review in the response (the loader batches them).
  verifiedBorrower: (review, _args, { loaders }) => loaders.borrowed.load({ userId: review.authorId, bookId: review.bookId }),
};
