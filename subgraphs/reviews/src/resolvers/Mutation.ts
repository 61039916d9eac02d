import { notFound, requireViewer } from '@shelfwise/kit';
import type { MutationResolvers } from '../generated/graphql.js';

export const Mutation: MutationResolvers = {
  // Signed-in users only (access.ts); the author is always the viewer, never an argument.
  writeReview: async (_parent, { input }, { viewer, reviews, services, clock }) => {
    const author = requireViewer(viewer);
    return reviews.create(
      { bookId: input.bookId, authorId: author.userId, rating: input.rating, body: input.body, at: clock.now() },
      async (bookId) => {
        if (!(await services.bookExists(bookId))) {
          throw notFound('There is no book with this id in the catalogue. Use the id of a book from `books` or `book`.');
        }
      },
    );
  },
  // `in` tells an omitted field (left alone) from an explicit null (body: removes the text).
  updateReview: (_parent, { id, input }, { viewer, reviews, clock }) =>
    reviews.update(
      id,
      requireViewer(viewer),
      { ...('rating' in input ? { rating: input.rating } : {}), ...('body' in input ? { body: input.body } : {}) },
      clock.now(),
    ),
  deleteReview: async (_parent, { id, reason }, { viewer, reviews, clock }) => {
    await reviews.delete(id, requireViewer(viewer), reason, clock.now());
    return true;
  },
};
