import { pageSize, requireSelfOrRole } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

// An inbox and its preferences are personal: the user themselves or library staff.
export const User: UserResolvers = {
  // The users service owns the user; this service needs only the id (no query here).
  __resolveReference: (ref) => ({ id: ref.id }),
  notifications: (user, args, { viewer, notifications }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return notifications.page({ userId: user.id, unreadOnly: args.unreadOnly ?? false, first: pageSize(args.first), after: args.after });
  },
  unreadNotificationCount: (user, _args, { viewer, loaders }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return loaders.unreadCount.load(user.id);
  },
  notificationPreferences: (user, _args, { viewer, loaders }) => {
    requireSelfOrRole(viewer, user.id, 'LIBRARIAN');
    return loaders.preferences.load(user.id);
  },
};
