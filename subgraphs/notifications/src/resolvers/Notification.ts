import type { NotificationResolvers } from '../generated/graphql.js';

// Who may see a notification is declared in access.ts (its recipient only), also through `_entities`:
// the router resolves each new notification this way for the recipient's `notificationReceived`.
// The book, loan and reservation are references the router resolves in their own subgraphs.
export const Notification: NotificationResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.notification.load(ref.id),
  book: (notification) => (notification.bookId ? { id: notification.bookId } : null),
  loan: (notification) => (notification.loanId ? { id: notification.loanId } : null),
  reservation: (notification) => (notification.reservationId ? { id: notification.reservationId } : null),
};
