/**
 * The app's one subscription to the signed-in user's notifications. Each arrival is written to the cache
 * (cache/account.ts counts it on the bell and puts it at the top of the inbox) and shown as a toast with a
 * link to where it can be acted on. Toasts leave by themselves after a while, but never while the pointer
 * is over one or focus is inside it, so nobody loses a link they are about to use. A toast whose notification
 * is read meanwhile (in the inbox, with "Mark all as read", in another tab once the inbox is fetched again)
 * leaves at once: each toast watches its notification's `readAt` in the cache.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { NotificationKind } from '../gql/graphql';
import { Link } from '../lib/router';

const NotificationReceivedSubscription = graphql(`
  subscription LiveNotificationsReceived {
    notificationReceived {
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
`);

/**
 * A toast's notification as the cache has it now, never fetched: the subscription put it there, and
 * Query.notification resolves to that cached entity (cache/index.ts). Marking it read anywhere updates it.
 */
const ToastReadQuery = graphql(`
  query LiveNotificationsToastRead($id: ID!) {
    notification(id: $id) {
      id
      readAt
    }
  }
`);

/** Marks notifications read; the cache lowers the unread count and updates the inbox (cache/account.ts). */
export const MarkNotificationsReadMutation = graphql(`
  mutation LiveNotificationsMarkRead($ids: [ID!]!) {
    markNotificationsRead(ids: $ids)
  }
`);

/** How long a toast stays when nobody is looking at it. */
export const TOAST_MS = 8_000;
/** At most this many toasts at once; older ones make room. */
const MAX_TOASTS = 4;

/** The fields of a notification the app shows and links from. */
export interface NotificationLike {
  id: string;
  kind: NotificationKind;
  message: string;
  book: { id: string; title: string } | null;
}

const KIND_LABELS: Record<NotificationKind, string> = {
  DUE_SOON: 'Due soon',
  OVERDUE: 'Overdue',
  RESERVATION_READY: 'Hold ready',
  RESERVATION_EXPIRED: 'Hold expired',
  FINE_ASSESSED: 'Fine',
};

/** A short name for what a notification is about ("Hold ready"). */
export function kindLabel(kind: NotificationKind): string {
  return KIND_LABELS[kind] ?? kind;
}

/** Where to act on a notification: the account tab it concerns, else the book, else the inbox. */
export function notificationHref(notification: Pick<NotificationLike, 'kind' | 'book'>): string {
  switch (notification.kind) {
    case 'RESERVATION_READY':
      return '/account?tab=holds';
    case 'DUE_SOON':
    case 'OVERDUE':
      return '/account?tab=loans';
    case 'FINE_ASSESSED':
      return '/account?tab=fines';
    default:
      return notification.book ? `/books/${encodeURIComponent(notification.book.id)}` : '/notifications';
  }
}

function Toast({
  notification,
  onDismiss,
  onOpen,
}: {
  notification: NotificationLike;
  onDismiss: (id: string, hadFocus: boolean) => void;
  onOpen: (id: string) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const remaining = useRef(TOAST_MS);
  const { id } = notification;
  const [{ data }] = useQuery({ query: ToastReadQuery, variables: { id }, requestPolicy: 'cache-only' });
  const read = data?.notification?.readAt != null;

  // Read elsewhere: gone before the next paint, handing focus on if it was inside (the toast is still there).
  useLayoutEffect(() => {
    if (read) onDismiss(id, ref.current?.contains(document.activeElement) ?? false);
  }, [read, id, onDismiss]);

  useEffect(() => {
    if (hovered || focused) return;
    const started = Date.now();
    const timer = window.setTimeout(() => onDismiss(id, false), remaining.current);
    // Pausing keeps what was left of the time, so a toast looked at twice does not stay forever.
    return () => {
      window.clearTimeout(timer);
      remaining.current = Math.max(1_000, remaining.current - (Date.now() - started));
    };
  }, [hovered, focused, id, onDismiss]);

  const onBlur = (event: FocusEvent<HTMLDivElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setFocused(false);
  };
  const hadFocus = () => ref.current?.contains(document.activeElement) ?? false;

  return (
    <div
      ref={ref}
      className="toast"
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={onBlur}
    >
      <p className="toast-message">
        <strong>{kindLabel(notification.kind)}:</strong> {notification.message}
      </p>
      <div className="toast-actions">
        <Link to={notificationHref(notification)} onClick={() => onOpen(id)}>
          Open
        </Link>
        <button type="button" className="secondary" onClick={() => onDismiss(id, hadFocus())}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

/** Rendered once by the app while someone is signed in. */
export function LiveNotifications() {
  const client = useClient();
  const [toasts, setToasts] = useState<NotificationLike[]>([]);
  const [, markRead] = useMutation(MarkNotificationsReadMutation);
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const subscription = client.subscription(NotificationReceivedSubscription, {}).subscribe((result) => {
      const notification = result.data?.notificationReceived;
      if (!notification) return;
      setToasts((shown) => [...shown.filter((t) => t.id !== notification.id), notification].slice(-MAX_TOASTS));
    });
    return () => subscription.unsubscribe();
  }, [client]);

  const dismiss = useCallback((id: string, hadFocus: boolean) => {
    setToasts((shown) => shown.filter((t) => t.id !== id));
    if (!hadFocus) return;
    // Focus was on the toast that left: hand it to the next toast, or back to the page's heading.
    window.setTimeout(() => {
      const next = container.current?.querySelector<HTMLElement>('.toast button');
      const heading = document.querySelector<HTMLElement>('main h1');
      (next ?? heading)?.focus();
    }, 0);
  }, []);

  const open = useCallback(
    (id: string) => {
      // Following the link is reading it. The toast goes first, so it is not also dismissed as read (which
      // would hand focus to the next toast while the link's page takes it).
      setToasts((shown) => shown.filter((t) => t.id !== id));
      void markRead({ ids: [id] });
    },
    [markRead],
  );

  return (
    <div ref={container} className="toasts" role="status" aria-live="polite">
      {toasts.map((notification) => (
        <Toast key={notification.id} notification={notification} onDismiss={dismiss} onOpen={open} />
      ))}
    </div>
  );
}
