/**
 * The header's link to the inbox, with the unread count. The count lives on `me` in the cache: a
 * notification arriving over the socket raises it and marking read lowers it (cache/account.ts), so the
 * bell needs no query of its own after the first, except to catch up after the socket reconnects.
 */
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { useRefetchOnReconnect } from '../lib/app';
import { Link } from '../lib/router';

const BellQuery = graphql(`
  query BellUnreadCount {
    me {
      id
      unreadNotificationCount
    }
  }
`);

/** "Notifications, 3 unread", or "Notifications" when there is nothing new. */
export function bellLabel(count: number): string {
  return count > 0 ? `Notifications, ${count} unread` : 'Notifications';
}

export function Bell() {
  const [{ data }, reexecute] = useQuery({ query: BellQuery });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const count = data?.me?.unreadNotificationCount ?? 0;
  return (
    <Link to="/notifications" className="bell" aria-label={bellLabel(count)}>
      Notifications
      {count > 0 && (
        <span className="badge" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}
