import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { BookRepository } from './data/BookRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  clock: Clock;
  books: BookRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(books: BookRepository) {
  return {
    book: books.bookLoader(),
    copy: books.copyLoader(),
    copiesByBook: books.copiesByBookLoader(),
    counts: books.countsLoader(),
  };
}

export function createContext(req: IncomingMessage, books: BookRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), service: serviceOf(req), clock, books, loaders: createLoaders(books) };
}
