import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { ReservationRepository } from './data/ReservationRepository.js';
import type { QueueRepository } from './data/QueueRepository.js';
import type { HoldQueue } from './queue.js';

/** What every request shares: the clock, the repositories and the hold queue. */
export interface ReservationsServices {
  clock: Clock;
  reservations: ReservationRepository;
  queueRepository: QueueRepository;
  holds: HoldQueue;
  /** Pickup days when loans does not say (routeReturnedCopy's default). */
  defaultPickupDays: number;
}

/** Per-request context: who is asking, fresh DataLoaders, and the services. */
export interface Context extends ReservationsServices {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(reservations: ReservationRepository) {
  return {
    reservation: reservations.reservationLoader(),
    position: reservations.positionLoader(),
    holdQueueLength: reservations.holdQueueLengthLoader(),
    heldFor: reservations.heldForLoader(),
  };
}

export function createContext(req: IncomingMessage, services: ReservationsServices): Context {
  return { ...services, viewer: viewerOf(req), service: serviceOf(req), loaders: createLoaders(services.reservations) };
}
