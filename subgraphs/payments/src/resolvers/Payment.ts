import type { PaymentResolvers } from '../generated/graphql.js';

// Payments are reached only through User.payments, which has already checked the viewer.
export const Payment: PaymentResolvers = {
  user: (payment) => ({ id: payment.userId }),
  fines: (payment, _args, { loaders }) => loaders.finesByPayment.load(payment.id),
};
