import { pageSize } from '@shelfwise/kit';
import type { BookResolvers } from '../generated/graphql.js';

export const Book: BookResolvers = {
  // The books subgraph owns the book; the queue length loads by id, batched, with no lookup of the book.
  __resolveReference: (ref) => ({ id: ref.id }),
  // The queue length is catalogue information, public like availability.
  holdQueueLength: (book, _args, { loaders }) => loaders.holdQueueLength.load(book.id),
  // The queue itself (who waits) is for staff; access.ts says so.
  holdQueue: async (book, { first, after }, { reservations, loaders }) => {
    const page = await reservations.queuePage({ bookId: book.id, first: pageSize(first), after });
    for (const edge of page.edges) loaders.reservation.prime(edge.node.id, edge.node);
    return page;
  },
};
