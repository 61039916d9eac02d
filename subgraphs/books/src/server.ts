import { readFileSync } from 'node:fs';
import { createLogger, ServiceClock, serveSubgraph, type ServiceOptions, type SubgraphHandle } from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { BookRepository } from './data/BookRepository.js';
import { openBooksDatabase, type BooksDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface BooksHandle extends SubgraphHandle {
  database: BooksDatabase;
  books: BookRepository;
}

/** Starts the books subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<BooksHandle> {
  const logger = options.logger ?? createLogger('books');
  const clock = options.clock ?? new ServiceClock();
  const database = await openBooksDatabase({ ...options, logger });
  const books = new BookRepository(database.prisma);
  const handle = await serveSubgraph({
    name: 'books',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, books, clock),
  });
  return { ...handle, database, books };
}
