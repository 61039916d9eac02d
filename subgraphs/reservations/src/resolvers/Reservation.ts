import { requireSelfOrRole, requireViewer } from '@shelfwise/kit';
import type { ReservationResolvers } from '../generated/graphql.js';

export const Reservation: ReservationResolvers = {
  // A reservation reached through the router (`_entities`) is personal data: only its patron or staff
  // may see it. Anonymous callers are refused before the lookup, so they cannot probe which ids exist.
  __resolveReference: async (ref, { viewer, loaders }) => {
    requireViewer(viewer);
    const reservation = await loaders.reservation.load(ref.id);
    if (reservation) requireSelfOrRole(viewer, reservation.userId, 'LIBRARIAN');
    return reservation;
  },
  user: (reservation) => ({ id: reservation.userId }),
  book: (reservation) => ({ id: reservation.bookId }),
  position: (reservation, _args, { loaders }) => (reservation.status === 'WAITING' ? loaders.position.load(reservation.id) : null),
};
