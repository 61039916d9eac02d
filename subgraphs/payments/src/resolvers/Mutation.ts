import { isUuid, notFound } from '@shelfwise/kit';
import type { MutationResolvers } from '../generated/graphql.js';
import { personActing } from './actor.js';

export const Mutation: MutationResolvers = {
  // Internal (loans, allow.service): keyed by the loan, so a retried or raced return records one fine.
  recordOverdueFine: async (_parent, { input }, ctx) => {
    // The fine and its FINE_ASSESSED event commit together (outbox); relaying it never fails the command.
    const { fine, created } = await ctx.fines.recordOverdueFine(input);
    if (created) await ctx.relayEvents();
    return fine;
  },

  assessFine: async (_parent, { input }, ctx) => {
    const librarian = personActing(ctx);
    // A fine for an id that belongs to nobody could never be paid: ask the users service first.
    if (isUuid(input.userId) && !(await ctx.patrons.exists(input.userId.toLowerCase())))
      throw notFound('No user has this id. Check the patron you mean to fine.', { field: 'userId' });
    const fine = await ctx.fines.assessFine(input, librarian.userId);
    await ctx.relayEvents();
    return fine;
  },

  waiveFine: (_parent, { fineId, reason }, ctx) => ctx.fines.waiveFine(fineId, reason, personActing(ctx).userId),

  // The patron's own fines only: the payer is always the signed-in viewer, never an argument.
  payFines: (_parent, { input }, ctx) =>
    ctx.payments.recordPayment({
      userId: personActing(ctx).userId,
      fineIds: input.fineIds,
      idempotencyKey: input.idempotencyKey,
      method: 'CARD',
      recordedById: null,
    }),

  recordDeskPayment: (_parent, { input }, ctx) => {
    const librarian = personActing(ctx);
    if (!isUuid(input.userId)) throw notFound('No user has this id. Check the patron who is paying.', { field: 'userId' });
    return ctx.payments.recordPayment({
      userId: input.userId.toLowerCase(),
      fineIds: input.fineIds,
      idempotencyKey: input.idempotencyKey,
      method: input.method,
      recordedById: librarian.userId,
    });
  },
};
