import type { IncomingMessage } from 'node:http';
import { viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { ReviewRepository } from './data/ReviewRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  clock: Clock;
  reviews: ReviewRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(reviews: ReviewRepository) {
  return {
    review: reviews.reviewLoader(),
    rating: reviews.ratingLoader(),
    authorReviewCount: reviews.authorReviewCountLoader(),
    bookReviews: reviews.pageLoaders('book'),
    authorReviews: reviews.pageLoaders('author'),
  };
}

export function createContext(req: IncomingMessage, reviews: ReviewRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), clock, reviews, loaders: createLoaders(reviews) };
}
