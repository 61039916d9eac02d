import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { AvailabilityPublisher } from './availability.js';
import { createContext } from './context.js';
import { BookRepository } from './data/BookRepository.js';
import { CatalogRepository } from './data/CatalogRepository.js';
import { InventoryRepository } from './data/InventoryRepository.js';
import { openBooksDatabase, type BooksDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface BooksHandle extends SubgraphHandle {
  database: BooksDatabase;
  books: BookRepository;
  catalog: CatalogRepository;
  inventory: InventoryRepository;
}

/**
 * Starts the books subgraph; `stop()` drains requests and closes the database. Availability changes are
 * published on `options.bus` (none when it is not given).
 */
export async function start(options: ServiceOptions = {}): Promise<BooksHandle> {
  const logger = options.logger ?? createLogger('books');
  const clock = options.clock ?? new ServiceClock();
  const database = await openBooksDatabase({ ...options, logger });
  const books = new BookRepository(database.prisma);
  // Counts for an event come from a fresh loader: the same grouped count `totalCopies` uses, after the commit.
  const availability = new AvailabilityPublisher((bookId) => books.countsLoader().load(bookId), options.bus, clock, logger);
  const catalog = new CatalogRepository(database.prisma, availability, clock);
  const inventory = new InventoryRepository(database.prisma, availability, clock, logger);
  const handle = await serveSubgraph({
    name: 'books',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, { books, catalog, inventory }, clock),
  });
  return { ...handle, database, books, catalog, inventory };
}
