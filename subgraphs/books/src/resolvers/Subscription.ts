import { appError, ErrorCode } from '@shelfwise/kit';
import type { SubscriptionResolvers } from '../generated/graphql.js';

const NOT_HERE =
  'Subscriptions are served by the router over WebSocket (graphql-ws) at /graphql, not by the books subgraph over HTTP. Connect a graphql-ws client to the router.';

/**
 * `bookAvailabilityChanged` is declared here (books owns the data) but served by the router: it listens
 * on the bus (BOOK_AVAILABILITY_CHANNEL, relayed from the outbox, availability.ts), answers the counts from each
 * event and fetches `book` through `Query.book`. Executing it against the subgraph is refused clearly.
 */
export const Subscription: SubscriptionResolvers = {
  bookAvailabilityChanged: {
    subscribe: () => {
      throw appError(ErrorCode.BAD_USER_INPUT, NOT_HERE);
    },
    resolve: () => {
      throw appError(ErrorCode.BAD_USER_INPUT, NOT_HERE);
    },
  },
};
