import { pageSize } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

// An inbox and its preferences are personal: access.ts lets only the user themselves see them.
export const User: UserResolvers = {
  // The users service owns the user; this service needs only the id (no query here).
  __resolveReference: (ref) => ({ id: ref.id }),
  notifications: (user, args, { notifications }) =>
    notifications.page({ userId: user.id, unreadOnly: args.unreadOnly ?? false, first: pageSize(args.first), after: args.after }),
  unreadNotificationCount: (user, _args, { loaders }) => loaders.unreadCount.load(user.id),
  // The owner's id goes along so the preferences' own fields can check it too.
  notificationPreferences: async (user, _args, { loaders }) => ({ ...(await loaders.preferences.load(user.id)), userId: user.id }),
};
