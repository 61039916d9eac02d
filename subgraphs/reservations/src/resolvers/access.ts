import { allow, type AccessRules } from '@shelfwise/kit';
import type { ReservationModel, UserModel } from '../mappers.js';

/** Who may see each field of this subgraph; the kit enforces it on every path (see kit/src/access.ts). */
export const access: AccessRules = {
  // Internal (@inaccessible): only other subgraphs, with a service credential (loans, for renewals).
  Query: { waitingHoldCount: allow.service, readyHoldFor: allow.service, holdQueue: allow.librarian },
  // A patron places holds for themselves; cancelReservation checks the hold's owner (or staff) on the
  // hold it loads. routeReturnedCopy and fulfillHold are internal (loans).
  Mutation: {
    reserveBook: allow.signedIn,
    cancelReservation: allow.signedIn,
    routeReturnedCopy: allow.service,
    fulfillHold: allow.service,
  },
  RoutedCopy: { '*': allow.service },
  // A reservation is personal data: its patron or staff, whether reached by a list or through `_entities`
  // (where anonymous callers are refused before the lookup, so they cannot probe which ids exist).
  Reservation: { '*': allow.ownerOrLibrarian<ReservationModel>((reservation) => reservation.userId) },
  // A user reference is only an id; the reservations hanging off it are the user's own or staff's.
  User: {
    __resolveReference: allow.public,
    id: allow.public,
    reservations: allow.ownerOrLibrarian<UserModel>((user) => user.id),
  },
  // The hold queue LENGTH is catalogue information, public like availability (API.md); who is in the
  // queue is for staff.
  Book: { '*': allow.public, holdQueue: allow.librarian },
  // A copy reference is only an id; which patron its hold-shelf place is for is for staff (the desk).
  Copy: { __resolveReference: allow.public, id: allow.public, heldFor: allow.librarian },
  // Pages carry nothing of their own: the field that returns them decides.
  ReservationConnection: { '*': allow.public },
  ReservationEdge: { '*': allow.public },
  PageInfo: { '*': allow.public },
};
