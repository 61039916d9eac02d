import type { MutationResolvers } from '../generated/graphql.js';
import type { Context } from '../context.js';
import type { AuthPayloadModel, UserModel } from '../mappers.js';

/** Remembers who just signed in (their payload shows their email) and primes the loader with them. */
function signedIn(ctx: Context, payload: AuthPayloadModel): AuthPayloadModel {
  ctx.signedIn.add(payload.user.id);
  ctx.loaders.user.prime(payload.user.id, payload.user);
  return payload;
}

/** A changed user replaces whatever this request loaded before. */
function fresh(ctx: Context, user: UserModel): UserModel {
  ctx.loaders.user.clear(user.id).prime(user.id, user);
  return user;
}

export const Mutation: MutationResolvers = {
  register: async (_parent, { input }, ctx) => signedIn(ctx, await ctx.accounts.register(input)),
  login: async (_parent, { email, password }, ctx) => signedIn(ctx, await ctx.accounts.login(email, password, ctx.clientAddress)),
  refreshSession: async (_parent, { refreshToken }, ctx) => signedIn(ctx, await ctx.accounts.refresh(refreshToken)),
  logout: (_parent, _args, { accounts, viewer }) => accounts.logout(viewer),
  logoutEverywhere: (_parent, _args, { accounts, viewer }) => accounts.logoutEverywhere(viewer),
  updateProfile: async (_parent, { input }, ctx) => fresh(ctx, await ctx.accounts.updateProfile(ctx.viewer, input)),
  setUserRole: async (_parent, { userId, role }, ctx) => fresh(ctx, await ctx.accounts.setUserRole(ctx.viewer, userId, role)),
  advanceClock: (_parent, { seconds }, ctx) => ctx.advanceClock(seconds),
};
