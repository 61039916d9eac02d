import { allow, type AccessRules } from '@shelfwise/kit';
import type { NotificationModel, NotificationPreferencesModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  // A user reference is only an id; the inbox, its unread count and the preferences are the user's own
  // or staff's.
  User: {
    __resolveReference: allow.public,
    id: allow.public,
    notifications: allow.ownerOrLibrarian<UserModel>((user) => user.id),
    unreadNotificationCount: allow.ownerOrLibrarian<UserModel>((user) => user.id),
    notificationPreferences: allow.ownerOrLibrarian<UserModel>((user) => user.id),
  },
  // A notification and a set of preferences are personal: the recipient or staff, wherever they are reached.
  Notification: { '*': allow.ownerOrLibrarian<NotificationModel>((notification) => notification.userId) },
  NotificationPreferences: { '*': allow.ownerOrLibrarian<NotificationPreferencesModel>((preferences) => preferences.userId) },
  // Pages carry nothing of their own: the field that returns them decides.
  NotificationConnection: { '*': allow.public },
  NotificationEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
  // References to other subgraphs' entities: only an id; their owners decide who sees the rest.
  Book: { '*': allow.public },
  Loan: { '*': allow.public },
  Reservation: { '*': allow.public },
};
