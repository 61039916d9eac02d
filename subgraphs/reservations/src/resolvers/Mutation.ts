import { badInput, forbidden, hasRole, isUuid, notFound, requireViewer } from '@shelfwise/kit';
import type { MutationResolvers } from '../generated/graphql.js';

/** Pickup days loans may pass: a whole number of days, 1 to 60. */
const MAX_PICKUP_DAYS = 60;

export const Mutation: MutationResolvers = {
  reserveBook: async (_parent, { bookId }, { viewer, holds }) => {
    const me = requireViewer(viewer);
    if (!isUuid(bookId)) throw notFound(`There is no book with id "${bookId}" in the catalogue.`, { bookId });
    return holds.reserve(me.userId, bookId.toLowerCase());
  },

  cancelReservation: async (_parent, { id }, { viewer, holds, loaders }) => {
    const me = requireViewer(viewer);
    const hold = isUuid(id) ? await loaders.reservation.load(id.toLowerCase()) : null;
    // A patron may cancel only their own holds; staff any.
    if (!hold || (hold.userId !== me.userId && !hasRole(me, 'LIBRARIAN'))) {
      if (hold) throw forbidden('You can only cancel your own holds.');
      throw notFound(`There is no reservation with id "${id}".`, { reservationId: id });
    }
    return holds.cancel(hold);
  },

  routeReturnedCopy: async (_parent, { loanId, bookId, pickupDays }, { holds, defaultPickupDays }) => {
    if (!isUuid(loanId)) throw badInput(`"${loanId}" is not a valid loan id.`, { field: 'loanId' });
    if (!isUuid(bookId)) throw badInput(`"${bookId}" is not a valid book id.`, { field: 'bookId' });
    const days = pickupDays ?? defaultPickupDays;
    if (!Number.isInteger(days) || days < 1 || days > MAX_PICKUP_DAYS) {
      throw badInput(`pickupDays must be a whole number from 1 to ${MAX_PICKUP_DAYS}, got ${days}.`, { field: 'pickupDays' });
    }
    return holds.routeReturnedCopy(loanId.toLowerCase(), bookId.toLowerCase(), days);
  },

  fulfillHold: async (_parent, { reservationId, loanId }, { holds }) => {
    if (!isUuid(reservationId)) throw badInput(`"${reservationId}" is not a valid reservation id.`, { field: 'reservationId' });
    if (!isUuid(loanId)) throw badInput(`"${loanId}" is not a valid loan id.`, { field: 'loanId' });
    return holds.fulfill(reservationId.toLowerCase(), loanId.toLowerCase());
  },
};
