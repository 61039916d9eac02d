import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { Circulation } from './circulation.js';
import type { UsersClient } from './clients.js';
import type { LoanRepository } from './data/LoanRepository.js';
import type { PolicyRepository } from './data/PolicyRepository.js';

/** What every request shares: the repositories, the sagas and the clock. */
export interface LoansServices {
  clock: Clock;
  loans: LoanRepository;
  policies: PolicyRepository;
  circulation: Circulation;
  /** Accounts, for the desk: the patron must exist, and borrows under their role's policy. */
  users: UsersClient;
}

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context extends LoansServices {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(services: LoansServices) {
  return {
    loan: services.loans.loanLoader(),
    userLoans: services.loans.userLoansLoader(services.clock.now()),
    policy: services.policies.loader(),
  };
}

export function createContext(req: IncomingMessage, services: LoansServices): Context {
  return { ...services, viewer: viewerOf(req), service: serviceOf(req), loaders: createLoaders(services) };
}
