import { allow, type AccessRules } from '@shelfwise/kit';
import type { NotificationModel, NotificationPreferencesModel, UserModel } from '../mappers.js';

/**
 * Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts).
 * Notifications are personal: an inbox, its unread count and the preferences are their owner's alone —
 * library staff and admins included among those refused (staff act on loans, holds and fines, which
 * their own subgraphs show them; they have no need to read a patron's messages).
 */
export const access: AccessRules = {
  // A user reference is only an id; everything this subgraph adds to it is the user's own.
  User: {
    __resolveReference: allow.public,
    id: allow.public,
    notifications: allow.owner<UserModel>((user) => user.id),
    unreadNotificationCount: allow.owner<UserModel>((user) => user.id),
    notificationPreferences: allow.owner<UserModel>((user) => user.id),
  },
  // Wherever a notification is reached (a page of the inbox, `_entities` for the router's live push),
  // only its recipient sees it; `_entities` also needs a signed-in caller before any lookup.
  Notification: { '*': allow.owner<NotificationModel>((notification) => notification.userId) },
  NotificationPreferences: { '*': allow.owner<NotificationPreferencesModel>((preferences) => preferences.userId) },
  // Answers only the caller's own notifications (null for anyone else's); the Notification rule applies too.
  Query: { notification: allow.signedIn },
  // The mutations take no user argument: they act on the signed-in user's own records only.
  Mutation: { markNotificationsRead: allow.signedIn, updateNotificationPreferences: allow.signedIn },
  // Served by the router over graphql-ws, which delivers each user their own notifications only.
  Subscription: { notificationReceived: allow.signedIn },
  // Pages carry nothing of their own: the field that returns them decides.
  NotificationConnection: { '*': allow.public },
  NotificationEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
  // References to other subgraphs' entities: only an id; their owners decide who sees the rest.
  Book: { '*': allow.public },
  Loan: { '*': allow.public },
  Reservation: { '*': allow.public },
};
