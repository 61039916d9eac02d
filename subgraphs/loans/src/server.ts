import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { LoanRepository } from './data/LoanRepository.js';
import { openLoansDatabase, type LoansDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface LoansHandle extends SubgraphHandle {
  database: LoansDatabase;
  loans: LoanRepository;
}

/** Starts the loans subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<LoansHandle> {
  const logger = options.logger ?? createLogger('loans');
  const clock = options.clock ?? new ServiceClock();
  const database = await openLoansDatabase({ ...options, logger });
  const loans = new LoanRepository(database.prisma);
  const handle = await serveSubgraph({
    name: 'loans',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, loans, clock),
  });
  return { ...handle, database, loans };
}
