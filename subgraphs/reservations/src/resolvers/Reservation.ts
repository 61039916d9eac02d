import type { ReservationResolvers } from '../generated/graphql.js';

export const Reservation: ReservationResolvers = {
  // Who may see a reservation is declared in access.ts (its patron or staff, checked on the reservation found).
  __resolveReference: (ref, { loaders }) => loaders.reservation.load(ref.id),
  user: (reservation) => ({ id: reservation.userId }),
  book: (reservation) => ({ id: reservation.bookId }),
  position: (reservation, _args, { loaders }) => (reservation.status === 'WAITING' ? loaders.position.load(reservation.id) : null),
};
