/**
 * The normalized cache (graphcache). Entities are keyed by `id` by default; the types below have no id
 * and are either embedded in their parent (null) or keyed by what identifies them. Each screen area keeps
 * its cache updates (what a mutation or subscription changes elsewhere) and optimistic results in its own
 * file, merged here.
 */
import { cacheExchange, type CacheExchangeOpts } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { accountUpdates, accountOptimistic } from './account';
import { catalogUpdates, catalogOptimistic } from './catalog';
import { deskUpdates, deskOptimistic } from './desk';
import { mergeUpdates } from './merge';

const embedded = () => null;

export const cacheOptions: CacheExchangeOpts = {
  keys: {
    BookAvailability: (data) => (typeof data.bookId === 'string' ? data.bookId : null),
    LoanPolicy: (data) => (typeof data.role === 'string' ? data.role : null),
    FacetCount: embedded,
    BookFacets: embedded,
    PageInfo: embedded,
    BookEdge: embedded,
    BookConnection: embedded,
    LoanEdge: embedded,
    LoanConnection: embedded,
    NotificationPreferences: embedded,
    NotificationEdge: embedded,
    NotificationConnection: embedded,
    FineWaiverEdge: embedded,
    FineWaiverConnection: embedded,
    ReservationEdge: embedded,
    ReservationConnection: embedded,
    ReviewEdge: embedded,
    ReviewConnection: embedded,
    AuthPayload: embedded,
    UserEdge: embedded,
    UserConnection: embedded,
  },
  resolvers: {
    // Infinite scroll: pages of the same search (same query, filter, sort) are merged into one list.
    Query: {
      books: relayPagination(),
      users: relayPagination(),
      loans: relayPagination(),
      // A notification by id is the cached entity when there is one (a toast watches whether it was read).
      notification: (_parent, args) => ({ __typename: 'Notification', id: String(args.id) }),
    },
    Book: { reviews: relayPagination() },
    User: { notifications: relayPagination() },
  },
  updates: mergeUpdates(catalogUpdates, accountUpdates, deskUpdates),
  optimistic: { ...catalogOptimistic, ...accountOptimistic, ...deskOptimistic },
};

/** The cache exchange the app's client uses. */
export function createCacheExchange() {
  return cacheExchange(cacheOptions);
}
