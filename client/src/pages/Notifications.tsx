/**
 * The inbox: the signed-in user's notifications, newest first, unread ones marked in words as well as
 * looks. New ones appear at the top as they arrive (the cache update for the subscription puts them there);
 * after a reconnect the first page is fetched again for whatever was missed meanwhile.
 */
import { useRef, useState } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import { MarkNotificationsReadMutation, kindLabel, notificationHref } from '../components/LiveNotifications';
import { Empty, ErrorMessage, Loading, Notice, PageHeading, formatDateTime } from '../components/ui';
import { graphql } from '../gql';
import type { NotificationsInboxQuery } from '../gql/graphql';
import { useRefetchOnReconnect } from '../lib/app';
import { Link, setSearchParams, useLocation } from '../lib/router';

const InboxQuery = graphql(`
  query NotificationsInbox($unreadOnly: Boolean, $first: Int, $after: String) {
    me {
      id
      unreadNotificationCount
      notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
        totalCount
        edges {
          cursor
          node {
            id
            kind
            message
            createdAt
            readAt
            book {
              id
              title
            }
            loan {
              id
              dueAt
            }
            reservation {
              id
              status
              pickupBy
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const PAGE_SIZE = 20;
/** The most ids markNotificationsRead takes at once. */
const MARK_BATCH = 100;
/** "Mark all as read" stops after this many batches, far more than anyone's inbox holds unread. */
const MARK_ROUNDS = 50;

type InboxNotification = NonNullable<NotificationsInboxQuery['me']>['notifications']['edges'][number]['node'];

export function Notifications() {
  const client = useClient();
  const { search } = useLocation();
  const unreadOnly = search.get('unread') === '1';
  const [after, setAfter] = useState<string | null>(null);
  // Pages are merged by the cache (relayPagination); the list keeps showing while the next page loads.
  const variables = { unreadOnly: unreadOnly || undefined, first: PAGE_SIZE, after };
  const [{ data, fetching, error }, reexecute] = useQuery({ query: InboxQuery, variables, requestPolicy: 'cache-and-network' });
  const last = useRef<NotificationsInboxQuery | undefined>(undefined);
  if (data) last.current = data;
  const shown = data ?? last.current;
  const [markResult, markRead] = useMutation(MarkNotificationsReadMutation);
  const [markAllError, setMarkAllError] = useState<CombinedError | null>(null);
  const [markingAll, setMarkingAll] = useState(false);
  const [allDone, setAllDone] = useState(false);
  const list = useRef<HTMLUListElement>(null);

  useRefetchOnReconnect(() => {
    // The first page is where anything missed while disconnected lands; later pages continue from it.
    void client.query(InboxQuery, { unreadOnly: unreadOnly || undefined, first: PAGE_SIZE }, { requestPolicy: 'network-only' }).toPromise();
    if (after) reexecute({ requestPolicy: 'network-only' });
  });

  const setUnreadOnly = (value: boolean) => {
    setAfter(null);
    last.current = undefined;
    setAllDone(false);
    setSearchParams({ unread: value ? '1' : null });
  };

  const markOne = async (notification: InboxNotification) => {
    setAllDone(false);
    const result = await markRead({ ids: [notification.id] });
    // In the unread-only list the item (and its button) goes away: keep focus in the list.
    if (!result.error && unreadOnly) list.current?.focus();
  };

  const markAll = async () => {
    setMarkingAll(true);
    setMarkAllError(null);
    setAllDone(false);
    try {
      // The unread ones may be more than are loaded here: ask for them a batch at a time until none is left.
      for (let round = 0; round < MARK_ROUNDS; round += 1) {
        const unread = await client
          .query(InboxQuery, { unreadOnly: true, first: MARK_BATCH }, { requestPolicy: 'network-only' })
          .toPromise();
        if (unread.error) {
          setMarkAllError(unread.error);
          return;
        }
        const ids = unread.data?.me?.notifications.edges.map((edge) => edge.node.id) ?? [];
        if (ids.length === 0) break;
        const marked = await markRead({ ids });
        if (marked.error) {
          setMarkAllError(marked.error);
          return;
        }
        if (ids.length < MARK_BATCH) break;
      }
      setAllDone(true);
    } finally {
      setMarkingAll(false);
    }
  };

  const me = shown?.me;
  const connection = me?.notifications;
  const unreadCount = me?.unreadNotificationCount ?? 0;

  return (
    <section className="inbox-page">
      <PageHeading title="Notifications">Notifications</PageHeading>
      <div className="row inbox-controls">
        <label className="acct-check">
          <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />
          Unread only
        </label>
        <button type="button" className="secondary" onClick={() => void markAll()} disabled={markingAll || unreadCount === 0}>
          {markingAll ? 'Marking all as read…' : 'Mark all as read'}
        </button>
        {me && <span className="muted">{unreadCount === 0 ? 'Nothing unread.' : `${unreadCount} unread.`}</span>}
      </div>
      {allDone && <Notice>All notifications are marked as read.</Notice>}
      <ErrorMessage error={markAllError ?? markResult.error} />
      {!shown && fetching && <Loading label="Loading notifications…" />}
      {!shown && <ErrorMessage error={error} />}
      {shown && !me && <ErrorMessage error={error ?? new Error('Your notifications cannot be shown: you are not signed in.')} />}
      {connection && connection.edges.length === 0 && <Empty>{unreadOnly ? 'No unread notifications.' : 'No notifications yet.'}</Empty>}
      {connection && connection.edges.length > 0 && (
        <ul className="cards inbox" ref={list} tabIndex={-1} aria-label={unreadOnly ? 'Unread notifications' : 'All notifications'}>
          {connection.edges.map(({ node }) => (
            <InboxItem key={node.id} notification={node} onMarkRead={() => void markOne(node)} />
          ))}
        </ul>
      )}
      {shown && error && <ErrorMessage error={error} />}
      {connection?.pageInfo.hasNextPage && (
        <p>
          <button type="button" className="secondary" disabled={fetching} onClick={() => setAfter(connection.pageInfo.endCursor)}>
            {fetching && after ? 'Loading more…' : 'Load more'}
          </button>
        </p>
      )}
    </section>
  );
}

function InboxItem({ notification, onMarkRead }: { notification: InboxNotification; onMarkRead: () => void }) {
  const unread = notification.readAt == null;
  const messageId = `notification-${notification.id}`;
  return (
    <li className={unread ? 'card notification unread' : 'card notification'}>
      <div className="row notification-head">
        {unread && <span className="unread-marker">Unread</span>}
        <strong>{kindLabel(notification.kind)}</strong>
        <time className="muted" dateTime={notification.createdAt}>
          {formatDateTime(notification.createdAt)}
        </time>
      </div>
      <p id={messageId} className="notification-message">
        {notification.message}
      </p>
      <div className="row">
        <Link to={notificationHref(notification)} aria-describedby={messageId}>
          Open
        </Link>
        {notification.book && notificationHref(notification) !== `/books/${encodeURIComponent(notification.book.id)}` && (
          <Link to={`/books/${encodeURIComponent(notification.book.id)}`}>{notification.book.title}</Link>
        )}
        {unread && (
          <button type="button" className="secondary" onClick={onMarkRead} aria-describedby={messageId}>
            Mark as read
          </button>
        )}
      </div>
    </li>
  );
}
