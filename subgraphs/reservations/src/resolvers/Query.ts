import { badInput, isUuid, pageSize } from '@shelfwise/kit';
import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  // The same grouped count as Book.holdQueueLength; an id that cannot exist has no holds.
  waitingHoldCount: (_parent, { bookId }, { loaders }) => (isUuid(bookId) ? loaders.holdQueueLength.load(bookId) : 0),

  readyHoldFor: async (_parent, { userId, bookId }, { queueRepository }) => {
    if (!isUuid(userId) || !isUuid(bookId)) return null;
    return (await queueRepository.readyHoldFor(userId.toLowerCase(), bookId.toLowerCase()))?.id ?? null;
  },

  holdQueue: async (_parent, { bookId, first, after }, { reservations, loaders }) => {
    if (!isUuid(bookId)) throw badInput(`"${bookId}" is not a valid book id.`, { field: 'bookId' });
    const page = await reservations.queuePage({ bookId: bookId.toLowerCase(), first: pageSize(first), after });
    for (const edge of page.edges) loaders.reservation.prime(edge.node.id, edge.node);
    return page;
  },
};
