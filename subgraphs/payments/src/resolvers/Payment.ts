import type { PaymentResolvers } from '../generated/graphql.js';

// Who may see a payment is declared in access.ts (its payer or staff).
export const Payment: PaymentResolvers = {
  user: (payment) => ({ id: payment.userId }),
  fines: (payment, _args, { loaders }) => loaders.finesByPayment.load(payment.id),
  reference: (payment) => payment.providerReference,
  recordedBy: (payment) => (payment.recordedById ? { id: payment.recordedById } : null),
};
