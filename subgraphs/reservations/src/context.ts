import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { ReservationRepository } from './data/ReservationRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  clock: Clock;
  reservations: ReservationRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(reservations: ReservationRepository) {
  return {
    reservation: reservations.reservationLoader(),
    position: reservations.positionLoader(),
    holdQueueLength: reservations.holdQueueLengthLoader(),
  };
}

export function createContext(req: IncomingMessage, reservations: ReservationRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), service: serviceOf(req), clock, reservations, loaders: createLoaders(reservations) };
}
