import { allow, type AccessRules } from '@shelfwise/kit';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  Query: {
    // Null for an anonymous caller rather than an error: "who am I?" has an answer either way.
    me: allow.public,
    user: allow.ownerOrLibrarian<unknown, { id: string }>((_parent, args) => args.id),
    users: allow.librarian,
    now: allow.public,
    // Internal (@inaccessible): other subgraphs only, with a service credential.
    circulationAccount: allow.service,
  },
  CirculationAccount: { '*': allow.service },
  Mutation: {
    register: allow.public,
    login: allow.public,
    refreshSession: allow.public,
    logout: allow.signedIn,
    logoutEverywhere: allow.signedIn,
    updateProfile: allow.signedIn,
    setUserRole: allow.admin,
    advanceClock: allow.admin,
  },
  // Name, role and createdAt are public (reviews show their authors). The email is personal, but a
  // stranger's is answered with null rather than an error (it appears on shared lists): User.ts decides,
  // also showing it in the AuthPayload of the sign-in that just happened.
  User: { '*': allow.public },
  // Tokens are returned only to whoever just proved the password or the refresh token.
  AuthPayload: { '*': allow.public },
  UserConnection: { '*': allow.public },
  UserEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
};
