import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type EventBus, type Logger, type Viewer } from '@shelfwise/kit';
import type { FineRepository } from './data/FineRepository.js';
import type { PaymentRepository } from './data/PaymentRepository.js';
import type { MoneyConfig } from './money.js';
import type { PatronDirectory } from './patrons.js';

export interface Repositories {
  fines: FineRepository;
  payments: PaymentRepository;
}

/** What every request shares: the repositories and the service's collaborators. */
export interface Services extends Repositories {
  clock: Clock;
  bus: EventBus;
  money: MoneyConfig;
  /** Answers whether a patron exists (the users service). */
  patrons: PatronDirectory;
  logger: Logger;
  /** Relays the outbox now (after a commit that recorded an event); failures are logged and retried on a timer. */
  relayEvents: () => Promise<number>;
}

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context extends Services {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders({ fines, payments }: Repositories) {
  return {
    fine: fines.fineLoader(),
    finesByUser: fines.finesByUserLoader(),
    balance: fines.balanceLoader(),
    waiverByFine: fines.waiverByFineLoader(),
    paymentsByUser: payments.paymentsByUserLoader(),
    finesByPayment: payments.finesByPaymentLoader(),
  };
}

/**
 * An internal call (loans recording an overdue fine) reads back the fine it recorded, whose fields the
 * access rules give only to its owner or staff. Until the kit's owner rules know about services, such a
 * call acts as staff here; it can reach only what a service credential may call anyway (the @inaccessible
 * operations and the fields of what they return), and the librarian mutations refuse services outright.
 */
const SERVICE_VIEWER_ROLE = 'LIBRARIAN' as const;

export function createContext(req: IncomingMessage, services: Services): Context {
  const service = serviceOf(req);
  const viewer = service ? { userId: `service:${service}`, role: SERVICE_VIEWER_ROLE } : viewerOf(req);
  return { ...services, viewer, service, loaders: createLoaders(services) };
}
