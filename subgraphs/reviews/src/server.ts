import { readFileSync } from 'node:fs';
import {
  createLogger,
  ServiceClient,
  ServiceClock,
  serveSubgraph,
  subgraphDirectoryFromEnv,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { ReviewRepository } from './data/ReviewRepository.js';
import { openReviewsDatabase, type ReviewsDatabase } from './data/client.js';
import { OtherServices } from './data/services.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface ReviewsHandle extends SubgraphHandle {
  database: ReviewsDatabase;
  reviews: ReviewRepository;
}

/** Starts the reviews subgraph; `stop()` drains requests and closes the database. */
export async function start(options: ServiceOptions = {}): Promise<ReviewsHandle> {
  const logger = options.logger ?? createLogger('reviews');
  const clock = options.clock ?? new ServiceClock();
  const database = await openReviewsDatabase({ ...options, logger });
  const reviews = new ReviewRepository(database.prisma);
  // Internal calls: books (does a reviewed book exist?) and loans (verified borrowers).
  const services = new OtherServices(new ServiceClient('reviews', options.services ?? subgraphDirectoryFromEnv(), logger), logger);
  const handle = await serveSubgraph({
    name: 'reviews',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, { reviews, services, clock }),
  });
  return { ...handle, database, reviews };
}
