import type { BookResolvers } from '../generated/graphql.js';

export const Book: BookResolvers = {
  // The books subgraph owns the book; the queue length loads by id, batched, with no lookup of the book.
  __resolveReference: (ref) => ({ id: ref.id }),
  // The queue length is catalogue information, public like availability.
  holdQueueLength: (book, _args, { loaders }) => loaders.holdQueueLength.load(book.id),
};
