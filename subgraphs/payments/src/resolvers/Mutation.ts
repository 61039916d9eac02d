import { FINE_ASSESSED_CHANNEL, isUuid, notFound, type FineAssessedEvent } from '@shelfwise/kit';
import type { Context } from '../context.js';
import type { MutationResolvers } from '../generated/graphql.js';
import type { FineModel } from '../mappers.js';
import { personActing } from './actor.js';

/**
 * Tells the rest of the platform (notifications) about a fine just recorded. The bus is at-most-once: a
 * failure to publish is logged and does not undo the fine, which is already committed.
 */
async function publishFineAssessed(ctx: Context, fine: FineModel, bookId: string | null): Promise<void> {
  const event: FineAssessedEvent = {
    fineId: fine.id,
    userId: fine.userId,
    loanId: fine.loanId,
    bookId,
    amountCents: fine.amountCents,
    currency: ctx.money.currency,
    reason: fine.reason,
    daysOverdue: fine.daysOverdue,
    at: fine.createdAt.toISOString(),
  };
  try {
    await ctx.bus.publish(FINE_ASSESSED_CHANNEL, event);
  } catch (err) {
    ctx.logger.error({ err, fineId: fine.id }, 'could not publish FINE_ASSESSED');
  }
}

export const Mutation: MutationResolvers = {
  // Internal (loans, allow.service): keyed by the loan, so a retried or raced return records one fine.
  recordOverdueFine: async (_parent, { input }, ctx) => {
    const { fine, created } = await ctx.fines.recordOverdueFine(input);
    if (created) await publishFineAssessed(ctx, fine, input.bookId.toLowerCase());
    return fine;
  },

  assessFine: async (_parent, { input }, ctx) => {
    const librarian = personActing(ctx);
    // A fine for an id that belongs to nobody could never be paid: ask the users service first.
    if (isUuid(input.userId) && !(await ctx.patrons.exists(input.userId.toLowerCase())))
      throw notFound('No user has this id. Check the patron you mean to fine.', { field: 'userId' });
    const fine = await ctx.fines.assessFine(input, librarian.userId);
    await publishFineAssessed(ctx, fine, null);
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
