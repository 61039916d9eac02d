import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { openPaymentsDatabase, type PaymentsDatabase } from './data/client.js';
import { FineRepository } from './data/FineRepository.js';
import { PaymentRepository } from './data/PaymentRepository.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface PaymentsHandle extends SubgraphHandle {
  database: PaymentsDatabase;
  fines: FineRepository;
  payments: PaymentRepository;
}

/** Starts the payments subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<PaymentsHandle> {
  const logger = options.logger ?? createLogger('payments');
  const clock = options.clock ?? new ServiceClock();
  const database = await openPaymentsDatabase({ ...options, logger });
  const fines = new FineRepository(database.prisma, clock);
  const payments = new PaymentRepository(database.prisma, clock);
  const handle = await serveSubgraph({
    name: 'payments',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, { fines, payments }, clock),
  });
  return { ...handle, database, fines, payments };
}
