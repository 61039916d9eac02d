import { pageSize } from '@shelfwise/kit';
import { averageRating } from '../data/ReviewRepository.js';
import type { BookResolvers } from '../generated/graphql.js';

export const Book: BookResolvers = {
  // Only the id is needed: every field below batches through a loader.
  __resolveReference: (ref) => ({ id: ref.id }),
  reviews: (book, args, { loaders }) =>
    loaders.bookReviews({ sort: args.sort ?? 'NEWEST', first: pageSize(args.first), after: args.after }).load(book.id),
  averageRating: async (book, _args, { loaders }) => averageRating(await loaders.rating.load(book.id)),
  reviewCount: async (book, _args, { loaders }) => (await loaders.rating.load(book.id)).reviewCount,
};
