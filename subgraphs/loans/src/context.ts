import type { IncomingMessage } from 'node:http';
import { viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { LoanRepository } from './data/LoanRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  clock: Clock;
  loans: LoanRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(loans: LoanRepository) {
  return {
    loan: loans.loanLoader(),
  };
}

export function createContext(req: IncomingMessage, loans: LoanRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), clock, loans, loaders: createLoaders(loans) };
}
