import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { ReviewRepository } from './data/ReviewRepository.js';
import type { OtherServices } from './data/services.js';

/** What every request of this subgraph shares: the repository, the other services, the clock. */
export interface ReviewsDeps {
  reviews: ReviewRepository;
  services: OtherServices;
  clock: Clock;
}

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context extends ReviewsDeps {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders({ reviews, services }: ReviewsDeps) {
  return {
    review: reviews.reviewLoader(),
    rating: reviews.ratingLoader(),
    authorReviewCount: reviews.authorReviewCountLoader(),
    bookReviews: reviews.pageLoaders('book'),
    authorReviews: reviews.pageLoaders('author'),
    borrowed: services.borrowedLoader(),
  };
}

export function createContext(req: IncomingMessage, deps: ReviewsDeps): Context {
  return { ...deps, viewer: viewerOf(req), service: serviceOf(req), loaders: createLoaders(deps) };
}
