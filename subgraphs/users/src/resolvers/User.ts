import { hasRole } from '@shelfwise/kit';
import type { UserResolvers } from '../generated/graphql.js';

export const User: UserResolvers = {
  // Name, role and createdAt are public (reviews show their authors); the email is personal.
  __resolveReference: (ref, { loaders }) => loaders.user.load(ref.id),
  email: (user, _args, { viewer, signedIn }) =>
    signedIn.has(user.id) || (viewer && (viewer.userId === user.id || hasRole(viewer, 'LIBRARIAN'))) ? user.email : null,
};
