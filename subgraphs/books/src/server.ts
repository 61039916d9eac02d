import { readFileSync } from 'node:fs';
import {
  createLogger,
  getEnvNum,
  InMemoryBus,
  OutboxRelay,
  PeriodicJob,
  ServiceClock,
  serveSubgraph,
  type BookAvailabilityEvent,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { AvailabilityOutbox, publishAvailability, type AvailabilityEvents } from './availability.js';
import { createContext } from './context.js';
import { BookRepository } from './data/BookRepository.js';
import { CatalogRepository } from './data/CatalogRepository.js';
import { InventoryRepository } from './data/InventoryRepository.js';
import { openBooksDatabase, type BooksDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

const HOUR_MS = 60 * 60 * 1000;

export interface BooksOptions extends ServiceOptions {
  /**
   * How often the outbox relay looks for availability events left unpublished (by a crash, or a failed
   * publish), in ms; 0: never on a timer. Default SHELFWISE_BOOKS_RELAY_INTERVAL_SECONDS (5 s).
   */
  relayIntervalMs?: number;
  /** Relay each change's event right after its commit (default true; tests turn it off to simulate a crash). */
  relayAfterCommit?: boolean;
  /**
   * How long published events stay in the outbox, in ms (pruned hourly); 0: kept. Default
   * SHELFWISE_BOOKS_OUTBOX_RETENTION_HOURS (24 h).
   */
  outboxRetentionMs?: number;
}

export interface BooksHandle extends SubgraphHandle {
  database: BooksDatabase;
  books: BookRepository;
  catalog: CatalogRepository;
  inventory: InventoryRepository;
  /** The outbox of availability events (table BookEvent). */
  outbox: AvailabilityOutbox;
  /** The outbox relay (BOOK_AVAILABILITY_CHANGED rows to the `books.availability` channel). */
  relay: OutboxRelay<BookAvailabilityEvent>;
}

/**
 * Starts the books subgraph; `stop()` drains requests, stops the relay and closes the database. Every
 * change to a book's copies writes its availability event to the outbox in its transaction; the relay
 * publishes it on `options.bus` (default: a bus of this process) after the commit, at start and on a timer.
 */
export async function start(options: BooksOptions = {}): Promise<BooksHandle> {
  const logger = options.logger ?? createLogger('books');
  const clock = options.clock ?? new ServiceClock();
  const bus = options.bus ?? new InMemoryBus(logger);
  const database = await openBooksDatabase({ ...options, logger });
  const books = new BookRepository(database.prisma, database.db.adapter);
  const outbox = new AvailabilityOutbox(database.prisma, clock);
  const relay = new OutboxRelay<BookAvailabilityEvent>({
    name: 'books outbox',
    bus,
    batch: (limit, publish) => outbox.publishPending(limit, publish),
    emit: publishAvailability,
    logger,
    intervalMs: options.relayIntervalMs ?? getEnvNum('SHELFWISE_BOOKS_RELAY_INTERVAL_SECONDS', 5) * 1000,
  });
  const events: AvailabilityEvents = {
    record: (tx, bookIds) => outbox.record(tx, bookIds),
    afterCommit: options.relayAfterCommit === false ? () => Promise.resolve() : async () => void (await relay.runNow()),
  };
  const retentionMs = options.outboxRetentionMs ?? getEnvNum('SHELFWISE_BOOKS_OUTBOX_RETENTION_HOURS', 24) * HOUR_MS;
  const pruning = new PeriodicJob(
    'books outbox pruning',
    () => outbox.prune(new Date(clock.now().getTime() - retentionMs)),
    retentionMs > 0 ? Math.min(HOUR_MS, retentionMs) : 0,
    logger,
  );
  const catalog = new CatalogRepository(database.prisma, events, clock);
  const inventory = new InventoryRepository(database.prisma, events, clock, logger);
  const handle = await serveSubgraph({
    name: 'books',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database: {
      db: database.db,
      async close() {
        await Promise.all([relay.stop(), pruning.stop()]);
        await database.close();
      },
    },
    context: async (req) => createContext(req, { books, catalog, inventory }, clock),
  });
  // Events a previous instance committed and never relayed go out before start() returns (and then on
  // every tick): a change committed just before a crash is announced by the next instance.
  await relay.runNow();
  relay.start();
  pruning.start(false);
  return { ...handle, database, books, catalog, inventory, outbox, relay };
}
