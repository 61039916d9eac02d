import { readFileSync } from 'node:fs';
import {
  createLogger,
  getEnvNum,
  InMemoryBus,
  PeriodicJob,
  ServiceClock,
  serveSubgraph,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { NotificationConsumer, type ConsumerOptions } from './consumer.js';
import { createContext } from './context.js';
import { openNotificationsDatabase, type NotificationsDatabase } from './data/client.js';
import { NotificationRepository } from './data/NotificationRepository.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface NotificationsOptions extends ServiceOptions {
  consumer?: ConsumerOptions;
  /**
   * How long the record that an event was processed is kept (for deduplicating redeliveries); older ones
   * are deleted hourly. 0 keeps them forever. Default SHELFWISE_NOTIFICATIONS_PROCESSED_RETENTION_DAYS (30).
   */
  processedRetentionMs?: number;
}

export interface NotificationsHandle extends SubgraphHandle {
  database: NotificationsDatabase;
  notifications: NotificationRepository;
  /** Turns domain events from the bus into inbox entries (running between start and stop). */
  consumer: NotificationConsumer;
  /** Deletes processed-event records past the retention (hourly; `runNow()` for tests). */
  pruning: PeriodicJob<number>;
}

/**
 * Starts the notifications subgraph and its domain-event consumer (on `options.bus`; without one, an
 * in-process bus of its own that nothing else publishes on). `stop()` stops consuming, lets events being
 * processed finish, drains requests and closes the database.
 */
export async function start(options: NotificationsOptions = {}): Promise<NotificationsHandle> {
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
  const retentionMs = options.processedRetentionMs ?? getEnvNum('SHELFWISE_NOTIFICATIONS_PROCESSED_RETENTION_DAYS', 30) * DAY_MS;
  if (retentionMs < 0) throw new Error('The processed-event retention cannot be negative.');
  const pruning = new PeriodicJob(
    'notifications processed-event pruning',
    async () => (retentionMs > 0 ? notifications.pruneProcessedEvents(new Date(clock.now().getTime() - retentionMs)) : 0),
    retentionMs > 0 ? HOUR_MS : 0,
    logger,
  );
  const releaseBus = async () => {
    if (!options.bus) await bus.dispose();
  };
  try {
    await consumer.start();
    // One pass before start() returns (a failure is logged, not thrown), then hourly.
    if (retentionMs > 0) await pruning.runNow();
    pruning.start(false);
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
    pruning,
    stop() {
      stopping ??= (async () => {
        await pruning.stop();
        await consumer.stop();
        await handle.stop();
        await releaseBus();
      })();
      return stopping;
    },
  };
}
