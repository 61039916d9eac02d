import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { ReservationRepository } from './data/ReservationRepository.js';
import { openReservationsDatabase, type ReservationsDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface ReservationsHandle extends SubgraphHandle {
  database: ReservationsDatabase;
  reservations: ReservationRepository;
}

/** Starts the reservations subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<ReservationsHandle> {
  const logger = options.logger ?? createLogger('reservations');
  const clock = options.clock ?? new ServiceClock();
  const database = await openReservationsDatabase({ ...options, logger });
  const reservations = new ReservationRepository(database.prisma);
  const handle = await serveSubgraph({
    name: 'reservations',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, reservations, clock),
  });
  return { ...handle, database, reservations };
}
