import type { IncomingMessage } from 'node:http';
import { viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { FineRepository } from './data/FineRepository.js';
import type { PaymentRepository } from './data/PaymentRepository.js';

export interface Repositories {
  fines: FineRepository;
  payments: PaymentRepository;
}

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context extends Repositories {
  viewer: Viewer | null;
  clock: Clock;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders({ fines, payments }: Repositories) {
  return {
    fine: fines.fineLoader(),
    finesByUser: fines.finesByUserLoader(),
    balance: fines.balanceLoader(),
    paymentsByUser: payments.paymentsByUserLoader(),
    finesByPayment: payments.finesByPaymentLoader(),
  };
}

export function createContext(req: IncomingMessage, repositories: Repositories, clock: Clock): Context {
  return { viewer: viewerOf(req), clock, ...repositories, loaders: createLoaders(repositories) };
}
