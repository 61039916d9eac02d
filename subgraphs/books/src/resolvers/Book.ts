import type { BookResolvers } from '../generated/graphql.js';

export const Book: BookResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.book.load(ref.id),
  totalCopies: async (book, _args, { loaders }) => (await loaders.counts.load(book.id)).total,
  availableCopies: async (book, _args, { loaders }) => (await loaders.counts.load(book.id)).available,
  copies: (book, _args, { loaders }) => loaders.copiesByBook.load(book.id),
};
