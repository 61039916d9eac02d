/**
 * Cache updates and optimistic results for the patron's account (loans, holds, fines, notifications, profile).
 *
 * Each mutation's own result already refreshes the entities it returns (a renewed loan's due date, a paid
 * fine's status, an edited name) through normalization. What is written here is what a result cannot say by
 * itself: which cached lists gain or lose an entry, and which counters on the user move. A list whose new
 * contents cannot be known locally (returned loans, paid fines) is invalidated instead, so the screen that
 * shows it fetches it again.
 */
import type { Cache, Data, FieldInfo, OptimisticMutationConfig, UpdatesConfig, Variables } from '@urql/exchange-graphcache';
import { graphql } from '../gql';

const UnreadCountFragment = graphql(`
  fragment AccountCacheUnreadCount on User {
    id
    unreadNotificationCount
  }
`);

const BalanceFragment = graphql(`
  fragment AccountCacheBalance on User {
    id
    balanceCents
  }
`);

const NotificationReadFragment = graphql(`
  fragment AccountCacheNotificationRead on Notification {
    id
    readAt
  }
`);

const PreferencesFragment = graphql(`
  fragment AccountCachePreferences on User {
    id
    notificationPreferences {
      dueSoon
      overdue
      reservationReady
      reservationExpired
      fineAssessed
      dueSoonDaysBefore
    }
  }
`);

// The list fragments take the cached field's own arguments as variables, so they write exactly the field
// (same status, same page) that a screen's query stored. Null arguments are dropped from field keys, both
// here and in queries, so a first page has no `after`.
const LoansTotalFragment = graphql(`
  fragment AccountCacheLoansTotal on User {
    id
    loans(status: $status, first: $first, after: $after) {
      totalCount
    }
  }
`);

const HoldsTotalFragment = graphql(`
  fragment AccountCacheHoldsTotal on User {
    id
    reservations(status: $status, first: $first, after: $after) {
      totalCount
    }
  }
`);

const InboxTotalFragment = graphql(`
  fragment AccountCacheInboxTotal on User {
    id
    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
      totalCount
    }
  }
`);

const InboxEdgesFragment = graphql(`
  fragment AccountCacheInboxEdges on User {
    id
    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
        }
      }
    }
  }
`);

type ListField = 'loans' | 'reservations' | 'notifications';

function asRecord(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
}

function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The signed-in user's cache key (`User:<id>`), once any screen has read `me`. */
export function meKey(cache: Cache): string | null {
  return asString(cache.resolve('Query', 'me'));
}

/** The user a mutation result belongs to (its `user { id }` when selected), else the signed-in user. */
function ownerKey(cache: Cache, entity: Record<string, unknown> | null): string | null {
  const user = asRecord(entity?.user);
  return (user && cache.keyOfEntity(user as Data)) ?? meKey(cache);
}

function listFields(cache: Cache, entityKey: string, fieldName: ListField): FieldInfo[] {
  return cache.inspectFields(entityKey).filter((field) => field.fieldName === fieldName);
}

function edgeKeys(cache: Cache, connectionKey: string): string[] {
  const edges = cache.resolve(connectionKey, 'edges');
  return Array.isArray(edges) ? edges.filter((edge): edge is string => typeof edge === 'string') : [];
}

function nodeKeyOf(cache: Cache, edgeKey: string): string | null {
  return asString(cache.resolve(edgeKey, 'node'));
}

function writeTotal(cache: Cache, entityKey: string, field: FieldInfo, total: number): void {
  const id = cache.resolve(entityKey, 'id');
  if (typeof id !== 'string') return;
  const totalCount = Math.max(0, total);
  const args = field.arguments ?? {};
  // Nested objects written by hand need their __typename (the generated types leave it out).
  if (field.fieldName === 'loans') {
    const loans = { __typename: 'LoanConnection', totalCount };
    cache.writeFragment(LoansTotalFragment, { id, loans }, args);
  } else if (field.fieldName === 'reservations') {
    const reservations = { __typename: 'ReservationConnection', totalCount };
    cache.writeFragment(HoldsTotalFragment, { id, reservations }, args);
  } else if (field.fieldName === 'notifications') {
    const notifications = { __typename: 'NotificationConnection', totalCount };
    cache.writeFragment(InboxTotalFragment, { id, notifications }, args);
  }
}

/**
 * Takes the entities in `nodeKeys` out of every cached page of `entityKey.fieldName` whose arguments pass
 * `which`, lowering each page's totalCount by how many left the list.
 */
function removeFromLists(
  cache: Cache,
  entityKey: string,
  fieldName: ListField,
  which: (args: Variables) => boolean,
  nodeKeys: ReadonlySet<string>,
): void {
  for (const field of listFields(cache, entityKey, fieldName)) {
    if (!which(field.arguments ?? {})) continue;
    const connection = asString(cache.resolve(entityKey, field.fieldKey));
    if (!connection) continue;
    const edges = edgeKeys(cache, connection);
    const kept = edges.filter((edge) => !nodeKeys.has(nodeKeyOf(cache, edge) ?? ''));
    if (kept.length === edges.length) continue;
    cache.link(connection, 'edges', kept);
    const total = cache.resolve(connection, 'totalCount');
    // Every page of a list carries the list's totalCount; it only changes on the pages that held the entry.
    if (typeof total === 'number') writeTotal(cache, entityKey, field, total - (edges.length - kept.length));
  }
}

function invalidateLists(cache: Cache, entityKey: string, fieldName: string, which: (args: Variables) => boolean): void {
  for (const field of cache.inspectFields(entityKey)) {
    if (field.fieldName === fieldName && which(field.arguments ?? {})) cache.invalidate(entityKey, field.fieldKey);
  }
}

function setUnreadCount(cache: Cache, userKey: string, change: (count: number) => number): void {
  const id = cache.resolve(userKey, 'id');
  const count = cache.resolve(userKey, 'unreadNotificationCount');
  if (typeof id !== 'string' || typeof count !== 'number') return;
  cache.writeFragment(UnreadCountFragment, { id, unreadNotificationCount: Math.max(0, change(count)) });
}

/** Whether a notification is already in one of the user's cached inbox pages. */
function inboxHolds(cache: Cache, userKey: string, notificationKey: string): boolean {
  return listFields(cache, userKey, 'notifications').some((field) => {
    const connection = asString(cache.resolve(userKey, field.fieldKey));
    return connection ? edgeKeys(cache, connection).some((edge) => nodeKeyOf(cache, edge) === notificationKey) : false;
  });
}

/**
 * A new notification goes to the top of every cached inbox list (all, and unread only: it is unread), and
 * every page of those lists counts one more.
 */
function addToInbox(cache: Cache, userKey: string, notificationId: string): void {
  const id = cache.resolve(userKey, 'id');
  if (typeof id !== 'string') return;
  for (const field of listFields(cache, userKey, 'notifications')) {
    const args = field.arguments ?? {};
    const connection = asString(cache.resolve(userKey, field.fieldKey));
    if (!connection) continue;
    const total = cache.resolve(connection, 'totalCount');
    if (typeof total === 'number') writeTotal(cache, userKey, field, total + 1);
    // Only a first page (no cursor) gains the entry; later pages start after a cursor that has not moved.
    if (args.after != null) continue;
    const edges: { __typename: 'NotificationEdge'; cursor: string; node: { __typename: 'Notification'; id: string } }[] = [];
    for (const edge of edgeKeys(cache, connection)) {
      const nodeId = asString(cache.resolve(nodeKeyOf(cache, edge), 'id'));
      if (nodeId === null) continue;
      const cursor = asString(cache.resolve(edge, 'cursor')) ?? nodeId;
      edges.push({ __typename: 'NotificationEdge', cursor, node: { __typename: 'Notification', id: nodeId } });
    }
    if (edges.some((edge) => edge.node.id === notificationId)) continue;
    // The edge's cursor is never sent back (pages continue from pageInfo.endCursor), so the id stands in.
    edges.unshift({ __typename: 'NotificationEdge', cursor: notificationId, node: { __typename: 'Notification', id: notificationId } });
    const notifications = { __typename: 'NotificationConnection', edges };
    cache.writeFragment(InboxEdgesFragment, { id, notifications }, args);
  }
}

/** What each notification kind changes elsewhere on the account: those fields are fetched again. */
function invalidateFor(cache: Cache, userKey: string, kind: string, notification: Record<string, unknown>): void {
  switch (kind) {
    case 'RESERVATION_READY':
    case 'RESERVATION_EXPIRED':
      // A hold changed state and the others' positions may have moved: the holds lists are refetched.
      invalidateLists(cache, userKey, 'reservations', () => true);
      break;
    case 'FINE_ASSESSED':
      invalidateLists(cache, userKey, 'fines', () => true);
      cache.invalidate(userKey, 'balanceCents');
      break;
    case 'OVERDUE': {
      // The loan is now overdue and starts costing money; its other fields are as they were.
      const loanKey = cache.keyOfEntity(asRecord(notification.loan) as Data | null);
      if (loanKey) {
        cache.invalidate(loanKey, 'overdue');
        cache.invalidate(loanKey, 'fineCents');
      }
      break;
    }
    default:
      break;
  }
}

const notUnreadOnly = (args: Variables) => args.unreadOnly === true;

export const accountUpdates: UpdatesConfig = {
  Subscription: {
    notificationReceived(result, _args, cache) {
      const notification = asRecord(result.notificationReceived);
      const userKey = meKey(cache);
      const notificationKey = notification && cache.keyOfEntity(notification as Data);
      const id = asString(notification?.id);
      if (!notification || !userKey || !notificationKey || !id) return;
      // A notification the inbox already shows (a refetch got it first) is not counted twice.
      if (!inboxHolds(cache, userKey, notificationKey)) {
        if (notification.readAt == null) setUnreadCount(cache, userKey, (count) => count + 1);
        addToInbox(cache, userKey, id);
      }
      invalidateFor(cache, userKey, asString(notification.kind) ?? '', notification);
    },
  },
  Mutation: {
    returnLoan(result, _args, cache) {
      const loan = asRecord(result.returnLoan);
      const loanKey = loan && cache.keyOfEntity(loan as Data);
      const userKey = ownerKey(cache, loan);
      if (!loanKey || !userKey) return;
      removeFromLists(cache, userKey, 'loans', (args) => args.status === 'ACTIVE', new Set([loanKey]));
      // It now heads the returned loans: those pages are fetched again rather than guessed.
      invalidateLists(cache, userKey, 'loans', (args) => args.status === 'RETURNED');
      if (typeof loan.fineCents === 'number' && loan.fineCents > 0) {
        // Payments assesses the overdue fine after the return; the balance and fines are read again.
        invalidateLists(cache, userKey, 'fines', () => true);
        cache.invalidate(userKey, 'balanceCents');
      }
    },
    cancelReservation(result, _args, cache) {
      const hold = asRecord(result.cancelReservation);
      const holdKey = hold && cache.keyOfEntity(hold as Data);
      const userKey = ownerKey(cache, hold);
      if (!holdKey || !userKey) return;
      removeFromLists(cache, userKey, 'reservations', (args) => args.status === 'WAITING' || args.status === 'READY', new Set([holdKey]));
      invalidateLists(cache, userKey, 'reservations', (args) => args.status === 'CANCELLED');
      // The book's queue is one shorter, unless the answer already carried its new length.
      const book = asRecord(hold.book);
      const bookKey = cache.keyOfEntity(book as Data | null);
      if (bookKey && typeof book?.holdQueueLength !== 'number') cache.invalidate(bookKey, 'holdQueueLength');
    },
    payFines(result, _args, cache) {
      const payment = asRecord(result.payFines);
      const paymentKey = payment && cache.keyOfEntity(payment as Data);
      const userKey = ownerKey(cache, payment);
      if (!payment || !paymentKey || !userKey) return;
      const cached = cache.resolve(userKey, 'payments');
      const payments = Array.isArray(cached) ? cached.filter((p): p is string => typeof p === 'string') : null;
      // The same key answers the same payment again: a replay changes nothing that is already counted.
      if (payments?.includes(paymentKey)) return;
      if (payments) cache.link(userKey, 'payments', [paymentKey, ...payments]);
      const fines = Array.isArray(payment.fines) ? payment.fines.map((fine) => cache.keyOfEntity(fine as Data)) : [];
      const paid = new Set(fines.filter((key): key is string => typeof key === 'string'));
      for (const field of cache.inspectFields(userKey)) {
        if (field.fieldName !== 'fines') continue;
        const status = field.arguments?.status;
        if (status === 'OPEN') {
          const list = cache.resolve(userKey, field.fieldKey);
          if (Array.isArray(list))
            cache.link(userKey, field.fieldKey, list.filter((key) => typeof key === 'string' && !paid.has(key)) as string[]);
        } else if (status === 'PAID') {
          cache.invalidate(userKey, field.fieldKey);
        }
      }
      const id = cache.resolve(userKey, 'id');
      const balance = cache.resolve(userKey, 'balanceCents');
      if (typeof id === 'string' && typeof balance === 'number' && typeof payment.amountCents === 'number') {
        cache.writeFragment(BalanceFragment, { id, balanceCents: Math.max(0, balance - payment.amountCents) });
      }
    },
    markNotificationsRead(result, args, cache) {
      const ids = Array.isArray(args.ids) ? args.ids.filter((id): id is string => typeof id === 'string') : [];
      const userKey = meKey(cache);
      const now = new Date().toISOString();
      const marked = new Set<string>();
      for (const id of ids) {
        const key = `Notification:${id}`;
        marked.add(key);
        if (cache.resolve(key, 'readAt') === null) cache.writeFragment(NotificationReadFragment, { id, readAt: now });
      }
      if (!userKey) return;
      // The server's answer is how many were unread; the optimistic answer counts the cached unread ones.
      if (typeof result.markNotificationsRead === 'number') {
        const count = result.markNotificationsRead;
        setUnreadCount(cache, userKey, (unread) => unread - count);
      }
      removeFromLists(cache, userKey, 'notifications', notUnreadOnly, marked);
    },
    updateNotificationPreferences(result, _args, cache) {
      const p = asRecord(result.updateNotificationPreferences);
      const userKey = meKey(cache);
      const id = userKey && cache.resolve(userKey, 'id');
      if (!p || typeof id !== 'string') return;
      const flags = [p.dueSoon, p.overdue, p.reservationReady, p.reservationExpired, p.fineAssessed];
      if (!flags.every((flag) => typeof flag === 'boolean') || typeof p.dueSoonDaysBefore !== 'number') return;
      // The preferences have no id of their own: they live on the user, so the mutation's answer is put there.
      const notificationPreferences = {
        __typename: 'NotificationPreferences',
        dueSoon: p.dueSoon === true,
        overdue: p.overdue === true,
        reservationReady: p.reservationReady === true,
        reservationExpired: p.reservationExpired === true,
        fineAssessed: p.fineAssessed === true,
        dueSoonDaysBefore: p.dueSoonDaysBefore,
      };
      cache.writeFragment(PreferencesFragment, { id, notificationPreferences });
    },
  },
};

export const accountOptimistic: OptimisticMutationConfig = {
  // Marking read is certain to succeed for the reader's own notifications: the badge and list change at once.
  markNotificationsRead(args, cache) {
    const ids = Array.isArray(args.ids) ? args.ids : [];
    return ids.filter((id) => typeof id === 'string' && cache.resolve(`Notification:${id}`, 'readAt') === null).length;
  },
};
