import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, startSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { UserRepository } from './data/UserRepository.js';
import { openUsersDatabase, type UsersDatabase } from './data/client.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface UsersHandle extends SubgraphHandle {
  database: UsersDatabase;
  users: UserRepository;
}

/** Starts the users subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<UsersHandle> {
  const logger = options.logger ?? createLogger('users');
  const clock = options.clock ?? new ServiceClock();
  const database = await openUsersDatabase({ ...options, logger });
  const users = new UserRepository(database.prisma);
  const handle = await startSubgraph({
    name: 'users',
    typeDefs,
    resolvers,
    port: options.port ?? 0,
    host: options.host,
    logger,
    context: async (req) => createContext(req, users, clock),
    ready: () => database.db.ping(),
    bus: options.bus,
    onStop: () => database.close(),
  });
  return { ...handle, database, users };
}
