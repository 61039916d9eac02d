import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { openNotificationsDatabase, type NotificationsDatabase } from './data/client.js';
import { NotificationRepository } from './data/NotificationRepository.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface NotificationsHandle extends SubgraphHandle {
  database: NotificationsDatabase;
  notifications: NotificationRepository;
}

/** Starts the notifications subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<NotificationsHandle> {
  const logger = options.logger ?? createLogger('notifications');
  const clock = options.clock ?? new ServiceClock();
  const database = await openNotificationsDatabase({ ...options, logger });
  const notifications = new NotificationRepository(database.prisma, clock);
  const handle = await serveSubgraph({
    name: 'notifications',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, notifications, clock),
  });
  return { ...handle, database, notifications };
}
