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

/** The link's accessible name: "Notifications 3 unread", or "Notifications" when there is nothing new. */
export function bellLabel(count: number): string {
  return count > 0 ? `Notifications ${count > 99 ? '99+' : count} unread` : 'Notifications';
}

export function Bell() {
  const [{ data }, reexecute] = useQuery({ query: BellQuery });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: 'network-only' }));
  const count = data?.me?.unreadNotificationCount ?? 0;
  return (
    // The name comes from the visible text (WCAG 2.5.3, label in name): "Notifications 3" plus a word
    // only screen readers get, so speech users can say what they see.
    <Link to="/notifications" className="bell">
      Notifications
      {count > 0 && (
        <>
          {' '}
          <span className="badge">{count > 99 ? '99+' : count}</span>
          <span className="visually-hidden"> unread</span>
        </>
      )}
    </Link>
  );
}
