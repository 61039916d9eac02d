import { isUuid } from '@shelfwise/kit';
import type { QueryResolvers } from '../generated/graphql.js';

export const Query: QueryResolvers = {
  // The same grouped count as Book.holdQueueLength; an id that cannot exist has no holds.
  waitingHoldCount: (_parent, { bookId }, { loaders }) => (isUuid(bookId) ? loaders.holdQueueLength.load(bookId) : 0),
};
