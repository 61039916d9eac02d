import { readFileSync } from 'node:fs';
import { createLogger, InMemoryBus, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { NotificationConsumer, type ConsumerOptions } from './consumer.js';
import { createContext } from './context.js';
import { openNotificationsDatabase, type NotificationsDatabase } from './data/client.js';
import { NotificationRepository } from './data/NotificationRepository.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface NotificationsHandle extends SubgraphHandle {
  database: NotificationsDatabase;
  notifications: NotificationRepository;
  /** Turns domain events from the bus into inbox entries (running between start and stop). */
  consumer: NotificationConsumer;
}

/**
 * Starts the notifications subgraph and its domain-event consumer (on `options.bus`; without one, an
 * in-process bus of its own that nothing else publishes on). `stop()` stops consuming, lets events being
 * processed finish, drains requests and closes the database.
 */
export async function start(options: ServiceOptions & { consumer?: ConsumerOptions } = {}): Promise<NotificationsHandle> {
  const logger = options.logger ?? createLogger('notifications');
  const clock = options.clock ?? new ServiceClock();
  const bus = options.bus ?? new InMemoryBus(logger);
  const database = await openNotificationsDatabase({ ...options, logger });
  const notifications = new NotificationRepository(database.prisma, clock);
  const handle = await serveSubgraph({
    name: 'notifications',
    typeDefs,
    resolvers,
    access,
    logger,
    service: { ...options, bus },
    database,
    context: async (req) => createContext(req, notifications, clock),
  });
  const consumer = new NotificationConsumer(bus, notifications, logger, options.consumer);
  const releaseBus = async () => {
    if (!options.bus) await bus.dispose();
  };
  try {
    await consumer.start();
  } catch (err) {
    await handle.stop().catch(() => undefined);
    await releaseBus();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...handle,
    database,
    notifications,
    consumer,
    stop() {
      stopping ??= (async () => {
        await consumer.stop();
        await handle.stop();
        await releaseBus();
      })();
      return stopping;
    },
  };
}
